"""Logical ids of a synthesized stack's resources, found by their construct path."""

from __future__ import annotations

from aws_cdk import Stack

from overcast.aws.stack import ServiceStack


def logical_id(stack: ServiceStack, *path: str) -> str:
    """The id of the resource behind the construct at ``path`` (``"Messaging", "QueueWork"``)."""
    construct = stack.node.find_child(path[0])
    for part in path[1:]:
        construct = construct.node.find_child(part)
    resource = construct.node.default_child
    assert resource is not None
    return str(Stack.of(stack).resolve(resource.logical_id))  # type: ignore[attr-defined]

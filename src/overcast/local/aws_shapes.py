"""The JSON types of an AWS JSON-protocol API's parameters, checked against botocore's
service model (shared by the SQS and DynamoDB APIs).

A JSON-protocol service reads each request into the operation's input shape, so a
value of the wrong JSON type (``"MessageGroupId": 7``, ``"Attributes": []``) fails the
whole request with 400 before the operation runs, and changes nothing. The shapes are
botocore's (the model every SDK serializes with), loaded once per service, on first
use. Only types are checked here; ranges, required members and names stay with the
operations, which answer them with the service's specific errors.

- structure: a JSON object (members the model does not know are ignored);
- list: an array; map: an object of string keys;
- string, and blob (base64 text on the JSON wire): a string;
- integer/long: a number without fraction (not ``true``/``false``); boolean: a boolean.

``null`` stands for an absent member, as SDKs never send it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from botocore.loaders import Loader
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape

Refusal = Callable[[str], Exception]
_SCALARS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "blob": (str,),
    "integer": (int,),
    "long": (int,),
    "boolean": (bool,),
    "float": (int, float),
    "double": (int, float),
    "timestamp": (int, float, str),
}
_NAMES = {"structure": "an object", "map": "an object", "list": "a list", "blob": "a string"}


@cache
def _model(service: str) -> ServiceModel:
    return ServiceModel(Loader().load_service_model(service, "service-2"), service)


def check(service: str, operation: str, params: Mapping[str, Any], refuse: Refusal) -> None:
    """Raise ``refuse(message)`` for the first parameter of ``operation`` whose JSON type
    is not its shape's."""
    shape = _model(service).operation_model(operation).input_shape
    if shape is not None:
        _check(shape, params, "", refuse)


def _check(shape: Shape, value: Any, path: str, refuse: Refusal) -> None:
    if value is None:
        return
    if not _is_type(shape, value):
        kind = _NAMES.get(shape.type_name, f"a {shape.type_name}")
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise refuse(
            f"Value {shown} for parameter {path or 'the request'} is invalid. "
            f"Reason: it must be {kind}."
        )
    if isinstance(shape, StructureShape):
        for name, member in shape.members.items():
            _check(member, value.get(name), _join(path, name), refuse)
    elif isinstance(shape, ListShape):
        for index, item in enumerate(value):
            _check(shape.member, item, f"{path}.{index + 1}", refuse)
    elif isinstance(shape, MapShape):
        for key, item in value.items():
            _check(shape.value, item, _join(path, key), refuse)


def _is_type(shape: Shape, value: Any) -> bool:
    if shape.type_name in ("structure", "map"):
        return isinstance(value, dict)
    if shape.type_name == "list":
        return isinstance(value, list)
    if shape.type_name != "boolean" and isinstance(value, bool):
        return False  # JSON's true/false is no number
    return isinstance(value, _SCALARS.get(shape.type_name, (object,)))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name

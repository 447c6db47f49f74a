"""The ``context`` object a Python Lambda handler receives, with Lambda's attributes.

Mirrors the Lambda Python runtime's context (developer guide, "Lambda context object
in Python"): ``function_name``, ``function_version``, ``invoked_function_arn``,
``memory_limit_in_mb``, ``aws_request_id``, ``log_group_name``, ``log_stream_name``,
``identity`` and ``client_context`` (``None`` unless invoked by a mobile SDK),
``tenant_id`` (``None`` without tenant isolation) and
``get_remaining_time_in_millis()``, computed here from an injected clock and the
invocation's deadline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class LambdaContext:
    """One invocation's context. ``clock`` is monotonic seconds; ``deadline`` on that clock."""

    __slots__ = (
        "_clock",
        "_deadline",
        "aws_request_id",
        "client_context",
        "function_name",
        "function_version",
        "identity",
        "invoked_function_arn",
        "log_group_name",
        "log_stream_name",
        "memory_limit_in_mb",
        "tenant_id",
    )

    def __init__(
        self,
        *,
        function_name: str,
        invoked_function_arn: str,
        memory_limit_in_mb: int,
        aws_request_id: str,
        log_stream_name: str,
        deadline: float,
        clock: Callable[[], float],
        function_version: str = "$LATEST",
        identity: Any = None,
        client_context: Any = None,
    ) -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = aws_request_id
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = log_stream_name
        self.identity = identity
        self.client_context = client_context
        self.tenant_id: str | None = None
        self._deadline = deadline
        self._clock = clock

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout (never negative)."""
        return max(0, int((self._deadline - self._clock()) * 1000))

    def __repr__(self) -> str:
        return (
            f"LambdaContext(function_name={self.function_name!r}, "
            f"aws_request_id={self.aws_request_id!r})"
        )

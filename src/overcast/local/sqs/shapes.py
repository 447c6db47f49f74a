"""The JSON types of SQS's parameters, checked against botocore's SQS service model
(:mod:`overcast.local.aws_shapes`): a value of the wrong JSON type is 400
``InvalidParameterValue``, before the operation runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from overcast.local import aws_shapes
from overcast.local.sqs import errors


def check(operation: str, params: Mapping[str, Any]) -> None:
    """Raise ``InvalidParameterValue`` for the first parameter of ``operation`` whose
    JSON type is not its shape's."""
    aws_shapes.check("sqs", operation, params, errors.InvalidParameterValue)

"""The JSON types of SQS's parameters, checked against botocore's SQS service model.

SQS's JSON protocol reads each request into the operation's input shape, so a value of
the wrong JSON type (``"MessageGroupId": 7``, ``"Attributes": []``) fails the whole
request with 400 ``InvalidParameterValue`` before the operation runs, and changes
nothing. The shapes are botocore's (the model every SDK serializes with), loaded once,
on first use. Only types are checked here; ranges, required members and names stay
with the operations, which answer them with SQS's specific errors.

- structure: a JSON object (members the model does not know are ignored);
- list: an array; map: an object of string keys;
- string, and blob (base64 text on the JSON wire): a string;
- integer/long: a number without fraction (not ``true``/``false``); boolean: a boolean.

``null`` stands for an absent member, as SDKs never send it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from botocore.loaders import Loader
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape

from overcast.local.sqs import errors

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
def _model() -> ServiceModel:
    return ServiceModel(Loader().load_service_model("sqs", "service-2"), "sqs")


def check(operation: str, params: Mapping[str, Any]) -> None:
    """Raise ``InvalidParameterValue`` for the first parameter of ``operation`` whose
    JSON type is not its shape's."""
    shape = _model().operation_model(operation).input_shape
    if shape is not None:
        _check(shape, params, "")


def _check(shape: Shape, value: Any, path: str) -> None:
    if value is None:
        return
    if not _is_type(shape, value):
        kind = _NAMES.get(shape.type_name, f"a {shape.type_name}")
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise errors.InvalidParameterValue(
            f"Value {shown} for parameter {path or 'the request'} is invalid. "
            f"Reason: it must be {kind}."
        )
    if isinstance(shape, StructureShape):
        for name, member in shape.members.items():
            _check(member, value.get(name), _join(path, name))
    elif isinstance(shape, ListShape):
        for index, item in enumerate(value):
            _check(shape.member, item, f"{path}.{index + 1}")
    elif isinstance(shape, MapShape):
        for key, item in value.items():
            _check(shape.value, item, _join(path, key))


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

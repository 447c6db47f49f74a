"""The table port's and the expressions' errors as DynamoDB's (messages kept)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from overcast.local.dynamodb import errors
from overcast.local.dynamodb.expressions import ExpressionError
from overcast.ports.tables.exceptions import (
    ConditionFailed,
    InvalidCursor,
    InvalidItem,
    TableUnavailable,
)

T = TypeVar("T")


@contextmanager
def translated() -> Iterator[None]:
    """Re-raise the port's and the expressions' errors as DynamoDB's."""
    try:
        yield
    except ExpressionError as error:
        raise errors.ValidationException(str(error)) from None
    except ConditionFailed:
        raise errors.ConditionalCheckFailed() from None
    except InvalidCursor as error:
        raise errors.ValidationException(f"The provided starting key is invalid: {error}") from None
    except InvalidItem as error:
        raise errors.ValidationException(
            f"One or more parameter values were invalid: {error}"
        ) from None
    except TableUnavailable as error:
        raise errors.ServiceUnavailable(str(error)) from None


def call(action: Callable[[], T]) -> T:
    with translated():
        return action()

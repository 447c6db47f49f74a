"""Powertools' batch processing, as each of the blog's triggered functions uses it.

Every trigger of the blog (``events`` and ``welcome`` on the table's stream, ``pages``
and ``newsletter`` on their queues) reports ``ReportBatchItemFailures``: Powertools'
``BatchProcessor`` hands each record to the function's record handler on its own and
answers ``{"batchItemFailures": [...]}`` with the records whose handler raised, so
only they are retried (on a stream, they and the records after them, in order).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)


def process_batch(
    event: dict[str, Any],
    context: Any,
    handle_record: Callable[[Any], object],
    event_type: EventType,
) -> dict[str, Any]:
    """Each record of ``event`` through ``handle_record``; the partial batch response."""
    processor = BatchProcessor(event_type=event_type)
    return dict(process_partial_response(event, handle_record, processor, context))

"""Backoff and log lines for a dispatcher whose polls fail.

A stream that cannot be read (a DynamoDB endpoint that is down, a table being
recreated) must neither stop its trigger nor flood the log. As Lambda's event source
mapping keeps retrying a stream it cannot read, the dispatcher keeps polling, waiting
longer after each failure in a row (doubling from ``first_delay`` up to ``max_delay``),
and says so once:

- one warning when polls start failing (the reason; a traceback only for an
  unexpected exception, once per run of failures: a
  :class:`~overcast.ports.tables.exceptions.TableUnavailable` is an expected outage);
- one info line when a poll works again, with how many failed.
"""

from __future__ import annotations

import logging

from overcast.ports.tables.exceptions import TableUnavailable

logger = logging.getLogger("overcast.local.streams.dispatcher")

FIRST_DELAY_SECONDS = 0.25
MAX_DELAY_SECONDS = 30.0


class PollErrors:
    """The failures in a row of one trigger's polls: how long to wait, what to log."""

    def __init__(
        self,
        trigger_id: str,
        *,
        first_delay: float = FIRST_DELAY_SECONDS,
        max_delay: float = MAX_DELAY_SECONDS,
    ) -> None:
        self.trigger_id = trigger_id
        self.failures = 0
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._traced = False

    def failed(self, error: Exception) -> float:
        """Count a failed poll, log it if it is news; how long to wait before the next."""
        self.failures += 1
        expected = isinstance(error, TableUnavailable)
        if self.failures == 1:
            logger.warning(
                "Stream trigger %s: polling failed (%s); retrying with backoff up to %g s",
                self.trigger_id,
                error if expected else f"{type(error).__name__}: {error}",
                self._max_delay,
                exc_info=None if expected else error,
            )
        elif not expected and not self._traced:
            logger.warning(
                "Stream trigger %s: polling failed unexpectedly", self.trigger_id, exc_info=error
            )
        self._traced = self._traced or not expected
        return float(min(self._max_delay, self._first_delay * 2 ** min(self.failures - 1, 32)))

    def succeeded(self) -> None:
        """A poll worked: log the recovery if polls were failing, and start afresh."""
        if self.failures:
            logger.info(
                "Stream trigger %s: polling works again after %d failed attempts",
                self.trigger_id,
                self.failures,
            )
        self.failures = 0
        self._traced = False

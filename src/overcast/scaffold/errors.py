"""The one error of the scaffolder: a service it will not create, and why."""

from __future__ import annotations


class ScaffoldError(Exception):
    """The service cannot be created as asked; nothing was written. The message says
    what is wrong and what to do."""

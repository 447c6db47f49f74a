"""Build a function's dependencies once per execution environment (its cold start)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

from overcast.runtime.config import RuntimeConfig, function_environment

T = TypeVar("T")


class ColdStart(Generic[T]):
    """Calls ``build(RuntimeConfig)`` on first use and returns the result ever after.

    Nothing connects at import time: a handler module declares
    ``dependencies = ColdStart(bootstrap)`` and calls ``dependencies()`` inside its
    handler. Locally, where several functions may share a module, each function's
    environment gets its own build.
    """

    def __init__(self, build: Callable[[RuntimeConfig], T]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._built: dict[int, tuple[Mapping[str, str], T]] = {}

    def __call__(self) -> T:
        environ = function_environment()
        found = self._built.get(id(environ))
        if found is not None and found[0] is environ:
            return found[1]
        with self._lock:
            found = self._built.get(id(environ))
            if found is None or found[0] is not environ:
                found = (environ, self._build(RuntimeConfig.from_environ(environ)))
                self._built[id(environ)] = found
            return found[1]

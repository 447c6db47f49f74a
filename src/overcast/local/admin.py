"""The local cloud's own admin API, on the AWS endpoint under ``/_overcast/``.

What ``overcast stats`` and ``overcast flush-stage-cache`` ask the running cloud:

- ``GET /_overcast/stats`` → per service, the stage cache (entries, bytes, capacity,
  and each cached route's hits, misses, evictions and invalidations) and the read
  caches (per table, the item and query caches' counters, summed over the function's
  execution environments).
- ``POST /_overcast/stage-cache/flush?service=<name>`` → every entry of the service's
  stage cache dropped, as API Gateway's ``FlushStageCache``: ``{"service", "flushed"}``.
- ``POST /_overcast/cdn/invalidate`` with ``{"distribution": "<service>/<name>",
  "paths": [...]}`` → a CloudFront invalidation made as the account's root user (so
  ``ListInvalidations`` shows it): ``{"id", "removed"}``. The CDN's figures are in
  ``GET /_overcast/stats`` under ``distributions``.

Every request must carry ``Authorization: Bearer <token>``: the random token the
cloud writes to ``<data dir>/admin-token`` (mode 0600) at each start, so only who can
read the data directory can use the API, and a token outlives no run. Anything else
is 401, before the request is even routed.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from overcast.local.functions.stats import ReadCacheStats
from overcast.local.gateway.stagecache import StageCache

TOKEN_FILE = "admin-token"
STATS_PATH = "/_overcast/stats"
FLUSH_PATH = "/_overcast/stage-cache/flush"
INVALIDATE_PATH = "/_overcast/cdn/invalidate"


class CdnAdmin(Protocol):
    """What the admin API asks of the running distributions."""

    def stats(self) -> dict[str, dict[str, Any]]:
        """Each distribution's figures, by ``service/name``."""
        ...

    def invalidate(self, label: str, paths: list[str]) -> dict[str, Any]:
        """Invalidate ``paths`` of ``label``: ``{"id", "removed"}``; raises
        :class:`AdminRefusal` with a message for the caller."""
        ...


class AdminRefusal(Exception):
    """A request the admin API refuses, with the reason (answered 400 or 404)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def write_admin_token(data_dir: Path) -> str:
    """A fresh token, written where only the data directory's owner can read it."""
    token = secrets.token_urlsafe(32)
    path = data_dir / TOKEN_FILE
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(token)
    temporary.replace(path)
    return token


@dataclass(frozen=True)
class ServiceCaches:
    """What the admin API can see of one running service: its default stage's cache,
    every stage's (by stage name; one entry for an API of one stage), its read caches."""

    stage_cache: StageCache | None
    read_caches: ReadCacheStats
    stage_caches: Mapping[str, StageCache] = field(default_factory=dict)


class AdminApp:
    """The ``/_overcast/`` ASGI app, for requests bearing ``token``."""

    def __init__(
        self, token: str, services: Mapping[str, ServiceCaches], cdn: CdnAdmin | None = None
    ) -> None:
        self._token = token.encode()
        self._services = services
        self._cdn = cdn

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        response = await self._answer(Request(scope, receive))
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> JSONResponse:
        if not self._authorized(request.headers.get("authorization", "")):
            return _error(401, "Send the token in <data dir>/admin-token as a Bearer token.")
        route = (request.method, request.url.path)
        if route == ("GET", STATS_PATH):
            distributions = self._cdn.stats() if self._cdn else {}
            return JSONResponse({"services": await self._stats(), "distributions": distributions})
        if route == ("POST", FLUSH_PATH):
            query = request.query_params
            return self._flush(query.get("service", ""), query.get("stage"))
        if route == ("POST", INVALIDATE_PATH):
            return await self._invalidate(request)
        return _error(404, f"No admin operation {request.method} {request.url.path}.")

    def _authorized(self, header: str) -> bool:
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), self._token
        )

    async def _stats(self) -> dict[str, Any]:
        return {
            name: {
                "stage_cache": caches.stage_cache.stats() if caches.stage_cache else None,
                "stages": {stage: cache.stats() for stage, cache in caches.stage_caches.items()},
                "read_caches": await caches.read_caches.collect(),
            }
            for name, caches in sorted(self._services.items())
        }

    def _flush(self, service: str, stage: str | None) -> JSONResponse:
        """FlushStageCache is per stage: the one named, else the API's default stage."""
        caches = self._services.get(service)
        if caches is None or not _has_cache(caches):
            known = sorted(name for name, each in self._services.items() if _has_cache(each))
            return _error(404, f"No service {service!r} with a stage cache; there are {known}.")
        cache = caches.stage_cache if stage is None else caches.stage_caches.get(stage)
        if cache is None:
            stages = sorted(caches.stage_caches)
            named = "its default stage" if stage is None else f"no stage {stage!r}"
            return _error(404, f"The {service} API has {named} with a cache: {stages}.")
        return JSONResponse({"service": service, "flushed": cache.flush()})

    async def _invalidate(self, request: Request) -> JSONResponse:
        try:
            body = json.loads(await request.body())
            label, paths = body["distribution"], body["paths"]
            if not isinstance(label, str) or not isinstance(paths, list):
                raise TypeError
            if not all(isinstance(path, str) for path in paths):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return _error(400, 'Send {"distribution": "service/name", "paths": ["/..."]}.')
        if self._cdn is None:
            return _error(404, "This cloud serves no distribution.")
        try:
            return JSONResponse(self._cdn.invalidate(label, paths))
        except AdminRefusal as refusal:
            return _error(refusal.status, str(refusal))


def _has_cache(caches: ServiceCaches) -> bool:
    """A cache on any stage: a stage of its own may cache while the default does not."""
    return caches.stage_cache is not None or bool(caches.stage_caches)


def _error(status: int, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"message": message}, status, headers)


class AdminError(Exception):
    """The admin API refused a request, or could not be reached."""


class AdminClient:
    """Calls the admin API of the cloud running with ``data_dir`` at ``url``."""

    def __init__(self, url: str, data_dir: Path, ca_bundle: str) -> None:
        self._url = url.rstrip("/")
        self._token = (data_dir / TOKEN_FILE).read_text(encoding="ascii").strip()
        self._tls = ssl.create_default_context(cafile=ca_bundle)

    def stats(self) -> dict[str, Any]:
        """``{"services": ..., "distributions": ...}``: every cache's figures."""
        return self._call("GET", STATS_PATH)

    def invalidate(self, distribution: str, paths: list[str]) -> dict[str, Any]:
        body = {"distribution": distribution, "paths": paths}
        return self._call("POST", INVALIDATE_PATH, body)

    def flush_stage_cache(self, service: str, stage: str | None = None) -> int:
        query = {"service": service} | ({"stage": stage} if stage else {})
        flushed: int = self._call("POST", f"{FLUSH_PATH}?{urllib.parse.urlencode(query)}")[
            "flushed"
        ]
        return flushed

    def _call(self, method: str, path: str, body: object = None) -> dict[str, Any]:
        request = urllib.request.Request(
            self._url + path,
            method=method,
            headers={"Authorization": f"Bearer {self._token}"},
            data=None if body is None else json.dumps(body).encode(),
        )
        try:
            with urllib.request.urlopen(request, context=self._tls, timeout=30) as answer:
                answered: dict[str, Any] = json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            raise AdminError(json.loads(exc.read() or b"{}").get("message", str(exc))) from exc
        except OSError as exc:
            raise AdminError(f"The local cloud at {self._url} did not answer: {exc}") from exc
        return answered

"""Every declared distribution, running: origins, stores, edges and their listeners.

``overcast up`` builds one :class:`~overcast.local.cdn.edge.Edge` per distribution,
each on its own HTTPS listener (CloudFront gives each distribution its own domain), with
its cache under ``<data dir>/cdn/<distribution id>/``. Origins:

- a :class:`~overcast.spec.BucketOrigin` is read through the AWS endpoint's S3 API,
  signed as CloudFront's service principal for this distribution (origin access
  control: the bucket's policy allows exactly that);
- the :class:`~overcast.spec.ApiOrigin` is the service's API stage, over HTTPS;
- an :class:`~overcast.spec.HttpOrigin` is its ``url``, or the app its
  ``local_command`` starts (see :mod:`overcast.local.origin_processes`).
"""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from overcast import spec
from overcast.local import servers
from overcast.local.admin import AdminRefusal
from overcast.local.auth.sigv4 import Credentials
from overcast.local.cdn.edge import Edge
from overcast.local.cdn.http_server import EdgeServer
from overcast.local.cdn.origins import BucketOriginClient, HttpOriginClient, OriginClient
from overcast.local.cdn.store import EdgeStore
from overcast.local.cloudfront.errors import CloudFrontError
from overcast.local.cloudfront.ids import distribution_arn, distribution_id
from overcast.local.cloudfront.operations import CloudFrontOperations
from overcast.local.cloudfront.xml import Batch
from overcast.local.iam.principals import Principal
from overcast.local.origin_processes import OriginProcess

DEFAULT_CACHE_BYTES = 2 * 1024**3


@dataclass
class RunningEdge:
    """One distribution being served."""

    service: str
    distribution: spec.Distribution
    id: str
    arn: str
    edge: Edge
    listener: servers.Listener
    host: str
    server: EdgeServer | None = None

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.listener.port}"


@dataclass
class OriginContext:
    """What origins of one service need to be reached."""

    service: spec.Service
    buckets: Mapping[str, str]  # declared name -> S3 name
    api_url: str | None
    aws_url: str
    cdn_credentials: Credentials
    region: str
    account_id: str
    ca_bundle: str


@dataclass
class CloudEdges:
    """The distributions of every service: built before serving, started, stopped."""

    data_dir: Path
    host: str
    cache_bytes: int = DEFAULT_CACHE_BYTES
    edges: list[RunningEdge] = field(default_factory=list)
    origin_apps: list[OriginProcess] = field(default_factory=list)
    # For invalidations asked through the admin API (`overcast cdn invalidate`).
    cloudfront: CloudFrontOperations | None = None
    root: Principal | None = None
    _reserved: dict[tuple[str, str], servers.Listener] = field(default_factory=dict)

    def reserve(self, declared: list[spec.Service], port_for: Callable[[str, int], int]) -> None:
        """Bind each distribution's port up front (``--ports auto`` knows every URL)."""
        keys = sorted(
            (service.name, distribution.name)
            for service in declared
            for distribution in service.distributions
        )
        for position, key in enumerate(keys):
            label = "/".join(key)
            self._reserved[key] = servers.bind(
                f"the {label} distribution", self.host, port_for(label, position)
            )

    def urls(self, service: str) -> dict[str, str]:
        """The URL of each distribution of ``service``, by name (known once reserved)."""
        return {
            name: f"https://{self.host}:{listener.port}"
            for (owner, name), listener in self._reserved.items()
            if owner == service
        }

    async def build(self, context: OriginContext) -> list[RunningEdge]:
        """Start the service's origin apps and build its edges (not yet serving)."""
        built = []
        for distribution in context.service.distributions:
            origins = {
                origin: await self._origin_client(origin, distribution, context)
                for origin in distribution.origins
            }
            ident = distribution_id(context.service.name, distribution.name)
            store = EdgeStore(self.data_dir / "cdn" / ident, max_bytes=self.cache_bytes)
            store.recover()
            running = RunningEdge(
                service=context.service.name,
                distribution=distribution,
                id=ident,
                arn=distribution_arn(context.account_id, ident),
                edge=Edge(distribution, origins, store, distribution_id=ident),
                listener=self._reserved[(context.service.name, distribution.name)],
                host=self.host,
            )
            built.append(running)
        self.edges += built
        return built

    async def _origin_client(
        self, origin: spec.Origin, distribution: spec.Distribution, context: OriginContext
    ) -> OriginClient:
        if isinstance(origin, spec.BucketOrigin):
            ident = distribution_id(context.service.name, distribution.name)
            return BucketOriginClient(
                context.aws_url,
                context.buckets[origin.bucket.name],
                context.cdn_credentials,
                distribution_arn=distribution_arn(context.account_id, ident),
                region=context.region,
                ca_bundle=context.ca_bundle,
            )
        if isinstance(origin, spec.ApiOrigin):
            assert context.api_url is not None  # the declaration checks it
            return HttpOriginClient(context.api_url, ca_bundle=context.ca_bundle)
        url = origin.url
        if origin.local_command:
            app = OriginProcess.of(
                context.service.name, origin, data_dir=self.data_dir, host=self.host
            )
            await app.start()
            self.origin_apps.append(app)
            url = app.url
        assert url is not None
        return HttpOriginClient(
            url,
            ca_bundle=context.ca_bundle,
            response_timeout_seconds=origin.response_timeout_seconds,
        )

    async def start(self, certificate: Path, key: Path) -> None:
        """Serve every built edge over HTTPS with the local CA's certificate."""
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(certificate, key)
        for running in self.edges:
            running.server = EdgeServer(running.edge, ssl_context=tls, name=running.arn)
            await running.server.start(running.listener.sock)

    def stats(self) -> dict[str, dict[str, Any]]:
        """Each distribution's figures, by ``service/name`` (the admin API's CdnAdmin)."""
        return {
            f"{running.service}/{running.distribution.name}": running.edge.stats.as_dict()
            for running in self.edges
        }

    def invalidate(self, label: str, paths: list[str]) -> dict[str, Any]:
        """A CloudFront invalidation of ``paths``, made as ``self.invalidator`` (the
        account's root user) so that ListInvalidations shows it."""
        found = [each for each in self.edges if f"{each.service}/{each.distribution.name}" == label]
        if not found or self.cloudfront is None or self.root is None:
            known = ", ".join(f"{e.service}/{e.distribution.name}" for e in self.edges)
            raise AdminRefusal(404, f"No distribution {label!r}; running: {known or 'none'}.")
        batch = Batch(f"overcast-cli-{uuid.uuid4()}", len(paths), list(paths))
        try:
            created = self.cloudfront.create_invalidation(self.root, found[0].id, lambda: batch)
        except CloudFrontError as exc:
            raise AdminRefusal(exc.status, exc.message) from exc
        return {"id": created.invalidation.id, "removed": created.removed}

    async def stop(self) -> None:
        """Stop serving, close the stores, stop the origin apps."""
        for running in self.edges:
            if running.server is not None:
                await running.server.close()
            await running.edge.close()
        for app in self.origin_apps:
            app.stop()

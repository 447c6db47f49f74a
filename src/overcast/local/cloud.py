"""The local cloud's composition root: every declared service, wired and served.

``LocalCloud(settings).start()`` checks the declarations, binds every listener,
creates the data directory's state on first start (local CA, root credentials,
user pools), starts the mail sink, the AWS-compatible endpoint and one gateway per
API, then writes ``endpoints.json``. ``stop()`` undoes it in reverse order.

The AWS endpoint also serves the cloud's admin API (``/_overcast/``: cache stats and
flushes), for the bearer token written to ``<data dir>/admin-token`` at each start.

What it composes lives beside it: :mod:`~overcast.local.dispatchers` (the stream, queue
and object-event dispatchers), :mod:`~overcast.local.cloud_endpoints` (what
``endpoints.json`` says), :mod:`~overcast.local.function_resources` (each function's
resource variables) and :mod:`~overcast.local.service_runtime` (a running service).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from overcast import spec
from overcast.local import servers
from overcast.local.admin import TOKEN_FILE, AdminApp, ServiceCaches, write_admin_token
from overcast.local.aws_endpoint import AwsEndpoint
from overcast.local.aws_services import AwsServices
from overcast.local.cdn.cloud_edges import CloudEdges, OriginContext
from overcast.local.cloud_endpoints import cloud_endpoints
from overcast.local.cloudfront.directory import DistributionRecord
from overcast.local.credentials import load_or_create_root_credentials
from overcast.local.discovery import discover
from overcast.local.dispatchers import start_dispatchers
from overcast.local.endpoints import Endpoints
from overcast.local.function_resources import called_apis, check_calls
from overcast.local.function_resources import function_resources as function_resources
from overcast.local.functions.invoker import FunctionInvoker
from overcast.local.functions.stats import ReadCacheStats
from overcast.local.gateway.app import Gateway
from overcast.local.gateway.authorizer import CognitoAuthorizer
from overcast.local.mail import Mailbox, SmtpSink
from overcast.local.service_runtime import ServiceRuntime
from overcast.local.settings import CloudSettings
from overcast.local.tls import LocalCA
from overcast.ports.mail.smtp import SmtpMailer
from overcast.runtime.config import RuntimeConfig, resource_variable

if TYPE_CHECKING:
    from overcast.local.lambda_api.operations import LambdaOperations
    from overcast.ports.queues.sqlite import SqliteMessaging

access_logger = logging.getLogger("overcast.access")
logger = logging.getLogger("overcast")

# A file that marks a directory as an Overcast data directory (`overcast reset` checks it).
DATA_DIR_MARKER = ".overcast-data"


@dataclass
class LocalCloud:
    """Everything ``overcast up`` runs, built from one :class:`CloudSettings`."""

    settings: CloudSettings
    services: list[ServiceRuntime] = field(default_factory=list)
    _listeners: list[servers.Listener] = field(default_factory=list)
    _api_listeners: dict[str, servers.Listener] = field(default_factory=dict)
    _api_urls: dict[str, str] = field(default_factory=dict)  # service -> default stage URL
    _tasks: list[object] = field(default_factory=list)
    _sink: SmtpSink | None = None
    _aws_services: AwsServices | None = None
    _aws: AwsEndpoint = field(default_factory=AwsEndpoint)
    _edges: CloudEdges | None = None
    _messaging: SqliteMessaging | None = None
    _lambda: LambdaOperations | None = None

    async def start(self) -> Endpoints:
        """Start everything; return the endpoints once every listener accepts connections."""
        declared = self._discover()
        check_calls(declared)
        ca = self._prepare_data_dir()
        self._declare_messaging(declared)
        mailbox = Mailbox(self.settings.data_dir / "mail")
        smtp_port = await self._start_mail(mailbox)
        aws, aws_url = self._start_aws(smtp_port)
        self._create_remote_tables(declared, aws)
        self._reserve_api_listeners(declared)
        edges = self._edges = CloudEdges(
            self.settings.data_dir, self.settings.host, self.settings.cdn_cache_bytes
        )
        edges.reserve(declared, self.settings.ports.for_distribution)
        for service in declared:
            self.services.append(self._build_service(service, aws, smtp_port, aws_url, ca))
        await asyncio.gather(*(runtime.invoker.start() for runtime in self.services))
        self._serve_lambda(aws)
        self._bind_apis()
        self._deploy_assets(aws)
        await self._build_edges(aws, aws_url, ca)
        self._aws.admin = self._admin_app()
        self._tasks = list(
            await servers.serve(self._listeners, ca.server_cert_path, ca.server_key_path)
        )
        await edges.start(ca.server_cert_path, ca.server_key_path)
        self._tasks += start_dispatchers(
            self.services, aws, self._messaging, self.settings, shutdown=self._listeners[0]
        )
        endpoints = cloud_endpoints(
            self.settings,
            self.services,
            edges.edges,
            ca_bundle=str(ca.ca_cert_path),
            aws_url=aws_url,
            smtp_port=smtp_port,
            mailbox=str(mailbox.directory),
        )
        endpoints = await self._serve_mailbox_web(mailbox, ca, endpoints)
        endpoints.write(self.settings.endpoints_file)
        return endpoints

    def _serve_lambda(self, aws: AwsServices) -> None:
        """Lambda's API on the AWS endpoint: it needs every service's invoker, so it is
        set only now that the services' runtimes are built. Its asynchronous queue runs
        from now (events a previous run left first) until :meth:`stop`."""
        from overcast.local.lambda_api.serve import lambda_api, local_functions

        api = lambda_api(
            local_functions(self.services),
            aws.sessions.lookup,
            data_dir=self.settings.data_dir,
            region=self.settings.region,
            account_id=self.settings.account_id,
            clock=aws.clock,
        )
        self._aws.lambda_ = api
        self._lambda = api.operations
        self._lambda.start()

    def _discover(self) -> list[spec.Service]:
        settings = self.settings
        return discover(
            settings.services, python_path=settings.python_path, builtin_apps=settings.builtin_apps
        )

    def _prepare_data_dir(self) -> LocalCA:
        """The data directory, marked as Overcast's, with its CA; no stale endpoints file."""
        data_dir = self.settings.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / DATA_DIR_MARKER).touch()
        self.settings.endpoints_file.unlink(missing_ok=True)
        ca = LocalCA(data_dir / "tls")
        ca.ensure()
        return ca

    async def _start_mail(self, mailbox: Mailbox) -> int:
        self._sink = SmtpSink(mailbox, self.settings.host, self.settings.ports.smtp)
        try:
            await self._sink.start()
        except OSError as exc:
            raise servers.port_unavailable("the SMTP sink", self.settings.ports.smtp, exc) from exc
        return self._sink.port

    async def _serve_mailbox_web(
        self, mailbox: Mailbox, ca: LocalCA, endpoints: Endpoints
    ) -> Endpoints:
        """The web mailbox on its own HTTPS listener; the endpoints gain its URL."""
        from dataclasses import replace

        from overcast.local.mail.web import MailboxWeb

        settings = self.settings
        listener = servers.bind("the web mailbox", settings.host, settings.ports.mailbox)
        listener.app = MailboxWeb(mailbox)
        self._listeners.append(listener)
        self._tasks += await servers.serve([listener], ca.server_cert_path, ca.server_key_path)
        return replace(endpoints, mailbox_url=f"https://{settings.host}:{listener.port}/")

    def _deploy_assets(self, aws: AwsServices) -> None:
        """Each bucket's declared assets, into the bucket (CDK's BucketDeployment)."""
        from overcast.local.assets import deploy_assets

        for runtime in self.services:
            for bucket in runtime.service.buckets:
                if bucket.assets is not None:
                    store = aws.buckets.store(runtime.resources.buckets[bucket.name])
                    deployed = deploy_assets(bucket, store)
                    logger.info(
                        "deployed %s into bucket %s (%d written, %d unchanged)",
                        bucket.assets,
                        store.name,
                        deployed.written,
                        deployed.unchanged,
                    )

    async def _build_edges(self, aws: AwsServices, aws_url: str, ca: LocalCA) -> None:
        """One CDN edge per distribution; the CloudFront API learns of each."""
        assert self._edges is not None
        self._edges.cloudfront = aws.cloudfront
        root = aws.sessions.lookup(aws.root.access_key_id)
        self._edges.root = root.principal if root else None
        for runtime in self.services:
            if not runtime.service.distributions:
                continue
            built = await self._edges.build(
                OriginContext(
                    service=runtime.service,
                    buckets=runtime.resources.buckets,
                    api_url=runtime.api_url(self.settings.host),
                    aws_url=aws_url,
                    cdn_credentials=aws.cdn_credentials,
                    region=self.settings.region,
                    account_id=self.settings.account_id,
                    ca_bundle=str(ca.ca_cert_path),
                )
            )
            for running in built:
                aws.distributions.add(
                    DistributionRecord(
                        id=running.id,
                        arn=running.arn,
                        domain_name=f"{self.settings.host}:{running.listener.port}",
                        service=running.service,
                        name=running.distribution.name,
                        invalidate=running.edge.invalidate,
                        declaration=running.distribution,
                    )
                )

    def _declare_messaging(self, declared: list[spec.Service]) -> None:
        """Every service's queues, topics and subscriptions, into the cloud's one messaging
        database (which every function process opens too)."""
        if not any(service.queues or service.topics for service in declared):
            return
        from overcast.ports.queues.sqlite import SqliteMessaging
        from overcast.runtime.adapters import messaging_path

        settings = self.settings
        self._messaging = SqliteMessaging(
            messaging_path(settings.data_dir),
            region=settings.region,
            account_id=settings.account_id,
        )
        for service in declared:
            self._messaging.declare(service)

    def _start_aws(self, smtp_port: int) -> tuple[AwsServices, str]:
        settings = self.settings
        listener = servers.bind("the AWS endpoint", settings.host, settings.ports.aws)
        self._listeners.append(listener)
        aws_url = f"https://{settings.host}:{listener.port}"
        self._aws_services = AwsServices(
            data_dir=settings.data_dir,
            mailer=SmtpMailer(settings.host, smtp_port),
            public_url=aws_url,
            root=load_or_create_root_credentials(settings.data_dir),
            region=settings.region,
            account_id=settings.account_id,
            credential_seconds=settings.credential_seconds,
            dynamodb_endpoint=settings.dynamodb_endpoint,
        )
        self._aws = self._aws_services.endpoint
        listener.app = self._aws
        return self._aws_services, aws_url

    def _create_remote_tables(self, declared: list[spec.Service], aws: AwsServices) -> None:
        """The declared tables, in the DynamoDB endpoint that holds them (if one does), and
        the declared mail identities in the SES endpoint that sends the mail (likewise)."""
        from overcast.local.remote_tables import create_tables, endpoint_client

        settings = self.settings
        if settings.dynamodb_endpoint is not None:
            client = endpoint_client(
                "dynamodb", settings.dynamodb_endpoint, settings.region, aws.root
            )
            created = create_tables(declared, client)
            logger.info("tables in %s (%d created)", settings.dynamodb_endpoint, len(created))
        if settings.ses_endpoint is not None:
            from overcast.local.remote_mail import create_mail_identities

            client = endpoint_client("sesv2", settings.ses_endpoint, settings.region, aws.root)
            made = create_mail_identities(declared, client)
            logger.info("mail identities in %s (%d created)", settings.ses_endpoint, len(made))

    def _reserve_api_listeners(self, declared: list[spec.Service]) -> None:
        """Bind each API's port before the functions are built: their variables hold the
        API's URL (``OVERCAST_RESOURCE_API_<SERVICE>``, e.g. for links in emails), and
        the URLs of the APIs they call."""
        with_api = sorted((s for s in declared if s.api), key=lambda s: s.name)
        for position, service in enumerate(with_api):
            assert service.api is not None
            port = self.settings.ports.for_api(service.name, position)
            listener = servers.bind(f"the {service.name} API", self.settings.host, port)
            self._api_listeners[service.name] = listener
            self._api_urls[service.name] = (
                f"https://{self.settings.host}:{listener.port}/{service.api.stage}"
            )

    def _bind_apis(self) -> None:
        for runtime in self.services:
            if runtime.service.api is None:
                continue
            runtime.listener = self._api_listeners[runtime.service.name]
            runtime.listener.app = runtime.gateway = self._gateway(runtime)
            self._listeners.append(runtime.listener)

    def _admin_app(self) -> AdminApp:
        services = {
            runtime.service.name: ServiceCaches(
                runtime.gateway.stage_cache if runtime.gateway else None,
                ReadCacheStats(runtime.invoker),
                runtime.gateway.stage_caches if runtime.gateway else {},
            )
            for runtime in self.services
        }
        return AdminApp(write_admin_token(self.settings.data_dir), services, self._edges)

    async def stop(self) -> None:
        if self._edges is not None:
            await self._edges.stop()
        await servers.shutdown(self._listeners, self._tasks)  # type: ignore[arg-type]
        if self._lambda is not None:
            await self._lambda.close()  # before the invokers: no attempt fails for it
        await asyncio.gather(*(runtime.invoker.close() for runtime in self.services))
        if self._messaging is not None:
            self._messaging.sqlite.close()
        if self._aws_services is not None:
            self._aws_services.close()
        if self._sink is not None:
            await self._sink.stop()
        self.settings.endpoints_file.unlink(missing_ok=True)
        (self.settings.data_dir / TOKEN_FILE).unlink(missing_ok=True)

    def _build_service(
        self, service: spec.Service, aws: AwsServices, smtp_port: int, aws_url: str, ca: LocalCA
    ) -> ServiceRuntime:
        settings = self.settings
        resources = aws.register(service)
        api = service.api
        api_url = self._api_urls.get(service.name)
        config = RuntimeConfig(
            service=service.name,
            backend="local",
            region=settings.region,
            data_dir=settings.data_dir,
            smtp_host=settings.host,
            smtp_port=smtp_port,
            aws_endpoint=aws_url,
            ca_bundle=str(ca.ca_cert_path),
            dynamodb_endpoint=settings.dynamodb_endpoint,
            ses_endpoint=settings.ses_endpoint,
        )
        # Each distribution's URL (OVERCAST_RESOURCE_DISTRIBUTION_URL_<NAME>), as the
        # deployer passes https://<domain>: e.g. for links in emails.
        edges = self._edges.urls(service.name) if self._edges else {}
        site_urls = {
            resource_variable("DISTRIBUTION_URL", name): url for name, url in edges.items()
        }
        invoker = FunctionInvoker(
            service.name,
            service.all_functions,
            config.to_environ(),
            region=settings.region,
            account_id=settings.account_id,
            python_path=[str(entry) for entry in settings.python_path],
            variables={
                function.name: {
                    **function_resources(service.name, function, resources),
                    **aws.function_variables(service, function, resources, api_url),
                    **called_apis(function, self._api_urls),
                    **site_urls,
                }
                for function in service.all_functions
            },
            aliases=stage_aliases(api) if api else None,
        )
        return ServiceRuntime(service, invoker, resources)

    def _gateway(self, runtime: ServiceRuntime) -> Gateway:
        assert runtime.service.api is not None
        authorizers = {}
        for route in runtime.service.api.routes:
            if route.authorizer is not None:
                pool = runtime.resources.user_pools[route.authorizer.user_pool.name]
                authorizers[pool.name] = CognitoAuthorizer(
                    issuer=pool.issuer,
                    client_ids=pool.client_ids.values(),
                    jwks=pool.jwks,
                    ttl_seconds=route.authorizer.ttl_seconds,
                )
        return Gateway(
            runtime.service.api,
            runtime.invoker,
            authorizers,
            account_id=self.settings.account_id,
            api_id=api_id(runtime.service),
            access_log=self._access_log(runtime.service.name),
        )

    def _access_log(self, service: str) -> Callable[[str], None] | None:
        if not self.settings.access_log:
            return None  # --quiet: the gateway does not even format the line

        def log(line: str) -> None:
            access_logger.info("%s %s", service, line)

        return log


def stage_aliases(api: spec.Api) -> dict[str, dict[str, str]]:
    """The Lambda aliases an API's stages invoke: function name -> stage -> handler.

    An API of one stage invokes its functions unqualified (no aliases), as on AWS.
    """
    return {
        function.name: {stage.name: stage.handler_of(function) for stage in api.stages}
        for function in api.functions
    }


def api_id(service: spec.Service) -> str:
    """A stable 10-character API id, as API Gateway's (lowercase letters and digits)."""
    digest = hashlib.sha256(f"{service.name}/{service.api.name if service.api else ''}".encode())
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[byte % len(alphabet)] for byte in digest.digest()[:10])

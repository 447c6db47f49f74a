"""A running service of the local cloud: what :class:`~overcast.local.cloud.LocalCloud`
built for it, shared by the pieces that start its dispatchers and report its endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass

from overcast import spec
from overcast.local import servers
from overcast.local.aws_services import ServiceResources
from overcast.local.functions.invoker import FunctionInvoker
from overcast.local.gateway.app import Gateway


@dataclass
class ServiceRuntime:
    """A running service: its functions' invoker and, if it has one, its API's listener."""

    service: spec.Service
    invoker: FunctionInvoker
    resources: ServiceResources
    listener: servers.Listener | None = None
    gateway: Gateway | None = None

    def api_url(self, host: str) -> str | None:
        """The URL of the API's default stage (None: the service has no API)."""
        api, listener = self.service.api, self.listener
        if api is None or listener is None:
            return None
        return f"https://{host}:{listener.port}/{api.stage}"

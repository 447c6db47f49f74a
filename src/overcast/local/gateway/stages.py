"""An API's stages, side by side on one listener: ``/<stage>/<resource path>``.

API Gateway serves each stage of a REST API under its name, the first segment of the
invoke URL's path (``https://{api-id}.execute-api.{region}.amazonaws.com/{stage}/``);
a path whose first segment names no stage has no method: 403 ``Missing
Authentication Token``. Each stage has

- its own stage variables, the event's ``stageVariables`` (``null`` when it has none);
- its own stage cache (:class:`overcast.spec.Stage` ``cache``, else the API's);
- in an API that declares ``stages``, its integrations invoke each function through
  the Lambda alias named after the stage (the integration URI
  ``...:function:<name>:<stage>``), which runs that stage's handler code. An API of
  one stage invokes its functions unqualified, as before stages existed.
"""

from __future__ import annotations

from dataclasses import dataclass

from overcast import spec
from overcast.local.gateway.events import EventBuilder
from overcast.local.gateway.stagecache import StageCache


@dataclass(frozen=True, slots=True)
class ServedStage:
    """One stage as the gateway serves it."""

    name: str
    events: EventBuilder
    cache: StageCache | None
    # The Lambda alias its integrations invoke (None: the unqualified function).
    qualifier: str | None


class StageTable:
    """Finds the stage a request's path names; ``stage_cache`` replaces the default
    stage's cache (tests)."""

    def __init__(
        self,
        api: spec.Api,
        *,
        account_id: str,
        api_id: str,
        stage_cache: StageCache | None = None,
    ) -> None:
        self._stages: dict[str, ServedStage] = {}
        for stage in api.all_stages:
            cache = stage_cache if stage.name == api.stage else None
            if cache is None and api.cache_for(stage) is not None:
                cache = StageCache(api, stage)
            self._stages[stage.name] = ServedStage(
                stage.name,
                EventBuilder(api, account_id=account_id, api_id=api_id, stage=stage),
                cache,
                stage.name if api.stages else None,
            )
        self.default = self._stages[api.stage]

    def split(self, raw_path: str) -> tuple[ServedStage, str] | None:
        """The stage ``raw_path`` names and the resource path after it, or ``None``."""
        if not raw_path.startswith("/"):
            return None
        name, slash, rest = raw_path[1:].partition("/")
        stage = self._stages.get(name)
        if stage is None:
            return None
        return stage, slash + rest if rest else "/"

    def caches(self) -> dict[str, StageCache]:
        """Each stage's cache, by stage name (stages without one are left out)."""
        return {name: stage.cache for name, stage in self._stages.items() if stage.cache}

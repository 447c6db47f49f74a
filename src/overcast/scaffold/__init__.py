"""Scaffolding: ``overcast new service NAME`` makes a working service (see ``service``)."""

from overcast.scaffold.errors import ScaffoldError
from overcast.scaffold.layout import Layout, detect_layout
from overcast.scaffold.names import ServiceName, parse_service_name
from overcast.scaffold.service import FileChange, ServicePlan, plan_service, write_plan

__all__ = [
    "FileChange",
    "Layout",
    "ScaffoldError",
    "ServiceName",
    "ServicePlan",
    "detect_layout",
    "parse_service_name",
    "plan_service",
    "write_plan",
]

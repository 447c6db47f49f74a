"""The CDN port: invalidate cached paths of one distribution."""

from overcast.ports.cdn.base import Invalidator
from overcast.ports.cdn.exceptions import (
    CdnError,
    CdnUnavailable,
    DistributionNotFound,
    InvalidationDenied,
    InvalidPaths,
)

__all__ = [
    "CdnError",
    "CdnUnavailable",
    "DistributionNotFound",
    "InvalidPaths",
    "InvalidationDenied",
    "Invalidator",
]

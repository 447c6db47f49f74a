"""The CDN port's exceptions.

CdnError
├── InvalidPaths           no paths, or a path the CDN refuses; nothing was invalidated
├── DistributionNotFound   the distribution does not exist
├── InvalidationDenied     the caller may not invalidate this distribution
└── CdnUnavailable         the CDN failed, throttled or could not be reached; retry later
"""


class CdnError(Exception):
    """Base of every error the CDN port raises."""


class InvalidPaths(CdnError, ValueError):
    """The paths cannot be invalidated as they are (empty, malformed, too many)."""


class DistributionNotFound(CdnError):
    """No distribution has this id."""


class InvalidationDenied(CdnError):
    """The caller's permissions do not allow invalidating this distribution."""


class CdnUnavailable(CdnError):
    """The CDN failed; the invalidation may be retried."""

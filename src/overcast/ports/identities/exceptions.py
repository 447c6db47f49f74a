"""The identity directory's exceptions.

::

    IdentityError
    ├── IdentityRefused       the identity service refused the login token
    └── IdentityUnavailable   the identity service could not be reached or failed
"""

from __future__ import annotations


class IdentityError(Exception):
    """Base of the identity directory's errors."""


class IdentityRefused(IdentityError):
    """The login token is not valid for the identity pool (expired, forged, other pool)."""


class IdentityUnavailable(IdentityError):
    """The identity service failed; try again later."""

"""What every declaration module shares: the error they raise and the name rule.

Kept apart from :mod:`overcast.spec` so that its sibling modules (``spec_tables``,
``spec_api``, ...) import it directly, with no import cycle. Standard library only.
"""

from __future__ import annotations

import re

# Names become part of AWS resource names.
NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
HANDLER = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class DeclarationError(ValueError):
    """A declaration is invalid, or the local cloud cannot honour it."""


def check_name(kind: str, name: str) -> None:
    """Refuse ``name`` unless it is 1-63 lowercase letters, digits and hyphens."""
    if not NAME.match(name):
        raise DeclarationError(
            f"{kind} name {name!r} is invalid: use 1-63 lowercase letters, digits and "
            "hyphens, starting with a letter (it becomes part of AWS resource names)."
        )

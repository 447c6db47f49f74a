"""The blog's emails: Jinja templates rendered as text and HTML, and the unsubscribe link.

The welcome and the newsletter email are each two templates in ``templates/``,
``<name>.txt.j2`` and ``<name>.html.j2``, rendered with the same values; the HTML one
is autoescaped, the text one is not (a name is shown as typed). Both carry the
one-click unsubscribe link, ``<API base URL>/api/subscriptions/unsubscribe?email=...&token=...``,
the API's route that needs no sign-in, only the subscriber's current token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import jinja2


def templates() -> jinja2.Environment:
    """The email templates; HTML is autoescaped, text is not."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("overcast.apps.blog", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render(
    environment: jinja2.Environment, name: str, values: Mapping[str, Any]
) -> tuple[str, str]:
    """The email ``name`` as ``(text, html)``: its two templates, rendered with ``values``."""
    text = environment.get_template(f"{name}.txt.j2").render(values)
    html = environment.get_template(f"{name}.html.j2").render(values)
    return text, html


def unsubscribe_url(api_url: str, email: str, token: str) -> str:
    """The one-click link that unsubscribes ``email``, on the API at ``api_url``."""
    query = urlencode({"email": email, "token": token})
    return f"{api_url.rstrip('/')}/api/subscriptions/unsubscribe?{query}"

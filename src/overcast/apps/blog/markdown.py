"""Articles' Markdown made into HTML that is safe to serve from the blog's own origin.

An article body is written by any signed-in user and served from the site's origin,
next to the signed-in reader's token: a script in it would run as that reader. So the
body goes through two independent layers, and either alone keeps scripts out:

1. **markdown-it-py**, CommonMark with tables and strikethrough, ``html=False``: raw
   HTML in the source is not passed through but escaped as text. Links and images
   are checked by :func:`allowed_url` (markdown-it's ``validateLink`` hook, given the
   URL after entities are decoded): only relative URLs and ``http``, ``https`` and
   ``mailto`` pass; ``javascript:``, ``vbscript:``, ``data:`` (images included,
   which markdown-it's own default would allow) and any other scheme are refused,
   and the would-be link stays plain text.
2. **nh3** (ammonia): the HTML is parsed again and rebuilt from an allow-list of
   tags and attributes; URLs must be relative or use the schemes above; every link
   gets ``rel="noopener noreferrer nofollow"``; images load lazily. No ``style``
   attribute survives (so tables lose their column alignment): the pages' Content
   Security Policy allows no inline style either.

Headings move one level down (``#`` becomes ``<h2>``): the page's ``<h1>`` is the
article's title, and a page has one.
"""

from __future__ import annotations

import re
from functools import cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"
TAGS = frozenset(
    {
        *("p", "br", "hr", "blockquote", "pre", "code", "em", "strong", "s", "del"),
        *("h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "a", "img"),
        *("table", "thead", "tbody", "tr", "th", "td"),
    }
)
ATTRIBUTES = {
    "a": frozenset({"href", "title"}),
    "img": frozenset({"src", "alt", "title"}),
    "ol": frozenset({"start"}),
}
# A URL's scheme, as the WHATWG URL parser reads one: a letter, then letters, digits,
# "+", "-" or ".", then ":". Anything with a ":" before the first "/", "?" or "#" that
# is not such a scheme is refused too (it could be one after a browser's clean-up).
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):")
_BEFORE_PATH = re.compile(r"^[^/?#]*")


def allowed_url(url: str) -> bool:
    """Whether a link or image may point at ``url``: relative, or http(s)/mailto."""
    cleaned = url.strip().lower()
    head = _BEFORE_PATH.match(cleaned)
    if head is None or ":" not in head.group(0):
        return True  # relative: a path, a query or a fragment on this site
    scheme = _SCHEME.match(cleaned)
    return scheme is not None and scheme.group(1) in URL_SCHEMES


def render_markdown(source: str) -> str:
    """``source`` (Markdown) as a sanitised HTML fragment."""
    parser = _parser()
    tokens = parser.parse(source)
    _demote_headings(tokens)
    return _cleaner().clean(parser.renderer.render(tokens, parser.options, {}))


def _demote_headings(tokens: list[Token]) -> None:
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + 1)}"


@cache
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    parser.validateLink = allowed_url  # type: ignore[method-assign]
    return parser


@cache
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        set_tag_attribute_values={"img": {"loading": "lazy"}},
        strip_comments=True,
    )

"""The web mailbox: every message the local cloud sent, in a browser and as JSON.

Pages (plain HTML and CSS: no JavaScript, so they work with it turned off):

- ``GET /``: the list, newest first (received, from, to, subject).
- ``GET /messages/{id}``: one message: its headers, its text part, and its HTML
  part framed from ``GET /messages/{id}/html``.
- ``GET /messages/{id}/raw``: the message as stored, as plain text.
- ``POST /messages/{id}/delete``: delete it, then back to the list (303).

JSON, for tests: ``GET /api/messages?to=&subject=`` (summaries, newest first),
``GET /api/messages/{id}`` (with ``text``, ``html`` and ``headers``) and
``DELETE /api/messages/{id}`` (204; 404 when there is no such message).

Mail is untrusted. A message's HTML never runs script and never loads anything
from the network: it is served with a CSP of its own whose ``sandbox`` directive
(no ``allow-scripts``, no ``allow-same-origin``) applies even if the URL is opened
directly, inside an ``<iframe sandbox>``, with ``default-src 'none'``. Every page
denies framing by other sites and sends no referrer.

Unsafe methods are refused (403) for a cross-site request: a browser sends
``Origin`` on every cross-origin POST/DELETE, and ``Sec-Fetch-Site`` when it knows
it, so a foreign page cannot make a visitor's browser delete mail (the Fetch
standard's resource-isolation check). ``Sec-Fetch-Site``, when sent, decides alone:
under ``Referrer-Policy: no-referrer`` a browser sends ``Origin: null`` even on our
own form's POST. ``Origin`` is the fallback for browsers without Fetch Metadata.
Clients that send neither (curl, httpx) are not browsers and carry no ambient
authority. DNS rebinding cannot reach the mailbox either: it is HTTPS under the
local CA's certificate for the local host.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route, Router
from starlette.types import Receive, Scope, Send

from overcast.local.mail import web_store
from overcast.local.mail.mailbox import Mailbox, MailNotFound, StoredMail
from overcast.local.mail.web_pages import ASSETS, environment, message_json, summary_json
from overcast.local.mail.web_pages import headers as message_headers

Handler = Callable[[Request], Coroutine[Any, Any, Response]]

PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# The CSP sandbox directive without allow-scripts: no script, whoever opens the URL.
# Popups only so that a link in a mail (an unsubscribe link) can be followed.
MAIL_HTML_CSP = (
    "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; "
    "style-src 'unsafe-inline'; img-src data:; font-src data:; form-action 'none'; "
    "base-uri 'none'; frame-ancestors 'self'"
)
_COMMON_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class MailboxWeb:
    """The web mailbox's ASGI app, reading and deleting ``mailbox``'s messages."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        self._templates = environment()
        self._stylesheet = (ASSETS / "style.css").read_bytes()
        self._router = Router(routes=self._routes())

    def _routes(self) -> list[Route]:
        return [
            Route("/", self._list_page, methods=["GET"]),
            Route("/static/style.css", self._style, methods=["GET"]),
            Route("/messages/{id}", self._message_page, methods=["GET"]),
            Route("/messages/{id}/html", self._message_html, methods=["GET"]),
            Route("/messages/{id}/raw", self._message_raw, methods=["GET"]),
            Route("/messages/{id}/delete", self._delete_page, methods=["POST"]),
            Route("/api/messages", self._api_list, methods=["GET"]),
            Route("/api/messages/{id}", self._api_message, methods=["GET"]),
            Route("/api/messages/{id}", self._api_delete, methods=["DELETE"]),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] not in _SAFE_METHODS and is_cross_site(Request(scope)):
            response: Response = JSONResponse(
                {"message": "Cross-site requests may not change the mailbox."}, 403
            )
            await response(scope, receive, send)
            return
        await self._router(scope, receive, send)

    # --- pages ---------------------------------------------------------------

    async def _list_page(self, request: Request) -> Response:
        summaries = list(reversed(await run_in_threadpool(self.mailbox.list)))
        deleted = request.query_params.get("deleted") == "1"
        return self._page("list.html", {"messages": summaries, "deleted": deleted})

    async def _message_page(self, request: Request) -> Response:
        mail = await self._find(request)
        if mail is None:
            return self._not_found_page()
        context = {"mail": mail, "headers": message_headers(mail.raw)}
        return self._page("message.html", context)

    async def _message_html(self, request: Request) -> Response:
        mail = await self._find(request)
        if mail is None or mail.html is None:
            return self._not_found_page()
        # Links open outside the frame (the sandbox would otherwise swallow them).
        body = '<!doctype html><base target="_blank">' + mail.html
        return _secured(HTMLResponse(body), MAIL_HTML_CSP)

    async def _message_raw(self, request: Request) -> Response:
        mail = await self._find(request)
        if mail is None:
            return self._not_found_page()
        response = Response(mail.raw, media_type="text/plain; charset=utf-8")
        return _secured(response, MAIL_HTML_CSP)

    async def _delete_page(self, request: Request) -> Response:
        if not await self._delete(request):
            return self._not_found_page()
        return _secured(RedirectResponse("/?deleted=1", status_code=303), PAGE_CSP)

    async def _style(self, request: Request) -> Response:
        response = Response(self._stylesheet, media_type="text/css; charset=utf-8")
        return _secured(response, PAGE_CSP)

    # --- JSON ----------------------------------------------------------------

    async def _api_list(self, request: Request) -> Response:
        to = request.query_params.get("to") or None
        subject = request.query_params.get("subject") or None
        found = await run_in_threadpool(self.mailbox.find, to, subject)
        return _json({"messages": [summary_json(mail) for mail in reversed(found)]})

    async def _api_message(self, request: Request) -> Response:
        mail = await self._find(request)
        if mail is None:
            return _json({"message": "No such message."}, 404)
        return _json(message_json(mail))

    async def _api_delete(self, request: Request) -> Response:
        if not await self._delete(request):
            return _json({"message": "No such message."}, 404)
        return _secured(Response(status_code=204), PAGE_CSP)

    # --- helpers ---------------------------------------------------------------

    async def _find(self, request: Request) -> StoredMail | None:
        try:
            return await run_in_threadpool(self.mailbox.get, request.path_params["id"])
        except MailNotFound:
            return None

    async def _delete(self, request: Request) -> bool:
        message_id: str = request.path_params["id"]
        return await run_in_threadpool(web_store.delete, self.mailbox, message_id)

    def _page(self, template: str, context: dict[str, Any], status: int = 200) -> Response:
        html = self._templates.get_template(template).render(context)
        return _secured(HTMLResponse(html, status), PAGE_CSP)

    def _not_found_page(self) -> Response:
        return self._page("missing.html", {}, 404)


def is_cross_site(request: Request) -> bool:
    """Whether a browser sent this request from another site (or an opaque origin)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        # The browser's own verdict (Fetch Metadata), which no page can forge; it stays
        # "same-origin" when our Referrer-Policy: no-referrer makes the browser send
        # Origin: null on our own form's POST (Fetch: "serializing a request origin").
        return site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin != f"{request.url.scheme}://{request.headers.get('host', '')}"


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return _secured(JSONResponse(body, status), PAGE_CSP)


def _secured(response: Response, csp: str) -> Response:
    response.headers.update(_COMMON_HEADERS)
    response.headers["content-security-policy"] = csp
    if csp is PAGE_CSP:
        response.headers["x-frame-options"] = "DENY"
    return response

"""The sandboxes' consent page: the browser step of OAuth's authorization-code flow.

`GET <authorize path>?client_id=&redirect_uri=&response_type=code&scope=&state=`
renders a tiny HTML page ("leadpipe sandbox: HubSpot — allow leadpipe to read
your contacts?") whose form posts back to the same path with `client_id`,
`redirect_uri`, `state` and `decision` (allow or deny). The POST issues a code
with `Sandbox.issue_code` and answers 302 to `redirect_uri?code=&state=`, or to
`redirect_uri?error=access_denied&state=` when denied. No JavaScript: a person
in a browser clicks through it as through the provider's own page, so
`make run` can show the whole OAuth flow offline.

As at a real provider, a bad `client_id` or `redirect_uri` is a 400 page and
never a redirect (RFC 6749 4.1.2.1: an unchecked redirect would hand a code or
an error to whoever wrote the link). A redirect URI must be https, or http to
127.0.0.1 / localhost. Everything shown or put in a field is HTML-escaped.
"""

from __future__ import annotations

import re
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit, urlunsplit

from tools.sandboxes.wire import Request, Response, Route, route

if TYPE_CHECKING:
    from tools.sandboxes.common import Sandbox

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# A page that must not be framed (clickjacking a consent button) nor cached.
PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "frame-ancestors 'none'",
}
STYLE = ("body{font-family:system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem}"
         "button{font-size:1rem;padding:.5rem 1.25rem;margin-right:.5rem}")


def consent_routes(sandbox: Sandbox) -> list[Route]:
    """GET (the page) and POST (the decision) on each of the sandbox's authorize paths."""
    routes = []
    for path in sandbox.authorize_paths:
        routes += [route("GET", re.escape(path), lambda r: consent_page(sandbox, r), auth=False),
                   route("POST", re.escape(path), lambda r: consent_decision(sandbox, r),
                         auth=False)]
    return routes


def redirect_problem(uri: str) -> str | None:
    """Why `uri` may not receive a code, or None when it may."""
    # Control characters, spaces and non-ASCII would end up in a Location header.
    if not uri.isascii() or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in uri):
        return "redirect_uri must be a URL without spaces or control characters"
    try:
        parts = urlsplit(uri)
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError:
        return "redirect_uri is not a URL"
    if not host or parts.username is not None or parts.fragment:
        return "redirect_uri must be an absolute URL with a host, no user info and no fragment"
    if parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS):
        return None
    return "redirect_uri must be https, or http to 127.0.0.1 or localhost"


def with_query(uri: str, params: dict[str, str]) -> str:
    """`uri` with `params` appended to whatever query it already has."""
    parts = urlsplit(uri)
    extra = urlencode(params)
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))


def consent_page(sandbox: Sandbox, request: Request) -> Response:
    client_id = request.arg("client_id") or ""
    redirect_uri = request.arg("redirect_uri") or ""
    problem = _client_problem(sandbox, client_id, redirect_uri)
    if problem is None and request.arg("response_type") != "code":
        problem = "response_type must be code"
    if problem is not None:
        return _error_page(sandbox, problem)
    title = f"leadpipe sandbox: {sandbox.provider_title}"
    fields = {"client_id": client_id, "redirect_uri": redirect_uri,
              "state": request.arg("state") or ""}
    hidden = "".join(f'<input type="hidden" name="{name}" value="{escape(value)}">'
                     for name, value in fields.items())
    scope = request.arg("scope") or ""
    body = (f"<h1>{escape(title)} — allow leadpipe to read your contacts?</h1>"
            + (f"<p>Access asked for: <code>{escape(scope)}</code></p>" if scope else "")
            + f"<p>Your browser then goes back to <code>{escape(redirect_uri)}</code>.</p>"
            f'<form method="post" action="{escape(request.path)}">{hidden}'
            '<button type="submit" name="decision" value="allow">Allow</button>'
            '<button type="submit" name="decision" value="deny">Deny</button></form>')
    return _page(200, title, body)


def consent_decision(sandbox: Sandbox, request: Request) -> Response:
    form = request.form()
    redirect_uri = form.get("redirect_uri", "")
    problem = _client_problem(sandbox, form.get("client_id", ""), redirect_uri)
    decision = form.get("decision")
    if problem is None and decision not in ("allow", "deny"):
        problem = "decision must be allow or deny"
    if problem is not None:
        return _error_page(sandbox, problem)
    params = ({"code": sandbox.issue_code(redirect_uri)} if decision == "allow"
              else {"error": "access_denied"})
    if state := form.get("state"):
        params["state"] = state
    return Response(302, None, {"Location": with_query(redirect_uri, params),
                                "Cache-Control": "no-store"})


def _client_problem(sandbox: Sandbox, client_id: str, redirect_uri: str) -> str | None:
    if client_id != sandbox.client_id:
        return "unknown client_id"
    return redirect_problem(redirect_uri)


def _error_page(sandbox: Sandbox, problem: str) -> Response:
    title = f"leadpipe sandbox: {sandbox.provider_title}"
    return _page(400, title, f"<h1>{escape(title)}</h1><p>error: {escape(problem)}</p>")


def _page(status: int, title: str, body: str) -> Response:
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
            f"<body>{body}</body></html>\n")
    return Response(status, html.encode(), dict(PAGE_HEADERS))

"""The web app's static files as HTTP answers: types, ETags, gzip, cache and security headers.

Pure: the files arrive as bytes (entrypoints/web_routes.py reads them once per
process); what a request gets back is decided here, so the rules are tested
without a server.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
# The media types the API Gateway must pass through as binary (the bodies are gzip).
# Only the web app's own: the API's CSV answers (error reports, template,
# export) are text bodies, and Chalice refuses a str body of a binary type.
BINARY_TYPES = sorted({t.split(";")[0] for t in CONTENT_TYPES.values()})
# Below this, gzip's header costs more than it saves.
_MIN_GZIP_BYTES = 256


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    content_type: str
    etag: str


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def make_asset(name: str, body: bytes) -> Asset:
    suffix = name[name.rfind("."):] if "." in name else ""
    content_type = CONTENT_TYPES.get(suffix, "application/octet-stream")
    # mtime=0: the same bytes give the same gzip, so every Lambda instance agrees.
    gzipped = gzip.compress(body, compresslevel=9, mtime=0)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return Asset(body=body, gzipped=gzipped, content_type=content_type, etag=etag)


def content_security_policy(connect_origins: Iterable[str]) -> str:
    """No inline script or style, no eval; XHR only to the API and the file store."""
    connect = " ".join(["'self'", *sorted(set(connect_origins))])
    return "; ".join([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        f"connect-src {connect}",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ])


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def security_headers(csp: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    }


def _accepts_gzip(accept_encoding: str) -> bool:
    for part in accept_encoding.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            q = params.strip().removeprefix("q=")
            return not (params and q.replace(".", "", 1).isdigit() and float(q) == 0)
    return False


def _etag_matches(if_none_match: str, etag: str) -> bool:
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


def answer(asset: Asset, request_headers: Mapping[str, str], csp: str) -> Answer:
    """200 (gzip when accepted and worth it), or 304 when the browser's copy is current.

    Every file is revalidated on each use (`no-cache`): the modules import each
    other by plain names, so a browser must never mix two deployments' files; a
    304 costs one small round trip.
    """
    headers = {
        "Content-Type": asset.content_type,
        "ETag": asset.etag,
        "Cache-Control": "no-cache",
        "Vary": "Accept-Encoding",
        **security_headers(csp),
    }
    if _etag_matches(request_headers.get("if-none-match", ""), asset.etag):
        return Answer(304, headers, b"")
    if len(asset.body) >= _MIN_GZIP_BYTES and _accepts_gzip(
            request_headers.get("accept-encoding", "")):
        return Answer(200, {**headers, "Content-Encoding": "gzip"}, asset.gzipped)
    return Answer(200, headers, asset.body)

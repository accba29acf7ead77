"""POSTing a webhook: the URL and its host's addresses checked at every delivery.

The host is resolved and every address checked (domain/webhooks.check_addresses:
private, link-local, metadata, and loopback outside the local stage) just
before the request, because DNS may have changed since the endpoint was saved;
then SafeHttp (adapters/safe_http.py) sends it without following redirects.
A 3xx is a failure like any other non-2xx.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from urllib.parse import urlsplit

import requests

from chalicelib.adapters.safe_http import SafeHttp
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.outbound_url import is_loopback_host
from chalicelib.domain.webhooks import AttemptResult, check_addresses, parse_url


class SocketResolver:
    """The host's addresses as the operating system resolves them."""

    def addresses(self, host: str) -> list[str]:
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError, ValueError):  # ValueError: a NUL in the name
            return []
        return list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in infos))


def check_destination(url: str, resolver: SocketResolver, *, allow_loopback: bool) -> None:
    """BadRequest (`invalid_url`, `insecure_url`, `forbidden_address`, `unresolvable_host`)
    unless `url` may be called now."""
    parse_url(url, allow_loopback=allow_loopback)
    host = (urlsplit(url).hostname or "").strip("[]")
    if is_loopback_host(host):
        return  # a literal loopback, allowed by parse_url in the local stage
    addresses = resolver.addresses(host)
    if not addresses:
        raise BadRequest(f"The host {host!r} does not resolve", code="unresolvable_host")
    check_addresses(addresses, allow_loopback=allow_loopback)


class WebhookHttp:
    def __init__(self, *, allow_loopback: bool, resolver: SocketResolver | None = None) -> None:
        self._allow_loopback = allow_loopback
        self._resolver = resolver or SocketResolver()
        self._http = SafeHttp()

    def post(self, url: str, body: bytes, headers: Mapping[str, str],
             timeout: float) -> AttemptResult:
        try:
            check_destination(url, self._resolver, allow_loopback=self._allow_loopback)
            response = self._http.request("POST", url, data=body, headers=dict(headers),
                                          timeout=(min(5.0, timeout), timeout))
        except BadRequest as exc:
            return AttemptResult(error=exc.code)
        except requests.Timeout:
            return AttemptResult(error="timeout")
        except requests.RequestException as exc:
            return AttemptResult(error="connection_error" if isinstance(
                exc, requests.ConnectionError) else "request_error")
        response.close()
        if 300 <= response.status_code < 400:
            return AttemptResult(status_code=response.status_code, error="redirect_not_followed")
        return AttemptResult(status_code=response.status_code)

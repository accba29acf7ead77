"""Outbound HTTP to third-party APIs: https only (http to loopback), no private addresses.

Every request checks its URL (domain/outbound_url.py) and what the host name
resolves to, follows no redirects (a redirect could point anywhere), and has
timeouts, so a slow provider cannot hold a worker for its whole timeout.
The check runs just before connecting; a DNS answer that changes between the
check and the connection (rebinding) is the residual risk, bounded by the
providers' own host names coming from settings, not from users.
"""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlsplit

import requests

from chalicelib.domain.outbound_url import check_address, check_url, is_loopback_host

TIMEOUT = (5.0, 30.0)  # connect, read


class SafeHttp:
    def __init__(self) -> None:
        self._session = requests.Session()

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        check_url(url)
        host = urlsplit(url).hostname or ""
        if not is_loopback_host(host):
            for *_, sockaddr in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP):
                check_address(str(sockaddr[0]))
        kwargs.setdefault("timeout", TIMEOUT)
        return self._session.request(method, url, allow_redirects=False, **kwargs)

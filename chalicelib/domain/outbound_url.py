"""Which URLs we may call: refusing private, link-local and metadata addresses.

Endpoints come from settings (the providers' APIs, or loopback sandboxes in
tests and `make run`) and from providers' answers (Salesforce's
`instance_url`). Either way a request must never reach the instance
metadata service or a private network: only https, except plain http to a
loopback address, and never to an address that is private, link-local,
multicast or unspecified. The adapter checks what the host name resolves
to with `check_address` just before connecting.
"""

from __future__ import annotations

import contextlib
import ipaddress
from urllib.parse import urlsplit

from chalicelib.domain.errors import BadRequest

_LOCAL_NAMES = {"localhost", "localhost.localdomain"}


def is_loopback_host(host: str) -> bool:
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_address(address: str) -> None:
    """Refuse an IP we must not call (loopback is allowed: sandboxes, tests)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.is_loopback:
        return
    if (ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_unspecified
            or ip.is_reserved or (ip.version == 6 and ip.ipv4_mapped is not None
                                  and not ip.ipv4_mapped.is_global)):
        raise BadRequest(f"Refusing to call a private or reserved address ({ip})",
                         code="forbidden_address")


def check_url(url: str) -> str:
    """The URL if it may be called: https, or http to a loopback host."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:  # "http://[::1" and the like
        raise BadRequest("The URL is not valid", code="invalid_url") from None
    if not host:
        raise BadRequest("The URL has no host", code="invalid_url")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise BadRequest("Only https URLs are allowed (plain http only to a loopback address)",
                         code="insecure_url")
    if parts.scheme not in ("http", "https"):
        raise BadRequest("Only https URLs are allowed", code="invalid_url")
    with contextlib.suppress(ValueError):  # a name: its addresses are checked when resolved
        check_address(host.strip("[]"))
    return url

"""One request to a third-party API, 429 / 5xx / no answer retried with back-off.

The loop the provider adapters share: send through SafeHttp; on a 429, a 5xx
or a connection failure wait (Retry-After seconds when the provider sends it
and the caller honours it there, else the next of 1, 2, 4, 8 s) and try again,
five tries in all; then give up with the caller's error. A Retry-After longer
than `max_retry_after` is not worth holding a worker for: that gives up at once.

What an answer means stays with the caller, through hooks: `on_response`
sees every answer first (and may raise, e.g. for a spent daily quota),
`gave_up` builds the error when retrying ends, `refused` maps SafeHttp's
refusal of the URL. Any other answer is returned as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from chalicelib.adapters.safe_http import SafeHttp
from chalicelib.domain.errors import LeadpipeError

RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0)
MAX_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class GaveUp:
    """Why retrying ended: the last answer's status, or the exception when none came."""

    retries: int  # retries made before giving up
    status: int | None = None
    retry_after: float | None = None  # the wait the last answer asked for, when honoured
    exception: requests.RequestException | None = None


def _always(status: int) -> bool:
    return True


def send_with_retries(
        http: SafeHttp, method: str, url: str, *,
        sleep: Callable[[float], None],
        gave_up: Callable[[GaveUp], Exception],
        refused: Callable[[LeadpipeError], Exception] | None = None,
        on_response: Callable[[requests.Response], None] | None = None,
        honours_retry_after: Callable[[int], bool] = _always,
        delays: tuple[float, ...] = RETRY_DELAYS,
        max_retry_after: float = MAX_RETRY_AFTER,
        **request: Any) -> requests.Response:
    """The first answer that is neither 429 nor 5xx; raises `gave_up(...)` when tries run out.

    `refused` None lets SafeHttp's refusal through as it is.
    """
    for attempt, delay in enumerate((*delays, None)):
        try:
            response = http.request(method, url, **request)
        except requests.RequestException as exc:
            if delay is None:
                raise gave_up(GaveUp(attempt, exception=exc)) from None
            sleep(delay)
            continue
        except LeadpipeError as exc:  # SafeHttp refused the URL
            if refused is None:
                raise
            raise refused(exc) from None
        if on_response is not None:
            on_response(response)
        status = response.status_code
        if status != 429 and status < 500:
            return response
        wait = retry_after(response) if honours_retry_after(status) else None
        if delay is None or (wait is not None and wait > max_retry_after):
            raise gave_up(GaveUp(attempt, status=status, retry_after=wait))
        sleep(wait if wait is not None else delay)
    raise AssertionError("unreachable")


def retry_after(response: requests.Response) -> float | None:
    """Retry-After in seconds (never negative); None when absent or an HTTP date."""
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None

"""Tests for chalicelib.adapters.retrying_http.send_with_retries: the shared back-off loop."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from chalicelib.adapters.retrying_http import GaveUp, send_with_retries
from chalicelib.adapters.safe_http import SafeHttp
from chalicelib.domain.errors import LeadpipeError

URL = "https://api.example.com/things"


class ScriptedHttp(SafeHttp):
    """Answers each request with the next scripted status (or raises the scripted error)."""

    def __init__(self, *answers: int | tuple[int, dict[str, str]] | Exception) -> None:
        super().__init__()
        self.answers = list(answers)
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.sleeps: list[float] = []  # what the loop slept, recorded instead of waited

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        self.calls.append((method, url, kwargs))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, headers = answer if isinstance(answer, tuple) else (answer, {})
        response = requests.Response()
        response.status_code = status
        response.headers.update(headers)
        response._content = b"{}"
        return response


class GaveUpError(Exception):
    def __init__(self, end: GaveUp) -> None:
        super().__init__(repr(end))
        self.end = end


def send(http: ScriptedHttp, **options: Any) -> requests.Response:
    return send_with_retries(http, "GET", URL, sleep=http.sleeps.append, gave_up=GaveUpError,
                             **options)


def test_an_answer_that_is_not_429_or_5xx_comes_back_at_once() -> None:
    # GIVEN an API that refuses with a 404
    http = ScriptedHttp(404)
    # WHEN a request is sent with request options
    response = send(http, params={"a": "1"}, headers={"Authorization": "Bearer t"})
    # THEN the caller gets the 404 itself, the options reached SafeHttp, nothing slept
    assert response.status_code == 404 and http.sleeps == []
    assert http.calls == [("GET", URL, {"params": {"a": "1"},
                                        "headers": {"Authorization": "Bearer t"}})]


def test_429_and_5xx_back_off_1_2_4_then_succeed() -> None:
    http = ScriptedHttp(429, 502, 503, 200)
    assert send(http).status_code == 200
    assert http.sleeps == [1.0, 2.0, 4.0]


def test_five_tries_then_the_callers_error() -> None:
    http = ScriptedHttp(*[500] * 5)
    with pytest.raises(GaveUpError) as raised:
        send(http)
    assert raised.value.end == GaveUp(retries=4, status=500)
    assert http.sleeps == [1.0, 2.0, 4.0, 8.0] and http.answers == []


def test_retry_after_is_waited_when_honoured_and_ignored_when_not() -> None:
    honoured = ScriptedHttp((429, {"Retry-After": "3"}), (503, {"Retry-After": "7"}), 200)
    send(honoured)
    assert honoured.sleeps == [3.0, 7.0]

    only_429 = ScriptedHttp((429, {"Retry-After": "3"}), (503, {"Retry-After": "7"}), 200)
    send(only_429, honours_retry_after=lambda status: status == 429)
    assert only_429.sleeps == [3.0, 2.0]

    never = ScriptedHttp((429, {"Retry-After": "3"}), 200)
    send(never, honours_retry_after=lambda status: False)
    assert never.sleeps == [1.0]


def test_a_retry_after_past_the_bound_gives_up_at_once() -> None:
    http = ScriptedHttp((429, {"Retry-After": "61"}))
    with pytest.raises(GaveUpError) as raised:
        send(http)
    assert raised.value.end == GaveUp(retries=0, status=429, retry_after=61.0)
    assert http.sleeps == []


def test_an_unreadable_or_negative_retry_after_falls_back_or_is_zero() -> None:
    http = ScriptedHttp((429, {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}),
                        (429, {"Retry-After": "-5"}), 200)
    send(http)
    assert http.sleeps == [1.0, 0.0]


def test_connection_failures_are_retried_then_reported_with_the_exception() -> None:
    failures = [requests.ConnectionError("refused") for _ in range(5)]
    http = ScriptedHttp(*failures)
    with pytest.raises(GaveUpError) as raised:
        send(http)
    assert raised.value.end == GaveUp(retries=4, exception=failures[-1])
    assert http.sleeps == [1.0, 2.0, 4.0, 8.0]


def test_a_refused_url_is_mapped_by_the_caller_or_let_through() -> None:
    refusal = LeadpipeError("private address", code="url_not_allowed")
    with pytest.raises(LeadpipeError) as raised:
        send(ScriptedHttp(refusal))
    assert raised.value is refusal

    with pytest.raises(ValueError, match="mapped: private address"):
        send(ScriptedHttp(refusal), refused=lambda e: ValueError(f"mapped: {e.message}"))


def test_on_response_sees_every_answer_and_may_stop_the_retries() -> None:
    seen: list[int] = []

    def quota(response: requests.Response) -> None:
        seen.append(response.status_code)
        if response.status_code == 429:
            raise RuntimeError("daily quota spent")

    http = ScriptedHttp(503, 429, 200)
    with pytest.raises(RuntimeError, match="daily quota"):
        send(http, on_response=quota)
    assert seen == [503, 429] and http.sleeps == [1.0]

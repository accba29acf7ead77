"""Logs are JSON with emails and phones masked; metrics go out as EMF."""

from __future__ import annotations

import io
import json

import pytest
from aws_lambda_powertools import Logger
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.adapters.telemetry import EmfMetrics, MaskingFormatter
from chalicelib.domain.pii import mask_pii


@pytest.mark.parametrize(("text", "masked"), [
    ("lead ada.l+x@acme.io failed", "lead ***@acme.io failed"),
    ('{"email": "ADA@EXAMPLE.COM"}', '{"email": "***@EXAMPLE.COM"}'),
    ("+1 (415) 555-0134", "***34"), ("+14155550134", "***34"), ("(415) 555-0134", "***34"),
    ("415.555.0134", "***34"), ("call 4155550134 now", "call ***34 now"),
    ("+44 20 7946 0018", "***18"),
])
def test_emails_and_phones_are_masked(text: str, masked: str) -> None:
    assert mask_pii(text) == masked


@pytest.mark.parametrize("text", [
    "2026-11-22 06:15:45,272+0000", "ld_01m80yaypxd7xrjzbg3aq3bvab", "chunk 12 of 1000 rows",
    "v=spf1 -all", "127.0.0.1:5353", "took 1.25 s", "im_01m80yaz2rnzssrwjh0kaqfcqv/0000012",
])
def test_what_is_not_personal_is_left_alone(text: str) -> None:
    assert mask_pii(text) == text


@given(st.from_regex(r"[a-z0-9._%+-]{1,20}@[a-z0-9-]{1,20}\.[a-z]{2,6}", fullmatch=True),
       st.text(alphabet=" :=,'\"", max_size=3))
def test_no_generated_email_survives(email: str, glue: str) -> None:
    local = email.split("@")[0]
    out = mask_pii(f"error for{glue}{email}{glue}in chunk")
    assert email not in out and f"{local}@" not in out


def test_log_lines_are_json_and_masked_everywhere() -> None:
    # GIVEN the formatter our logger uses, writing to a buffer
    stream = io.StringIO()
    log = Logger(service="leadpipe-test", logger_formatter=MaskingFormatter(), stream=stream)
    # WHEN a message, an extra key and an exception all carry personal data
    try:
        raise ValueError("bad row for grace@navy.mil / +1 212 555 0199")
    except ValueError:
        log.exception("import of ada@acme.io failed", extra={"phone": "+14155550134"})
    # THEN the line is JSON and none of it survives
    line = stream.getvalue()
    record = json.loads(line)
    assert record["message"] == "import of ***@acme.io failed"
    assert record["phone"] == "***34"
    for secret in ("ada@", "grace@", "4155550134", "555 0199"):
        assert secret not in line
    assert "***@navy.mil" in record["exception"]


def test_metrics_are_emitted_as_emf(capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    metrics = EmfMetrics()
    metrics._metrics.clear_metrics()  # powertools' store is per process, shared
    metrics.add("RowsImported", 880)
    metrics.add("RowsRejected", 0)  # zero: not sent
    metrics.flush()
    blob = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    directive = blob["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "leadpipe"
    assert [m["Name"] for m in directive["Metrics"]] == ["RowsImported"]
    assert blob["RowsImported"] == [880.0] or blob["RowsImported"] == 880.0
    assert blob["stage"] == "test"


def test_nothing_is_collected_while_metrics_are_disabled(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    metrics = EmfMetrics()
    metrics._metrics.clear_metrics()
    metrics.add("RowsImported", 5)
    metrics.flush()
    assert metrics._metrics.metric_set == {}
    assert capsys.readouterr().out == ""

"""The low-level DynamoDB client's botocore settings (chalicelib/config.py)."""

from __future__ import annotations

import pytest
from botocore.exceptions import EndpointConnectionError, ParamValidationError

from chalicelib.adapters.dynamo_low_level import LowLevelTable
from chalicelib.config import get_settings


@pytest.mark.parametrize(("value", "validated"), [(None, True), ("1", True), ("0", False)])
def test_request_validation_is_kept_unless_the_local_stack_turns_it_off(
        monkeypatch: pytest.MonkeyPatch, value: str | None, validated: bool) -> None:
    if value is None:
        monkeypatch.delenv("LEADPIPE_BOTO_PARAM_VALIDATION", raising=False)
    else:
        monkeypatch.setenv("LEADPIPE_BOTO_PARAM_VALIDATION", value)
    # Nothing listens there: a request that passes botocore's checks fails to connect.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    get_settings.cache_clear()
    try:
        client = LowLevelTable().client
        with pytest.raises(ParamValidationError if validated else EndpointConnectionError):
            client.put_item(TableName="t", Item={"pk": {"S": 5}})  # a number for a string
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()

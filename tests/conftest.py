"""Test-wide setup: fake AWS credentials, one in-process moto for the session."""

from __future__ import annotations

import os

# Settings are read once per process: set the environment before any import of
# chalicelib. Tests never reach real AWS; AWS_ENDPOINT_URL would point boto at
# a server, so it is removed for the in-process moto.
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "LEADPIPE_STAGE": "test",
    # Small budgets make the background hand-off of long operations testable.
    "LEADPIPE_REQUEST_BUDGET_SECONDS": "5",
})

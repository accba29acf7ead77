"""Schemathesis hooks: the probe's hostile inputs, sent to every operation they fit.

Loaded with SCHEMATHESIS_HOOKS=tests.e2e.fuzz_probes by the schemathesis run
in test_local_stack.py. Random generation rarely draws a superscript digit
or JSON nested 2,000 deep, the inputs that once answered 500 (issue 10), so
they are added as explicit examples: every paged operation gets odd limits,
every operation with a JSON body gets the deep document. Each probe's
response is written to $LEADPIPE_PROBE_LOG (one JSON line) for the test to
check that they were sent and refused with 400.
"""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis

PROBE_HEADER = "X-Leadpipe-Probe"
ODD_LIMITS = {"superscript": "\u00b2", "arabic_indic": "\u0663", "fullwidth": "\uff15",
              "5000_digits": "1" * 5000}
DEEP_JSON = b'{"name": "deep", "x": ' + b"[" * 2000 + b"]" * 2000 + b"}"


def _path_values(operation: Any) -> dict[str, str]:
    return {p.name: "probe" for p in operation.path_parameters}


@schemathesis.hook
def before_add_examples(context: Any, examples: list[Any]) -> None:
    operation = context.operation
    if operation is None:
        return
    path = _path_values(operation)
    if any(p.name == "limit" for p in operation.query):
        for name, limit in ODD_LIMITS.items():
            examples.append(operation.Case(path_parameters=path, query={"limit": limit},
                                           headers={PROBE_HEADER: f"limit-{name}"}))
    if operation.method.upper() in ("POST", "PATCH", "PUT") and operation.body:
        examples.append(operation.Case(path_parameters=path, body={"probe": True},
                                       media_type="application/json",
                                       headers={PROBE_HEADER: "deep-json"}))


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if (case.headers or {}).get(PROBE_HEADER) == "deep-json":
        # Serialised by hand: no JSON encoder nests 2,000 deep.
        # The case's media type already sets Content-Type: application/json.
        kwargs.pop("json", None)
        kwargs["data"] = DEEP_JSON


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    probe = (case.headers or {}).get(PROBE_HEADER)
    target = os.environ.get("LEADPIPE_PROBE_LOG")
    if not probe or not target:
        return
    try:
        code = json.loads(response.content).get("error", {}).get("code")
    except (ValueError, AttributeError):
        code = None
    with open(target, "a", encoding="utf-8") as out:
        out.write(json.dumps({"probe": probe, "method": case.method, "path": case.path,
                              "status": response.status_code, "code": code}) + "\n")

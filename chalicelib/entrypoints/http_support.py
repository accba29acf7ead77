"""What every HTTP handler shares: auth, JSON bodies, query params, error responses."""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from chalice.app import Request, Response

from chalicelib.bootstrap import services
from chalicelib.config import get_settings
from chalicelib.domain.errors import BadRequest, LeadpipeError, PayloadTooLarge, RateLimited

logger = logging.getLogger("leadpipe.http")
# Content types a JSON body may arrive with: curl's -d sends form-urlencoded,
# and refusing it would greet every newcomer's first request with a 415.
BODY_CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain"]
MAX_PAGE = 200
DEFAULT_PAGE = 50


def error_body(code: str, message: str, details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": dict(details or {})}}


def error_response(error: LeadpipeError) -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": "application/json"}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    return Response(body=error_body(error.code, error.message, error.details),
                    status_code=error.status, headers=headers)


def json_response(body: Any, status: int = 200) -> Response:
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})


def handles_errors(view: Callable[..., Response]) -> Callable[..., Response]:
    """Turn our errors into their status and body; anything else into a bare 500."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except LeadpipeError as exc:
            return error_response(exc)
        except Exception:
            # Full detail goes to the log only; the client never sees a stack trace.
            logger.exception("unhandled error in %s", view.__name__)
            return json_response(error_body("internal_error", "An internal error occurred"),
                                 status=500)

    return wrapper


def workspace_of(request: Request) -> str:
    """The caller's workspace (401 without a usable token), counted against its rate limit."""
    wired = services()
    workspace = wired.auth.authenticate(request.headers.get("authorization"))
    wired.rate_limiter.check(workspace)
    return workspace


def read_json(request: Request) -> dict[str, Any]:
    raw = request.raw_body or b""
    if len(raw) > get_settings().max_body_bytes:
        raise PayloadTooLarge(f"The body is over {get_settings().max_body_bytes} bytes",
                              details={"max_bytes": get_settings().max_body_bytes})
    if not raw.strip():
        raise BadRequest("A JSON object body is required", code="invalid_json")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}", code="invalid_json") from exc
    except RecursionError as exc:  # nested deeper than the parser's stack allows
        raise BadRequest("The body is nested too deeply", code="invalid_json") from exc
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object", code="invalid_json")
    return data


def query(request: Request, allowed: set[str], *, prefixes: tuple[str, ...] = ()) -> dict[str, str]:
    """The query parameters, refusing any not in `allowed` nor starting with a prefix."""
    params = dict(request.query_params or {})
    unknown = sorted(p for p in set(params) - allowed if not p.startswith(prefixes))
    if unknown:
        raise BadRequest(f"Unknown query parameter(s): {', '.join(unknown)}",
                         code="unknown_parameter", details={"parameters": unknown})
    return params


_LIMIT = re.compile(r"[0-9]{1,6}")


def page_args(params: Mapping[str, str]) -> tuple[int, str | None]:
    raw = params.get("limit")
    limit = DEFAULT_PAGE
    if raw is not None:
        # ASCII digits only, and few of them: str.isdigit() accepts "²" and "٣",
        # which int() refuses, and a 5,000-digit number costs int() a lot.
        if not _LIMIT.fullmatch(raw) or not 1 <= int(raw) <= MAX_PAGE:
            raise BadRequest(f"limit is an integer from 1 to {MAX_PAGE}", code="invalid_limit")
        limit = int(raw)
    cursor = params.get("cursor") or None
    return limit, cursor


def rewrite_chalice_errors(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """HTTP middleware: Chalice's own errors (405, 415, ...) in our error shape."""
    response = get_response(event)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        code = {405: "method_not_allowed", 415: "unsupported_media_type",
                404: "not_found", 400: "bad_request"}.get(response.status_code, "error")
        if response.status_code >= 500:
            code = "internal_error"
        response.body = error_body(code, str(body.get("Message", "")))
    return response

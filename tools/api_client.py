"""A small client of leadpipe's HTTP API, for the CLI (which uses nothing else)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import requests

DEFAULT_PORT = 8000
RATE_LIMIT_RETRIES = 5  # 429s waited out before giving up


class ApiError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        self.status = status
        self.code = error.get("code", "error")
        self.message = str(error.get("message", body))
        self.details = error.get("details") or {}
        super().__init__(f"{status} {self.code}: {self.message}")


class LeadpipeApi:
    def __init__(self, url: str | None = None, token: str | None = None) -> None:
        port = os.environ.get("LEADPIPE_PORT", str(DEFAULT_PORT))
        self.url = (url or os.environ.get("LEADPIPE_API_URL")
                    or f"http://127.0.0.1:{port}").rstrip("/")
        self.token = token or os.environ.get("LEADPIPE_TOKEN", "")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {self.token}"

    def call(self, method: str, path: str, json: Any = None,
             params: dict[str, Any] | None = None) -> Any:
        for _ in range(RATE_LIMIT_RETRIES):
            try:
                response = self.session.request(method, self.url + path, json=json,
                                                params=params, timeout=60)
            except requests.RequestException as exc:
                # An error message, not a traceback: the usual cause is a stack not running.
                raise ApiError(0, {"error": {"code": "unreachable", "message": (
                    f"cannot reach the API at {self.url} ({type(exc).__name__}); is it "
                    "running (make run), and is LEADPIPE_API_URL right?")}}) from exc
            if response.status_code != 429:
                break
            # The workspace's per-minute limit: wait as told, then try again.
            time.sleep(min(60, int(response.headers.get("Retry-After", "1"))))
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = response.text
            raise ApiError(response.status_code, body)
        if response.headers.get("Content-Type", "").startswith("application/json"):
            # A 204 (a delete) has no body, whatever its Content-Type says.
            return response.json() if response.content else None
        return response.text

    def pages(self, path: str, params: dict[str, Any] | None = None) -> Any:
        cursor = None
        while True:
            page = self.call("GET", path, params={**(params or {}), "limit": 200,
                                                  **({"cursor": cursor} if cursor else {})})
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def find_list(self, name_or_id: str) -> dict[str, Any] | None:
        if name_or_id.startswith("ls_"):
            try:
                result: dict[str, Any] = self.call("GET", f"/lists/{name_or_id}")
                return result
            except ApiError as exc:
                if exc.status != 404:
                    raise
        matches = [lst for lst in self.pages("/lists") if lst["name"] == name_or_id]
        return matches[0] if matches else None

    def wait_import(self, import_id: str, statuses: set[str],
                    timeout: float = 600.0) -> dict[str, Any]:
        """Poll an import until its status is one of `statuses` (or time runs out)."""
        deadline = time.monotonic() + timeout
        while True:
            job: dict[str, Any] = self.call("GET", f"/imports/{import_id}")
            if job["status"] in statuses or time.monotonic() > deadline:
                return job
            self.pause(0.3)

    def pause(self, seconds: float) -> None:
        """Wait between two polls of an import (tests do the background work here instead)."""
        time.sleep(seconds)

    def upload(self, form: dict[str, Any], path: Path) -> None:
        with path.open("rb") as handle:
            response = requests.post(form["url"], data=form["fields"],
                                     files={"file": (path.name, handle)}, timeout=600)
        if response.status_code >= 300:
            raise ApiError(response.status_code, {"error": {
                "code": "upload_failed", "message": response.text[:300]}})

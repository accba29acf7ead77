"""The web app's files under /app/: a client of the public JSON API, served by the same app.

No route here reads leads or lists: every screen calls the API with the
token the browser holds, so the screens and the API cannot disagree.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from chalice.app import Blueprint, Response

from chalicelib.bootstrap import services
from chalicelib.domain.web_assets import Asset, answer, content_security_policy, make_asset
from chalicelib.entrypoints.http_support import error_body, json_response

web_app = Blueprint(__name__)
WEBAPP_DIR = Path(__file__).resolve().parents[1] / "webapp"
# Plain file names only: no dot files, no path tricks.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,80}")


@lru_cache(maxsize=1)
def _assets() -> dict[str, Asset]:
    found: dict[str, Asset] = {}
    for path in sorted(WEBAPP_DIR.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            name = path.relative_to(WEBAPP_DIR).as_posix()
            found[name] = make_asset(name, path.read_bytes())
    return found


@lru_cache(maxsize=1)
def _csp() -> str:
    # The browser talks to the API (self) and, for uploads and downloads, to the
    # file store's presigned URLs: their origin is whatever boto3 signs for.
    return content_security_policy(services().browser_origins)


def _serve(name: str) -> Response:
    asset = _assets().get(name)
    if asset is None:
        return json_response(error_body("not_found", "No such file in the web app"), 404)
    request = web_app.current_request
    headers = {k.lower(): v for k, v in (request.headers or {}).items()}
    result = answer(asset, headers, _csp())
    return Response(body=result.body, status_code=result.status,
                    headers=dict(result.headers))


@web_app.route("/app", methods=["GET"])
def index() -> Response:
    path = str((web_app.current_request.context or {}).get("path", ""))
    if not path.endswith("/"):
        # Relative links in the page resolve against /app/ (and /<stage>/app/ on AWS).
        return Response(body="", status_code=302, headers={"Location": "app/"})
    return _serve("index.html")


@web_app.route("/app/{name}", methods=["GET"])
def top_file(name: str) -> Response:
    return _serve(name) if _NAME.fullmatch(name) else _serve("")


@web_app.route("/app/js/{name}", methods=["GET"])
def script_file(name: str) -> Response:
    return _serve(f"js/{name}") if _NAME.fullmatch(name) else _serve("")

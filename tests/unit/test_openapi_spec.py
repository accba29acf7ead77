"""openapi.yaml is valid OpenAPI 3.1 and matches the routes the Chalice app registers."""

from pathlib import Path

import schemathesis
import yaml
from openapi_spec_validator import validate

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _spec() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


def _operations(spec: dict) -> dict[tuple[str, str], dict]:
    return {
        (path, method.upper()): op
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


def test_spec_is_valid_openapi_with_ids_and_401s():
    spec = _spec()
    assert spec["openapi"].startswith("3.1")
    validate(spec)
    schemathesis.openapi.from_path(SPEC_PATH)
    operations = _operations(spec)
    assert operations
    ids = [op.get("operationId") for op in operations.values()]
    assert all(ids), "every operation needs an operationId"
    assert len(ids) == len(set(ids)), "operationIds must be unique"
    for (path, method), op in operations.items():
        if path == "/health":
            assert op.get("security") == [], "GET /health must not need auth"
        elif path == "/app" or path.startswith("/app/"):
            # The web app's static files: the token stays in the browser.
            assert op.get("security") == [], f"{method} {path} must not need auth"
            assert "200" in op["responses"] and "304" in op["responses"]
        elif path.startswith("/oauth/"):
            # The provider's redirect back: the sealed state, not a token, says who asked.
            assert op.get("security") == [], f"{method} {path} must not need auth"
            assert "400" in op["responses"], f"{method} {path} lacks a 400 response"
        else:
            assert "401" in op["responses"], f"{method} {path} lacks a 401 response"
            # Every authenticated request counts against the workspace's rate limit.
            assert "429" in op["responses"], f"{method} {path} lacks a 429 response"


def test_spec_paths_match_app_routes():
    from app import app

    registered = {
        (path, method.upper()) for path, methods in app.routes.items() for method in methods
    }
    documented = set(_operations(_spec()))
    assert registered - documented == set(), "routes missing from openapi.yaml"
    assert documented - registered == set(), "documented paths the app does not register"

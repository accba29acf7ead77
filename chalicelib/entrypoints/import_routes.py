"""HTTP routes for imports: create (presigned upload), read, start, error report, delete."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.bootstrap import services
from chalicelib.domain.errors import FieldError, ValidationFailed
from chalicelib.domain.imports import check_start_mapping
from chalicelib.entrypoints.http_support import (
    BODY_CONTENT_TYPES,
    handles_errors,
    json_response,
    page_args,
    query,
    read_json,
    workspace_of,
)
from chalicelib.services.import_report import ReportLink

imports_api = Blueprint(__name__)


@imports_api.route("/lists/{list_id}/imports", methods=["POST"],
                   content_types=BODY_CONTENT_TYPES)
@handles_errors
def create_import(list_id: str) -> Response:
    request = imports_api.current_request
    workspace = workspace_of(request)
    service = services().imports
    job, upload = service.create(workspace, list_id, read_json(request))
    if upload is None:  # a connected source: nothing to upload, analysis has started
        return json_response(job.to_api(), status=201)
    return json_response({**job.to_api(), "upload": upload, **service.upload_info()},
                         status=201)


@imports_api.route("/lists/{list_id}/imports", methods=["GET"])
@handles_errors
def list_imports(list_id: str) -> Response:
    request = imports_api.current_request
    workspace = workspace_of(request)
    limit, cursor = page_args(query(request, {"limit", "cursor"}))
    jobs, next_cursor = services().imports.page(workspace, list_id, limit, cursor)
    return json_response({"items": [j.to_api() for j in jobs], "next_cursor": next_cursor})


@imports_api.route("/imports/template.csv", methods=["GET"])
@handles_errors
def import_template() -> Response:
    workspace_of(imports_api.current_request)
    return Response(body=services().imports.template_csv(), status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": 'attachment; filename="leadpipe-template.csv"'})


@imports_api.route("/imports/{import_id}", methods=["GET"])
@handles_errors
def get_import(import_id: str) -> Response:
    workspace = workspace_of(imports_api.current_request)
    return json_response(services().imports.get_full(workspace, import_id).to_api())


@imports_api.route("/imports/{import_id}", methods=["DELETE"])
@handles_errors
def delete_import(import_id: str) -> Response:
    workspace = workspace_of(imports_api.current_request)
    services().imports.delete(workspace, import_id)
    return Response(body="", status_code=204)


@imports_api.route("/imports/{import_id}/start", methods=["POST"],
                   content_types=BODY_CONTENT_TYPES)
@handles_errors
def start_import(import_id: str) -> Response:
    request = imports_api.current_request
    workspace = workspace_of(request)
    body = read_json(request) if (request.raw_body or b"").strip() else {}
    return json_response(services().imports.start(workspace, import_id, body).to_api(),
                         status=202)


@imports_api.route("/imports/{import_id}/preview", methods=["POST"],
                   content_types=BODY_CONTENT_TYPES)
@handles_errors
def preview_import(import_id: str) -> Response:
    """The first rows and the sample summary under another mapping (nothing stored)."""
    request = imports_api.current_request
    workspace = workspace_of(request)
    body = read_json(request) if (request.raw_body or b"").strip() else {}
    unknown = sorted(set(body) - {"mapping"})
    if unknown:
        raise ValidationFailed([FieldError(k, "unknown_field", f"Unknown field {k!r}")
                                for k in unknown])
    job = services().imports.get(workspace, import_id)
    return json_response(services().import_analyser.preview(
        job, check_start_mapping(body.get("mapping"))))


@imports_api.route("/imports/{import_id}/errors", methods=["GET"])
@handles_errors
def import_errors(import_id: str) -> Response:
    workspace = workspace_of(imports_api.current_request)
    report = services().imports.error_report(workspace, import_id)
    if isinstance(report, ReportLink):  # too large for a Lambda response
        return Response(body="", status_code=303, headers={"Location": report.url})
    return Response(body=report.body, status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{import_id}-errors.csv"'})

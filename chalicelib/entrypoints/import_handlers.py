"""SQS handlers of the import pipeline: each message alone, failures per item."""

from __future__ import annotations

from typing import Any

from chalicelib.bootstrap import services
from chalicelib.entrypoints.sqs_records import each_record


def on_upload_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    return each_record(records, services().imports.on_s3_event)


def on_split_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    return each_record(records, lambda body: services().imports.split(str(body["import_id"])))


def on_chunk_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    return each_record(records, services().imports.process_chunk)


def on_chunk_dlq_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    return each_record(records, services().imports.salvage_chunk)


def on_split_dlq_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    return each_record(records, services().imports.fail_split)


def on_upload_dlq_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    return each_record(records, services().imports.fail_analysis)

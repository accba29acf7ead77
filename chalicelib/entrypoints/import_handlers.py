"""SQS handlers of the import pipeline: each message alone, failures per item."""

from __future__ import annotations

from typing import Any

from chalicelib.bootstrap import services
from chalicelib.entrypoints.sqs_records import each_record


def on_upload_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    return each_record(records, services().import_analyser.on_upload)


def on_split_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    return each_record(records, services().import_splitter.on_message)


def on_chunk_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    return each_record(records, services().import_chunks.on_message)


def on_chunk_dlq_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    return each_record(records, services().import_chunks.salvage)


def on_split_dlq_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    return each_record(records, services().import_splitter.fail_split)


def on_upload_dlq_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    return each_record(records, services().import_analyser.fail_analysis)

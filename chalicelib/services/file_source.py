"""An uploaded file as a row source: checked, pinned, sniffed, then read as rows.

CSV is streamed from S3; spreadsheets and JSON documents are read from a
temporary file (their readers need to seek; Lambda's /tmp holds them).
"""

from __future__ import annotations

import codecs
import io
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from chalicelib.domain.errors import PayloadTooLarge
from chalicelib.domain.file_format import FileFormat, UnreadableFile, sniff
from chalicelib.domain.import_job import ImportJob
from chalicelib.domain.row_reader import Row, iter_rows
from chalicelib.services.ports import FileStore

HEAD_BYTES = 1024 * 1024
ALLOWED_EXTENSIONS = (".csv", ".tsv", ".txt", ".xlsx", ".xls", ".ods", ".json", ".jsonl",
                      ".ndjson")


def complete_lines(head: bytes, fmt: FileFormat) -> tuple[bytes, FileFormat]:
    """The whole lines of a file's first bytes, as UTF-8, for the analysis.

    The cut may fall inside a character (UTF-8, UTF-16) or a row: decode what
    is complete, drop the last partial line, and hand on UTF-8.
    """
    decoder = codecs.getincrementaldecoder(fmt.encoding or "utf-8")(errors="replace")
    text = decoder.decode(head, final=False)
    cut = text.rfind("\n")
    if cut >= 0:
        text = text[: cut + 1]
    return text.encode("utf-8"), replace(fmt, encoding="utf-8")


def stored_key(import_id: str) -> str:
    """Where the analysed copy of an upload lives (no upload form can write there)."""
    return f"files/{import_id}"


class FileRowSource:
    def __init__(self, files: FileStore, *, max_bytes: int) -> None:
        self._files = files
        self._max_bytes = max_bytes

    def prepare(self, job: ImportJob) -> dict[str, Any]:
        stored = stored_key(job.id)
        found = self._files.head(job.object_key)
        if found is None:
            # A redelivered or resumed analysis: the upload may already be copied away.
            found = self._files.head(stored)
            if found is None:
                raise UnreadableFile("The uploaded file is gone", code="upload_missing")
        else:
            size, etag = found
            if size > self._max_bytes:
                self._files.delete(job.object_key)
                raise PayloadTooLarge(
                    f"The file is {size} bytes; the limit is {self._max_bytes}",
                    code="file_too_large")
            # What is analysed is what is imported: keep this exact version under a
            # key no upload form can write, and free the upload key.
            self._files.copy(job.object_key, stored, etag)
            self._files.delete(job.object_key)
        size, etag = found
        if size == 0:
            raise UnreadableFile("The file is empty", code="empty_file")
        head = self._files.read_head(stored, HEAD_BYTES, etag)
        fmt = sniff(head, job.filename)
        return {"kind": fmt.kind, "encoding": fmt.encoding, "delimiter": fmt.delimiter,
                "size": size, "etag": etag, "key": stored, "sheet": job.sheet}

    @contextmanager
    def open_rows(self, job: ImportJob, info: Mapping[str, Any], *,
                  sample: bool) -> Iterator[Iterator[Row]]:
        fmt = FileFormat(kind=info["kind"], encoding=info.get("encoding"),
                         delimiter=info.get("delimiter"))
        key = str(info.get("key") or stored_key(job.id))
        etag = info.get("etag")
        size = int(info.get("size") or 0)
        if fmt.kind == "csv" and sample:
            # The analysis needs only the first rows: whole lines of the head.
            head = self._files.read_head(key, HEAD_BYTES, etag)
            if size <= len(head):
                yield iter_rows(io.BytesIO(head), fmt)
            else:
                text, utf8 = complete_lines(head, fmt)
                yield iter_rows(io.BytesIO(text), utf8)
        elif fmt.kind == "csv":
            stream = self._files.open_stream(key, etag)
            try:
                yield iter_rows(stream, fmt)
            finally:
                stream.close()
        else:
            handle, path = tempfile.mkstemp(suffix="." + fmt.kind)
            os.close(handle)
            try:
                self._files.download(key, path, etag)
                with open(path, "rb") as document:
                    yield iter_rows(document, fmt, info.get("sheet"))
            finally:
                os.unlink(path)

"""A Google Sheet as a row source, and the router that picks an import's source.

The sheet is read once, at analysis, and pinned: its cells are written as a
UTF-8 CSV under the import's `files/` key, so what the preview showed is what
the split imports even if someone edits the sheet meanwhile, and everything
after analysis is the file pipeline's. The token is the connection's
(refreshed as needed, once more after a 401) or one given with the import
(sealed by KMS in the import's source settings, never shown).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

from chalicelib.domain.import_job import ImportJob
from chalicelib.domain.row_reader import Row
from chalicelib.domain.sheet_source import SOURCE, text_rows
from chalicelib.services.analysis_store import AnalysisStore
from chalicelib.services.connections import ConnectionService
from chalicelib.services.file_source import FileRowSource, stored_key
from chalicelib.services.ports import FileStore, RowSource, SecretBox

TOKEN_PURPOSE = "import_token"  # noqa: S105 (a KMS encryption-context value)


class SheetsReader(Protocol):
    def sheet_titles(self, spreadsheet_id: str, token: str) -> list[str]: ...
    def values(self, spreadsheet_id: str, title: str, token: str) -> list[list[Any]]: ...


class SheetRowSource:
    def __init__(self, reader: SheetsReader, files: FileStore, analyses: AnalysisStore,
                 connections: ConnectionService, box: SecretBox, file_rows: FileRowSource,
                 unauthorized: type[Exception]) -> None:
        self._reader = reader
        self._files = files
        self._analyses = analyses
        self._connections = connections
        self._box = box
        self._file_rows = file_rows
        self._unauthorized = unauthorized

    def prepare(self, job: ImportJob) -> dict[str, Any]:
        source = dict(self._analyses.load(job.id).get("source") or {})
        spreadsheet_id = str(source["spreadsheet_id"])
        title, values = self._read(job, source, spreadsheet_id)
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(text_rows(values))
        data = buffer.getvalue().encode("utf-8")
        key = stored_key(job.id)
        self._files.put_bytes(key, data, "text/csv")
        found = self._files.head(key)
        size, etag = found if found else (len(data), None)
        return {"kind": "csv", "encoding": "utf-8", "delimiter": ",", "size": size,
                "etag": etag, "key": key, "sheet": title, "spreadsheet_id": spreadsheet_id}

    def _read(self, job: ImportJob, source: Mapping[str, Any],
              spreadsheet_id: str) -> tuple[str, list[list[Any]]]:
        connection_id = source.get("connection_id")
        if connection_id:
            _, credentials = self._connections.credentials(job.workspace, str(connection_id))
            try:
                return self._fetch(spreadsheet_id, job.sheet, str(credentials.access_token))
            except self._unauthorized:
                _, credentials = self._connections.after_unauthorized(
                    job.workspace, str(connection_id), credentials)
                return self._fetch(spreadsheet_id, job.sheet, str(credentials.access_token))
        token = str(self._box.open(job.workspace, TOKEN_PURPOSE,
                                   str(source["sealed_token"]))["access_token"])
        return self._fetch(spreadsheet_id, job.sheet, token)

    def _fetch(self, spreadsheet_id: str, sheet: str | None,
               token: str) -> tuple[str, list[list[Any]]]:
        title = sheet
        if title is None:  # the first sheet, as Google orders them
            titles = self._reader.sheet_titles(spreadsheet_id, token)
            title = titles[0] if titles else "Sheet1"
        return title, self._reader.values(spreadsheet_id, title, token)

    def open_rows(self, job: ImportJob, info: Mapping[str, Any], *,
                  sample: bool) -> AbstractContextManager[Iterator[Row]]:
        return self._file_rows.open_rows(job, info, sample=sample)


class SourceRouter:
    """The RowSource of an import, by its `source`: an upload unless it says otherwise."""

    def __init__(self, file_rows: RowSource, **others: RowSource) -> None:
        self._file = file_rows
        self._others = others

    def _of(self, job: ImportJob) -> RowSource:
        return self._others.get(job.source, self._file)

    def prepare(self, job: ImportJob) -> dict[str, Any]:
        return self._of(job).prepare(job)

    def pager_for(self, job: ImportJob) -> Any:
        """The import's source if it is read page by page (a CRM), else None."""
        source = self._of(job)
        return source if hasattr(source, "pages") else None

    def open_rows(self, job: ImportJob, info: Mapping[str, Any], *,
                  sample: bool) -> AbstractContextManager[Iterator[Row]]:
        return self._of(job).open_rows(job, info, sample=sample)


__all__ = ["SOURCE", "TOKEN_PURPOSE", "SheetRowSource", "SourceRouter"]

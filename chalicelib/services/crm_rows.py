"""A CRM object as a row source: a sync run reads it page by page while splitting.

A run has no analysis step: its columns are the CRM fields the sync reads
(plus location, crm_id and tags, see domain/syncs.py), fixed when the run is
created. The splitter reads it page by page (`pages`), cuts each page into
chunks, and records where the next page starts before announcing them, so a
splitter that dies part way resumes at that page. A refused token is
refreshed once and the page asked again. A record deleted in the CRM comes
as a row tagged `deleted-in-<crm>` (an existing lead gets the tag; leads are
never deleted by a sync), except on a first run, where it is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from chalicelib.domain.connections import Provider
from chalicelib.domain.import_job import ImportJob
from chalicelib.domain.row_reader import Row
from chalicelib.domain.syncs import header, record_row
from chalicelib.services.analysis_store import AnalysisStore
from chalicelib.services.connections import ConnectionService
from chalicelib.services.crm_ports import CrmAuth, CrmPage, CrmReader, CrmUnauthorized


class CrmRowSource:
    def __init__(self, readers: Mapping[Provider, CrmReader], analyses: AnalysisStore,
                 connections: ConnectionService) -> None:
        self._readers = readers
        self._analyses = analyses
        self._connections = connections

    def prepare(self, job: ImportJob) -> dict[str, Any]:
        return dict(job.file or {})  # a run is created ready: nothing to analyse

    @contextmanager
    def open_rows(self, job: ImportJob, info: Mapping[str, Any], *,
                  sample: bool) -> Iterator[Iterator[Row]]:
        source = dict(self._analyses.load(job.id, final=True).get("source") or {})
        yield self._rows(job, source)

    def pages(self, job: ImportJob, *, cursor: str | None,
              first_number: int) -> Iterator[tuple[list[Row], str | None]]:
        """The data rows page by page from `cursor` (None: the first page), each with
        the cursor of the page after it (None after the last); rows numbered on
        from `first_number`. The splitter checkpoints between pages."""
        source = dict(self._analyses.load(job.id, final=True).get("source") or {})
        provider = Provider(source["provider"])
        crm_object = str(source["object"])
        fields = [str(f) for f in source["fields"]]
        first_run = not source.get("since")
        number = first_number
        while True:
            page = self._page(job, source, fields, cursor)
            rows: list[Row] = []
            for record in page.records:
                if record.deleted and first_run:
                    continue
                rows.append(Row(number, record_row(provider, crm_object, fields, record.id,
                                                   record.fields, record.deleted)))
                number += 1
            yield rows, page.cursor
            if not page.cursor:
                return
            cursor = page.cursor

    def _rows(self, job: ImportJob, source: Mapping[str, Any]) -> Iterator[Row]:
        yield Row(0, header([str(f) for f in source["fields"]]))
        for rows, _ in self.pages(job, cursor=None, first_number=1):
            yield from rows

    def _page(self, job: ImportJob, source: Mapping[str, Any], fields: list[str],
              cursor: str | None) -> CrmPage:
        reader = self._readers[Provider(source["provider"])]
        connection_id = str(source["connection_id"])
        _, credentials = self._connections.credentials(job.workspace, connection_id)
        since = source.get("since")
        args = (str(source["object"]), fields, str(since) if since else None, cursor)
        try:
            return reader.page(_auth(credentials.access_token, credentials.instance_url), *args)
        except CrmUnauthorized:
            _, credentials = self._connections.after_unauthorized(job.workspace, connection_id,
                                                                  credentials)
            return reader.page(_auth(credentials.access_token, credentials.instance_url), *args)


def _auth(token: str | None, instance_url: str | None) -> CrmAuth:
    return CrmAuth(access_token=token or "", instance_url=instance_url)

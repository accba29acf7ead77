"""An import's error report: one CSV part per chunk in S3, served back as one file.

Rows that were rejected, or saved with warnings, with their codes and reasons
and the row's own cells (made inert: a report is opened in spreadsheets).

A small report is answered inline; a larger one is assembled once into
errors/<import>/report.csv (S3 multipart, a part in memory at a time) and
answered with a short-lived presigned URL. The assembled object records a
digest of the parts it was made from (their keys and ETags, and the header),
so it is reused until a part is added or rewritten: for a finished import that
is forever, for a running one until its next chunk reports. A digest rather
than "newer than the import's finish": S3 times have 1 s precision, and a
late part (a redelivered chunk) would not move the finish.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from chalicelib.domain.csv_export import inert_cell
from chalicelib.domain.errors import FieldError
from chalicelib.services.ports import FileStore, StoredObject

# Lambda answers at most 6 MB (6,291,456 bytes), counted on the JSON envelope
# the proxy integration returns, not on the CSV: the body travels as a JSON
# string, where CR, LF and '"' take 2 bytes and a non-ASCII character up to 6
# ("\u00e9"). A typical report (CRLF every ~200 bytes, a few quoted cells)
# grows ~2%; 4 MiB leaves 2 MiB (+50%) for escaping, headers and envelope. A
# report under it whose encoded body still would not fit (mostly non-ASCII
# text) is sent as a link too: `_fits_response` checks the real encoding.
INLINE_REPORT_MAX_BYTES = 4 * 1024 * 1024
# The whole Lambda response: 6 MB less 64 KiB for status, headers and envelope.
RESPONSE_MAX_BYTES = 6 * 1024 * 1024 - 64 * 1024
CONTENT_TYPE = "text/csv; charset=utf-8"
# Parts read at once while a report is put together: one at a time, a 300k-row
# report (300 parts of ~400 KB) spends ~10 s of the API's 29 s waiting on S3.
_READ_AHEAD = 8
_DIGEST = "parts-digest"


@dataclass(frozen=True)
class InlineReport:
    """The report itself, small enough for a Lambda response."""

    body: str


@dataclass(frozen=True)
class ReportLink:
    """Where to download the assembled report (a presigned GET, short-lived)."""

    url: str


@dataclass(frozen=True)
class ReportRow:
    number: int  # the row's number in the source; -1 for a line about many rows
    cells: Sequence[str]
    errors: Sequence[FieldError] = ()
    warnings: Sequence[FieldError] = ()


class ErrorReport:
    def __init__(self, files: FileStore, *, url_seconds: int = 300) -> None:
        self._files = files
        self._url_seconds = url_seconds

    @staticmethod
    def part_key(import_id: str, number: int) -> str:
        return f"errors/{import_id}/{number:07d}.csv"

    @staticmethod
    def report_key(import_id: str) -> str:
        """The assembled report: under the parts' prefix, so erased and expired with them."""
        return f"errors/{import_id}/report.csv"

    def write_part(self, import_id: str, number: int, rows: Sequence[ReportRow]) -> None:
        """The report lines of one chunk (written again, identically, on redelivery)."""
        if not rows:
            return
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        for row in sorted(rows, key=lambda r: r.number):
            outcome = "rejected" if row.errors else "saved_with_warnings"
            problems = row.errors or row.warnings
            writer.writerow([inert_cell(str(cell)) for cell in (
                row.number if row.number >= 0 else "", outcome,
                ";".join(dict.fromkeys(p.code for p in problems)),
                "; ".join(f"{p.field}: {p.message}" for p in problems),
                *row.cells,
            )])
        self._files.put_bytes(self.part_key(import_id, number), buffer.getvalue().encode())

    def download(self, import_id: str, headers: Sequence[str]) -> InlineReport | ReportLink:
        """The report inline if it fits a response, else a link to it assembled in S3.

        Small or large is decided from the parts' sizes in the listing, without
        reading them.
        """
        parts = self._parts(import_id)
        header = _header_line(headers)
        if len(header.encode()) + sum(p.size for p in parts) <= INLINE_REPORT_MAX_BYTES:
            body = header + "".join(c.decode() for c in self._part_bytes(parts))
            if _fits_response(body):
                return InlineReport(body)
        key = self.report_key(import_id)
        digest = hashlib.sha256("\n".join(
            [header, *(f"{p.key} {p.etag}" for p in parts)]).encode()).hexdigest()
        if (self._files.metadata(key) or {}).get(_DIGEST) != digest:
            self._files.put_stream(
                key, self._assembly(header, parts), content_type=CONTENT_TYPE,
                metadata={_DIGEST: digest})
        return ReportLink(self._files.presigned_get(
            key, self._url_seconds, filename=f"{import_id}-errors.csv",
            content_type=CONTENT_TYPE))

    def _parts(self, import_id: str) -> list[StoredObject]:
        """The chunks' parts in order; not the assembled report beside them."""
        parts = [o for o in self._files.listing(f"errors/{import_id}/")
                 if o.key.rsplit("/", 1)[-1].removesuffix(".csv").isdigit()]
        return sorted(parts, key=lambda o: o.key)

    def _part_bytes(self, parts: Sequence[StoredObject]) -> Iterator[bytes]:
        """The parts' bytes in order, a few read ahead (at most _READ_AHEAD in memory)."""
        with ThreadPoolExecutor(max_workers=_READ_AHEAD) as pool:
            pending: deque[Future[bytes | None]] = deque()
            for part in parts:
                pending.append(pool.submit(self._files.get_bytes, part.key))
                while len(pending) >= _READ_AHEAD or (pending and pending[0].done()):
                    if data := pending.popleft().result():
                        yield data
            while pending:
                # None: gone since listed (a chunk of an erased import took it back).
                if data := pending.popleft().result():
                    yield data

    def _assembly(self, header: str, parts: Sequence[StoredObject]) -> Iterator[bytes]:
        yield header.encode()
        yield from self._part_bytes(parts)


def _header_line(headers: Sequence[str]) -> str:
    buffer = io.StringIO()
    # The file's own header cells are user data too: made inert like the rest.
    csv.writer(buffer, lineterminator="\r\n").writerow(
        [inert_cell(h) for h in ("row", "outcome", "codes", "reason", *headers)])
    return buffer.getvalue()


def _fits_response(body: str) -> bool:
    # As the Lambda runtime will encode it (json.dumps escapes non-ASCII: the
    # larger of its two possible encodings).
    return len(json.dumps(body)) <= RESPONSE_MAX_BYTES

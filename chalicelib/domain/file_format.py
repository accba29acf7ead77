"""What kind of file an upload is: CSV (encoding, delimiter), a spreadsheet, or JSON.

`sniff` looks at the first bytes of the file only (up to `SAMPLE_SIZE`), so the
sample may end in the middle of a character or of a row; both are tolerated.

Order of evidence: magic bytes decide first (a renamed file is still what its
bytes say), the file name is only a hint for the cases bytes cannot settle (a
zip whose first megabyte shows no spreadsheet entries, a tab-separated file
whose columns fit several delimiters equally well).

The encoding is `text_encoding.detect_encoding`'s guess (a BOM, UTF-16,
UTF-8, then cp1252 or latin-1). Zip-based spreadsheets are checked for
bombs and extent by `spreadsheet_checks` before they are read.

JSON needs its name as well as its bytes: a file named .json, .jsonl or .ndjson
whose first character (after a BOM and whitespace) is "[" is an array of
records (kind "json"). Any other .jsonl/.ndjson is one record a line
("jsonl"; lines that are not objects become row problems). A .json file
starting with "{" is jsonl when it looks like it: two or more non-blank
lines, every one starting with "{"; else it is a lone top-level object,
refused as `json_not_array`, as is a .json holding a JSON string, number or
literal. The same bytes under any other name stay CSV (a CSV whose first
header starts with "[" is legal), and so does a .json file that is no JSON
at all: the bytes decide. JSON is UTF-8 (RFC 8259); a BOM (UTF-8, UTF-16, UTF-32) or BOM-less
UTF-16 is honoured, any other guess falls back to UTF-8, where the reader
turns invalid bytes into U+FFFD.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import struct
from collections import Counter
from dataclasses import dataclass

from chalicelib.domain.errors import LeadpipeError
from chalicelib.domain.text_encoding import detect_encoding

SAMPLE_SIZE = 1024 * 1024
DELIMITERS = (",", ";", "\t", "|")
SPREADSHEET_KINDS = frozenset({"xlsx", "xls", "ods"})
JSON_KINDS = frozenset({"json", "jsonl"})
KINDS = frozenset({"csv", *SPREADSHEET_KINDS, *JSON_KINDS})

# Rows looked at when choosing the delimiter: enough to see past a title line
# or a few ragged rows, few enough to stay cheap on a 1 MiB sample.
_SNIFF_ROWS = 50

_XLSX_EXTENSIONS = (".xlsx", ".xlsm", ".xlsb", ".xltx", ".xltm")
_SPREADSHEET_EXTENSIONS = (*_XLSX_EXTENSIONS, ".xls", ".ods")
_TAB_EXTENSIONS = (".tsv", ".tab")
_JSON_EXTENSIONS = (".json", ".jsonl", ".ndjson")
# Encodings a JSON file may be in; anything else the CSV guess finds is UTF-8 with bad bytes.
_JSON_ENCODINGS = ("utf-8", "utf-16", "utf-32")

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_LOCAL_HEADER = b"PK\x03\x04"
_ZIP_EMPTY = b"PK\x05\x06"
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"

# Formats people upload by mistake, with the name shown in the error. Only
# signatures that cannot start a plausible CSV are listed; anything else binary
# is caught by the control-character check.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x28\xb5\x2f\xfd", "a zstd archive"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x7fELF", "an executable"),
    (b"SQLite format 3\x00", "an SQLite database"),
)

# Characters no text export contains. Kept out: tab, LF, CR, VT and FF (some
# tools put VT in cells for line breaks), and SUB (0x1A, the old DOS end-of-file
# mark). NUL is in: a few are tolerated (the reader strips them), many are not.
# C1 controls (U+0080-U+009F) are out too: they are what latin-1 makes of the
# accented letters of a DOS or Mac Roman export, which is text, if mis-decoded.
# Random binary data is caught by C0 alone (about 11% of its bytes).
_CONTROL_CODES = [*range(0x00, 0x09), *range(0x0E, 0x1A), *range(0x1B, 0x20), 0x7F]
_DROP_CONTROLS = dict.fromkeys(_CONTROL_CODES)
_MIN_CONTROLS_FOR_BINARY = 4

_MARKUP_STARTS = ("<?xml", "<!doctype html", "<html", "<table", "{\\rtf")


class UnreadableFile(LeadpipeError):
    """The upload cannot be read as a CSV or spreadsheet; `code` says why.

    Codes: empty_file, unsupported_file_type, not_a_text_file,
    spreadsheet_too_large, file_too_complex, corrupt_spreadsheet, sheet_not_found,
    password_protected, cell_too_large, row_too_large; for JSON also
    json_not_array, malformed_json, too_many_columns.
    """

    code = "unreadable_file"
    status = 400


@dataclass(frozen=True)
class FileFormat:
    kind: str  # one of KINDS: "csv" | "xlsx" | "xls" | "ods" | "json" | "jsonl"
    encoding: str | None = None  # CSV and JSON: a Python codec name
    delimiter: str | None = None  # CSV only: one of DELIMITERS


def sniff(sample: bytes, filename: str = "") -> FileFormat:
    """Tell the format of a file from its first bytes (up to SAMPLE_SIZE) and its name."""
    if not sample:
        raise UnreadableFile("The file is empty", code="empty_file")
    extension = _extension(filename)

    spreadsheet = _spreadsheet_kind(sample, extension)
    if spreadsheet is not None:
        return FileFormat(kind=spreadsheet)
    for signature, description in _SIGNATURES:
        if sample.startswith(signature):
            raise _unsupported(description)
    if sample[4:8] == b"ftyp":
        raise _unsupported("an image or video (HEIC/MP4)")
    if sample.startswith(b"RIFF") and sample[8:12] == b"WEBP":
        raise _unsupported("a WebP image")

    encoding = detect_encoding(sample)
    # final=False: a multibyte character cut by the end of the sample is held
    # back instead of being reported as an error.
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, final=False)
    if not text.replace("\ufeff", "").strip():
        raise UnreadableFile("The file is empty", code="empty_file")
    if _looks_binary(text):
        if extension in _SPREADSHEET_EXTENSIONS:
            raise UnreadableFile(
                f"The file is named {extension} but is not a valid spreadsheet",
                code="corrupt_spreadsheet",
            )
        raise UnreadableFile(
            "The file is not a text (CSV) file; upload a CSV or an Excel/ODS spreadsheet",
            code="not_a_text_file",
        )
    if extension in _JSON_EXTENSIONS:
        json_format = _json_format(text, encoding, extension)
        if json_format is not None:
            return json_format
    head = text.lstrip("\ufeff \t\r\n")[:32].lower()
    if head.startswith(_MARKUP_STARTS):
        # Some tools save HTML or XML tables with an .xls name; read as CSV they
        # would import markup as lead data.
        raise _unsupported("an HTML, XML or RTF document")

    return FileFormat(kind="csv", encoding=encoding,
                      delimiter=_declared_delimiter(text) or _detect_delimiter(text, extension))


def _json_format(text: str, encoding: str, extension: str) -> FileFormat | None:
    """The JSON kind of a file named like JSON, None when its text is not JSON at all."""
    body = text.lstrip("\ufeff \t\r\n")
    if not encoding.startswith(_JSON_ENCODINGS):
        encoding = "utf-8"
    if body.startswith("["):
        return FileFormat(kind="json", encoding=encoding)
    if extension != ".json":  # .jsonl, .ndjson: lines, whatever they hold
        return FileFormat(kind="jsonl", encoding=encoding)
    if body.startswith("{"):
        if _one_object_a_line(body):
            return FileFormat(kind="jsonl", encoding=encoding)
        raise json_not_array()
    if _is_json_scalar(body):
        raise json_not_array()
    return None


def json_not_array() -> UnreadableFile:
    return UnreadableFile("The JSON file must be an array of objects or one object per line",
                          code="json_not_array")


def _one_object_a_line(body: str) -> bool:
    """Two or more non-blank lines, each starting with "{" (a cut last line still does)."""
    # Only "\n" ends a JSON Lines record: str.splitlines would also split on
    # U+2028 and other characters a JSON string may hold as they are.
    lines = 0
    for raw in body.split("\n"):
        line = raw.lstrip(" \t\r")
        if not line:
            continue
        if not line.startswith("{"):
            return False
        lines += 1
    return lines >= 2


def _is_json_scalar(body: str) -> bool:
    if not body or body[0] not in '"-0123456789tfn':
        return False
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        return False
    return True


def _extension(filename: str) -> str:
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].lower()
    dot = name.rfind(".")
    return name[dot:] if dot > 0 else ""


def _unsupported(description: str) -> UnreadableFile:
    return UnreadableFile(
        f"This looks like {description}; upload a CSV or an Excel/ODS spreadsheet",
        code="unsupported_file_type", details={"detected": description},
    )


def _spreadsheet_kind(sample: bytes, extension: str) -> str | None:
    """The spreadsheet kind by magic bytes, None for anything that is not a zip or OLE2 file."""
    if sample.startswith(_OLE2):
        # OLE2 is also .doc and encrypted .xlsx; the reader reports those as corrupt.
        return "xls"
    if not sample.startswith((_ZIP_LOCAL_HEADER, _ZIP_EMPTY)):
        return None
    mimetype = _ods_mimetype(sample)
    if mimetype is not None:
        if mimetype.startswith(_ODS_MIMETYPE):  # also matches the -template variant
            return "ods"
        raise _unsupported("a document that is not a spreadsheet")
    names = _zip_entry_names(sample)
    if any(name.startswith(b"xl/") for name in names):
        return "xlsx"  # also xlsm/xlsb: the reader tells them apart itself
    if any(name.startswith((b"word/", b"ppt/")) for name in names):
        raise _unsupported("a Word or PowerPoint document")
    # The entries that would tell may lie beyond the sample (a large first
    # entry); trust the name, and let the reader report a wrong guess as corrupt.
    if extension in _XLSX_EXTENSIONS:
        return "xlsx"
    if extension == ".ods":
        return "ods"
    raise _unsupported("a ZIP archive; upload the CSV or spreadsheet itself")


def _ods_mimetype(sample: bytes) -> bytes | None:
    """Content of an OpenDocument `mimetype` entry: stored, uncompressed, first in the zip."""
    if len(sample) < 30 or not sample.startswith(_ZIP_LOCAL_HEADER):
        return None
    method, = struct.unpack_from("<H", sample, 8)
    size, = struct.unpack_from("<I", sample, 18)
    name_length, extra_length = struct.unpack_from("<HH", sample, 26)
    if method != 0 or sample[30:30 + name_length] != b"mimetype":
        return None
    start = 30 + name_length + extra_length
    return sample[start:start + min(size, 200)].strip()


def _zip_entry_names(sample: bytes, limit: int = 10_000) -> list[bytes]:
    """Entry names from the local headers in the sample.

    The central directory sits at the end of the file, usually outside the
    sample; local headers precede each entry's data. A signature that happens
    to occur inside compressed data only adds a junk name, which is harmless.
    """
    names: list[bytes] = []
    for match in re.finditer(re.escape(_ZIP_LOCAL_HEADER), sample):
        start = match.start()
        if start + 30 > len(sample) or len(names) >= limit:
            break
        name_length, = struct.unpack_from("<H", sample, start + 26)
        names.append(sample[start + 30:start + 30 + name_length])
    return names


def _looks_binary(text: str) -> bool:
    controls = len(text) - len(text.translate(_DROP_CONTROLS))
    return controls >= _MIN_CONTROLS_FOR_BINARY and controls * 100 > len(text)


def _declared_delimiter(text: str) -> str | None:
    """The delimiter of a first line "sep=;", which Excel honours and some tools write."""
    lines = text.lstrip("\ufeff")[:8].splitlines()
    first_line = lines[0] if lines else ""
    if first_line[:4].lower() == "sep=" and first_line[4:] in DELIMITERS:
        return first_line[4:]
    return None


def _detect_delimiter(text: str, extension: str) -> str:
    """The delimiter giving the most consistent column count (> 1) over the first rows."""
    text = text.replace("\x00", "")  # the reader strips NULs too
    # A sample that does not end at a line end was probably cut mid-row: its
    # last row would have a wrong column count.
    cut = not text.endswith(("\n", "\r"))
    order: tuple[str, ...] = DELIMITERS
    if extension in _TAB_EXTENSIONS:
        order = ("\t", *(d for d in DELIMITERS if d != "\t"))
    best, best_score = ",", (0.0, 0)
    for delimiter in order:
        counts = _column_counts(text, delimiter, drop_last=cut)
        if not counts:
            continue
        columns, rows_with_columns = Counter(counts).most_common(1)[0]
        if columns < 2:
            continue
        score = (rows_with_columns / len(counts), columns)
        if score > best_score:  # ties keep the earlier delimiter in `order`
            best, best_score = delimiter, score
    return best


def _column_counts(text: str, delimiter: str, *, drop_last: bool) -> list[int]:
    counts: list[int] = []
    reached_end = True
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(counts) == _SNIFF_ROWS:
                reached_end = False
                break
            counts.append(len(cells))
    except csv.Error:
        # A quote opened under a wrong delimiter can swallow the rest of the
        # sample into one field over the csv size limit; that row is not counted.
        reached_end = False
    if reached_end and drop_last and len(counts) > 1:
        counts.pop()
    return counts


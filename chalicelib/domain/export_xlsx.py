"""An export's .xlsx: sheets written as streamed XML, packed into a ZIP at the end.

Why not a spreadsheet library: an export of a million rows is converted over
several job runs (a jobs Lambda lives 60 s), each on whatever container SQS
hands it to, and no library (xlsxwriter, openpyxl) can put down a workbook in
one process and go on with it in another. A sheet's XML is one ZIP entry
compressed with raw deflate, though, and deflate streams concatenate: each run
compresses its rows with a fresh compressor and ends with a sync flush (a
byte-aligned, non-final block), the last one with the final block, and the
CRC-32 and sizes carry over from run to run. Packing is then byte copying:
the fixed workbook files, each sheet's local header and compressed pieces,
the central directory (ZIP64 when a size or offset passes 4 GiB).

Cells are inline strings (no shared-strings table to hold in memory), already
inert (csv_export.inert_cell, applied when the parts are written); text is
stripped of characters XML 1.0 cannot carry and cut to Excel's 32,767
characters a cell. A sheet holds Excel's 1,048,576 rows; the rows after fill
further sheets ("Leads 2", ...), each with the header.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

SHEET_ROWS = 1_048_575  # Excel's row limit less the header row
CELL_CHARS = 32_767  # Excel's limit on a cell's text
DEFLATE_LEVEL = 1  # XML compresses ~10x even so; level 6 is ~3x slower for ~15% less
ZIP64_LIMIT = 0xFFFFFFFF

_XML_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_SHEET_START = (_XML_DECL + f'<worksheet xmlns="{_MAIN_NS}"><sheetViews><sheetView '
                'workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
                'state="frozen"/></sheetView></sheetViews><sheetData>'.encode())
SHEET_END = b"</sheetData></worksheet>"
# Characters XML 1.0 cannot hold (stored text has none since the text rule,
# older leads might); and "_xHHHH_", which Excel would read as an escaped character.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_LOOKS_ESCAPED = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


def column_letters(count: int) -> list[str]:
    letters = []
    for index in range(count):
        name, n = "", index + 1
        while n:
            n, rest = divmod(n - 1, 26)
            name = chr(65 + rest) + name
        letters.append(name)
    return letters


def _text(value: str) -> str:
    value = _LOOKS_ESCAPED.sub(r"_x005F_\1", _NOT_XML.sub("", value[:CELL_CHARS]))
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SheetXml:
    """A worksheet's XML, row by row (row 1 is the header)."""

    def __init__(self, width: int) -> None:
        self._letters = column_letters(width)

    def start(self, header: Sequence[str]) -> bytes:
        return _SHEET_START + self.row(1, header)

    def row(self, number: int, cells: Sequence[str]) -> bytes:
        out = [f'<row r="{number}">']
        for letter, value in zip(self._letters, cells, strict=False):
            if not value:
                continue  # cells carry their reference: an empty one is left out
            text = _text(value)
            space = ' xml:space="preserve"' if text != text.strip() else ""
            out.append(f'<c r="{letter}{number}" t="inlineStr"><is><t{space}>{text}</t></is></c>')
        out.append("</row>")
        return "".join(out).encode()


class Deflater:
    """One run's piece of a sheet entry: raw deflate, CRC-32 and sizes carried over."""

    def __init__(self, crc: int = 0, raw: int = 0, packed: int = 0) -> None:
        self._zip = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)
        self.crc, self.raw, self.packed = crc, raw, packed

    def feed(self, chunk: bytes) -> bytes:
        self.crc = zlib.crc32(chunk, self.crc)
        self.raw += len(chunk)
        out = self._zip.compress(chunk)
        self.packed += len(out)
        return out

    def end(self, *, last: bool) -> bytes:
        """`last` ends the entry; otherwise a sync flush lets the next run's piece go on."""
        tail = self._zip.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)
        self.packed += len(tail)
        return tail


@dataclass(frozen=True)
class ZipEntry:
    """A deflated entry: its name, CRC-32, uncompressed and compressed sizes."""

    name: str
    crc: int
    raw: int
    packed: int


def sheet_name(number: int) -> str:
    return "Leads" if number == 1 else f"Leads {number}"


def workbook_files(sheets: int) -> list[tuple[str, bytes]]:
    """The fixed parts of a workbook of `sheets` worksheets."""
    numbers = range(1, sheets + 1)
    types = "".join(f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
                    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                    for n in numbers)
    ct = ('<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
          'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
          'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/styles.xml" '
          'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
          f"{types}</Types>")
    rels = (f'<Relationships xmlns="{_PKG_REL_NS}"><Relationship Id="rId1" '
            f'Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    book = (f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}"><sheets>'
            + "".join(f'<sheet name="{sheet_name(n)}" sheetId="{n}" r:id="rId{n}"/>'
                      for n in numbers) + "</sheets></workbook>")
    book_rels = (f'<Relationships xmlns="{_PKG_REL_NS}">'
                 + "".join(f'<Relationship Id="rId{n}" Type="{_REL_NS}/worksheet" '
                           f'Target="worksheets/sheet{n}.xml"/>' for n in numbers)
                 + f'<Relationship Id="rId{sheets + 1}" Type="{_REL_NS}/styles" '
                   'Target="styles.xml"/></Relationships>')
    styles = (f'<styleSheet xmlns="{_MAIN_NS}"><fonts count="1"><font><sz val="11"/>'
              '<name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill '
              'patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
              '</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/>'
              '</border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" '
              'fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" '
              'fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs><cellStyles count="1">'
              '<cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')
    return [(name, _XML_DECL + text.encode()) for name, text in (
        ("[Content_Types].xml", ct), ("_rels/.rels", rels), ("xl/workbook.xml", book),
        ("xl/_rels/workbook.xml.rels", book_rels), ("xl/styles.xml", styles))]


def sheet_entry_name(number: int) -> str:
    return f"xl/worksheets/sheet{number}.xml"


# A fixed time (1980-01-01 00:00): two deliveries packing the same export write the same bytes.
_DOS_TIME, _DOS_DATE = 0, (1 << 5) | 1


def _local_header(entry: ZipEntry, zip64: bool) -> bytes:
    name = entry.name.encode()
    extra = struct.pack("<HHQQ", 1, 16, entry.raw, entry.packed) if zip64 else b""
    sizes = (ZIP64_LIMIT, ZIP64_LIMIT) if zip64 else (entry.packed, entry.raw)
    return struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if zip64 else 20, 0, 8, _DOS_TIME,
                       _DOS_DATE, entry.crc, *sizes, len(name), len(extra)) + name + extra


def _directory_entry(entry: ZipEntry, offset: int, zip64_at: int) -> bytes:
    name = entry.name.encode()
    # ZIP64 extra: the 8-byte values of the fields that say 0xFFFFFFFF, in this order.
    big = [v for v in (entry.raw, entry.packed, offset) if v >= zip64_at]
    extra = struct.pack(f"<HH{len(big)}Q", 1, 8 * len(big), *big) if big else b""
    raw, packed, at = (ZIP64_LIMIT if v >= zip64_at else v
                       for v in (entry.raw, entry.packed, offset))
    return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45 if big else 20, 0, 8,
                       _DOS_TIME, _DOS_DATE, entry.crc, packed, raw, len(name), len(extra), 0,
                       0, 0, 0, at) + name + extra


def deflated(name: str, data: bytes) -> tuple[ZipEntry, bytes]:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    packed = packer.compress(data) + packer.flush()
    return ZipEntry(name, zlib.crc32(data), len(data), len(packed)), packed


def package(files: Sequence[tuple[ZipEntry, bytes]], streamed: Sequence[ZipEntry],
            body: Callable[[int], Iterable[bytes]], *,
            zip64_at: int = ZIP64_LIMIT) -> Iterator[bytes]:
    """A ZIP of `files` (entry, deflated bytes), then each `streamed` entry whose
    compressed bytes `body(index)` yields; ZIP64 fields for what reaches `zip64_at`."""
    offset, directory = 0, []
    entries: list[tuple[ZipEntry, Iterable[bytes] | bytes]] = [*files]
    entries += [(entry, body(i)) for i, entry in enumerate(streamed)]
    for entry, data in entries:
        zip64 = entry.raw >= zip64_at or entry.packed >= zip64_at
        header = _local_header(entry, zip64)
        directory.append(_directory_entry(entry, offset, zip64_at))
        yield header
        offset += len(header)
        written = 0
        for chunk in [data] if isinstance(data, bytes) else data:
            written += len(chunk)
            yield chunk
        if written != entry.packed:
            raise ValueError(f"{entry.name}: {written} bytes stored, {entry.packed} recorded")
        offset += written
    listing = b"".join(directory)
    count = len(directory)
    yield listing
    if offset >= zip64_at or count >= 0xFFFF or \
            any(e.raw >= zip64_at or e.packed >= zip64_at for e, _ in entries):
        yield struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count,
                          len(listing), offset)
        yield struct.pack("<IIQI", 0x07064B50, 0, offset + len(listing), 1)
        yield struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, ZIP64_LIMIT,
                          ZIP64_LIMIT, 0)
    else:
        yield struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(listing),
                          offset, 0)

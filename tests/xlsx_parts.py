"""Hand-written xlsx files for tests: the XML parts given as text, nothing else added.

openpyxl writes inline strings and `r=` on every cell; hostile files do
neither, so they are built here part by part.
"""

from __future__ import annotations

import io
import random
import zipfile

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"


def minimal_xlsx(sheet_data: str, shared: list[str] | None = None, *,
                 sst_xml: str | None = None, worksheet_xml: str | None = None,
                 padding: int = 0) -> bytes:
    """A one-sheet workbook ("Leads") whose <sheetData> holds `sheet_data`.

    `shared` become the shared strings (or `sst_xml` is the whole part),
    `worksheet_xml` replaces the whole sheet part, and `padding` adds that
    many random (incompressible) bytes in a stored entry, which is how a
    small file beats a compression-ratio check.
    """
    worksheet = worksheet_xml or (
        f'<worksheet xmlns="{MAIN}"><sheetData>{sheet_data}</sheetData></worksheet>')
    if sst_xml is None:
        items = "".join(f"<si><t>{text}</t></si>" for text in shared or [])
        sst_xml = f'<sst xmlns="{MAIN}" count="{len(shared or [])}">{items}</sst>'
    overrides = "".join(
        f'<Override PartName="/xl/{part}" ContentType="{_CT}.{kind}+xml"/>'
        for part, kind in (("workbook.xml", "sheet.main"), ("worksheets/sheet1.xml", "worksheet"),
                           ("sharedStrings.xml", "sharedStrings")))
    relations = "".join(
        f'<Relationship Id="rId{n}" Type="{_REL}/{kind}" Target="{target}"/>'
        for n, kind, target in ((1, "worksheet", "worksheets/sheet1.xml"),
                                (2, "sharedStrings", "sharedStrings.xml")))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml",
                         f'<Types xmlns="{_TYPES}"><Default Extension="rels" ContentType='
                         '"application/vnd.openxmlformats-package.relationships+xml"/>'
                         f'<Default Extension="xml" ContentType="application/xml"/>{overrides}'
                         "</Types>")
        archive.writestr("_rels/.rels", f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
                         f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        archive.writestr("xl/workbook.xml", f'<workbook xmlns="{MAIN}" xmlns:r="{_REL}"><sheets>'
                         '<sheet name="Leads" sheetId="1" r:id="rId1"/></sheets></workbook>')
        archive.writestr("xl/_rels/workbook.xml.rels",
                         f'<Relationships xmlns="{_PKG}">{relations}</Relationships>')
        archive.writestr("xl/worksheets/sheet1.xml", worksheet)
        archive.writestr("xl/sharedStrings.xml", sst_xml)
        if padding:
            archive.writestr("docProps/thumbnail.bin", random.Random(1).randbytes(padding),
                             compress_type=zipfile.ZIP_STORED)
    return buffer.getvalue()


def shared_string_bomb(cells: int = 150_000, string_bytes: int = 10_000,
                       per_row: int = 100) -> bytes:
    """The file of issue 10: `cells` cells, no `r=`, all pointing at one long shared string.

    Its 3.2 MB of XML deflate to ~14 KB, a ratio over 200: 40 KB of random
    padding brings it to ~60 (the upload is ~55 KB), under the ratio check.
    calamine gives every cell its own copy: 1.5 GB.
    """
    rows = "".join("<row>" + '<c t="s"><v>0</v></c>' * min(per_row, cells - first) + "</row>"
                   for first in range(0, cells, per_row))
    return minimal_xlsx(rows, ["x" * string_bytes], padding=40_000)

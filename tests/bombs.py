"""Hostile uploads, built small and in memory: each is a few hundred KB at most on the wire.

Every XLSX here is a real workbook written by openpyxl with one or more parts replaced by a
streamed, highly compressible part, so what is refused is the size or shape of the content,
never a broken package. Builders stream (chunk by chunk), so making a 400 MB part costs the
test a few MB of memory and about a second.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator

from openpyxl import Workbook

SHEET = "xl/worksheets/sheet1.xml"
SHARED_STRINGS = "xl/sharedStrings.xml"
_SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
               b"<sheetData>")
_SHEET_TAIL = b"</sheetData></worksheet>"
_SHARED_STRINGS_TYPE = (
    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')


def _template() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["Mã học sinh", "Họ và tên", "Lớp"])
    sheet.append(["HS001", "Nguyễn Văn An", "1A"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_with(parts: dict[str, Iterable[bytes]], *, extra: int = 0) -> bytes:
    """A genuine workbook whose ``parts`` (name -> chunks) replace or add parts; ``extra``
    adds that many tiny junk parts."""
    source = zipfile.ZipFile(io.BytesIO(_template()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename in parts:
                continue
            content = source.read(info.filename)
            if info.filename == "[Content_Types].xml" and SHARED_STRINGS in parts:
                # openpyxl writes inline strings; a shared-string table must be declared.
                content = content.replace(b"</Types>", _SHARED_STRINGS_TYPE + b"</Types>")
            target.writestr(info.filename, content)
        for name, chunks in parts.items():
            with target.open(name, "w", force_zip64=True) as part:
                for chunk in chunks:
                    part.write(chunk)
        for number in range(extra):
            target.writestr(f"xl/junk/{number}.xml", b"<x/>")
    return out.getvalue()


def _sheet(rows: Iterable[bytes]) -> Iterator[bytes]:
    yield _SHEET_HEAD
    batch: list[bytes] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= 4096:
            yield b"".join(batch)
            batch.clear()
    yield b"".join(batch)
    yield _SHEET_TAIL


def empty_rows_xlsx(rows: int = 5_000_000) -> bytes:
    """Rows that hold nothing but one empty cell in the last column Excel has (XFD): a reader
    that pads each row to its width builds 16,384 cells per row. Row numbers are left out
    (they are optional), so every row is the same bytes and the file stays tiny."""
    return xlsx_with({SHEET: _sheet(b'<row><c r="XFD1"/></row>' for _ in range(rows))})


def far_row_xlsx() -> bytes:
    """A header, then one cell on the last row Excel has (1,048,576): a million empty rows
    in between that take no bytes at all."""
    return xlsx_with({SHEET: _sheet([
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>M\xc3\xa3 HS</t></is></c></row>',
        b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>',
    ])})


def huge_shared_string_xlsx(megabytes: int = 400) -> bytes:
    """One shared string of ``megabytes`` MB, referenced by a cell."""
    def strings() -> Iterator[bytes]:
        yield (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
               b'count="1" uniqueCount="1"><si><t>')
        chunk = b"A" * (1024 * 1024)
        for _ in range(megabytes):
            yield chunk
        yield b"</t></si></sst>"

    return xlsx_with({
        SHARED_STRINGS: strings(),
        SHEET: _sheet([b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>']),
    })


def wide_xlsx(columns: int = 16_384, rows: int = 300) -> bytes:
    """``rows`` rows of ``columns`` cells each (numbers, no letters needed)."""
    row = b"<row>" + b"<c><v>1</v></c>" * columns + b"</row>"
    return xlsx_with({SHEET: _sheet(row for _ in range(rows))})


def many_parts_xlsx(parts: int = 20_000) -> bytes:
    return xlsx_with({}, extra=parts)


def wide_csv(columns: int = 60_000, rows: int = 2_000) -> bytes:
    """A CSV whose header has ``columns`` one-letter columns (under 128 KB, so Python's csv
    module takes it), then ``rows`` short rows."""
    header = ",".join("x" for _ in range(columns))
    body = "\n".join(f"HS{n:04d},Nguyễn Văn An,1A" for n in range(rows))
    return (header + "\n" + body + "\n").encode()


def long_line_csv(characters: int = 200 * 1024) -> bytes:
    """A CSV whose first line (a single field) is ``characters`` long."""
    return ("A" * characters + "\nHS001\n").encode()


def blank_lines_csv(lines: int = 8_000_000) -> bytes:
    """A header, then millions of empty lines (one byte each)."""
    return b"Ma HS,Ho va ten,Lop\n" + b"\n" * lines + b"HS001,An,1A\n"


def entity_xlsx() -> bytes:
    """A sheet whose XML declares entities that expand a billion times ("billion laughs")."""
    entities = b"".join(
        b'<!ENTITY e%d "%s">' % (n, b"&e%d;" % (n - 1) * 10) for n in range(1, 10))
    head = (b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY e0 "ha">' + entities + b"]>"
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b"<sheetData>")
    return xlsx_with({SHEET: [head, b'<row r="1"><c r="A1" t="inlineStr"><is><t>&e9;</t></is>'
                                    b"</c></row>", _SHEET_TAIL]})


def zip_not_xlsx() -> bytes:
    """A valid zip holding a text file: named .xlsx, it is still not a workbook."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    return out.getvalue()

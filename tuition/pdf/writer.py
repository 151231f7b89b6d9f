"""A PDF writer that streams: each page goes to the output as soon as it is finished.

reportlab's ``Canvas`` keeps every finished page (its uncompressed content stream, ~30 kB for
a fee notice) until ``save()``, and ``save()`` then assembles the whole file as one bytes
object; a school's 2,000 notices took 96 MB and memory grew with every student.  The notices
need very little of PDF: text in embedded TrueType fonts, filled and stroked rectangles, lines
and rounded boxes, and reusable Form XObjects.  This module writes those directly:

* :class:`PdfWriter` writes the header at once, then each page's compressed content stream
  and page object the moment the page ends, and keeps only the objects' byte offsets (an
  ``array`` of 8-byte integers) for the cross-reference table.  Fonts, the shared resource
  dictionary and the page tree are written by :meth:`PdfWriter.close`; the PDF format allows
  objects in any order, so pages can point forward to them.
* :class:`PageCanvas` collects one page's (or form's) drawing operators.  Its methods have the
  names and arguments of the reportlab ``Canvas`` methods they replace, so drawing code reads
  the same; text is emitted without reportlab's general ``PDFTextObject`` machinery, which was
  a third of the rendering time.

reportlab is still what measures, subsets and encodes the fonts, through the API its
``ttfonts`` module documents for dynamic fonts: ``splitString`` and ``getSubsetInternalName``
with a ``PDFDocument`` as the key of the subsets.  :meth:`PdfWriter._write_fonts` mirrors
``TTFont.addObjects`` and reads ``TTFont.state[doc].subsets``, the one non-public attribute
used; tests/test_notices.py checks that fonts are embedded and text extracts exactly.
"""

from __future__ import annotations

import hashlib
import zlib
from array import array
from collections.abc import Callable, Hashable
from typing import Any, BinaryIO, TypeVar

from reportlab.lib.colors import Color
from reportlab.lib.rl_accel import escapePDF, fp_str
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import PDFDocument
from reportlab.pdfbase.ttfonts import FF_NONSYMBOLIC, FF_SYMBOLIC, SUBSETN, makeToUnicodeCMap

__all__ = ["PageCanvas", "PdfWriter"]

_T = TypeVar("_T")

#: Encoded text operators cached per writer; cleared when full, so memory stays bounded even
#: if every notice has a different name.
_TEXT_CACHE_SIZE = 8192
#: Forms are meant for what repeats on every page; past this many, fragments are drawn inline.
_MAX_FORMS = 256
# Control points of reportlab's rounded corners, so that boxes look exactly as before.
_ROUND = 0.4472


def _pdf_string(text: str) -> bytes:
    """A PDF text string: literal if ASCII, else UTF-16BE with a byte order mark."""
    if text.isascii():
        return b"(" + escapePDF(text.encode("ascii")).encode("latin-1") + b")"
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode("ascii") + b">"


class PageCanvas:
    """The drawing operators of one page or form, with a canvas-like interface.

    The fill colour, stroke colour, line width and dash are tracked so that repeating them
    costs nothing; ``None`` means "unknown", and the next use sets the value explicitly.
    """

    def __init__(self, writer: PdfWriter) -> None:
        self._writer = writer
        self._ops: list[str] = []
        self._fill: Color | None = None
        self._stroke: Color | None = None
        self._line_width: float | None = None
        self._dash: str | None = None
        self._stack: list[tuple[Color | None, Color | None, float | None, str | None]] = []

    # Graphics state

    def saveState(self) -> None:  # noqa: N802 - the name of reportlab's Canvas method
        self._stack.append((self._fill, self._stroke, self._line_width, self._dash))
        self._ops.append("q")

    def restoreState(self) -> None:  # noqa: N802
        self._fill, self._stroke, self._line_width, self._dash = self._stack.pop()
        self._ops.append("Q")

    def setFillColor(self, color: Color) -> None:  # noqa: N802
        if color != self._fill:
            self._fill = color
            self._ops.append(f"{fp_str(color.red, color.green, color.blue)} rg")

    def setStrokeColor(self, color: Color) -> None:  # noqa: N802
        if color != self._stroke:
            self._stroke = color
            self._ops.append(f"{fp_str(color.red, color.green, color.blue)} RG")

    def setLineWidth(self, width: float) -> None:  # noqa: N802
        if width != self._line_width:
            self._line_width = width
            self._ops.append(f"{fp_str(width)} w")

    def setDash(self, on: float, off: float) -> None:  # noqa: N802
        dash = f"[{fp_str(on, off)}] 0 d"
        if dash != self._dash:
            self._dash = dash
            self._ops.append(dash)

    def translate(self, dx: float, dy: float) -> None:
        self._ops.append(f"1 0 0 1 {fp_str(dx, dy)} cm")

    def scale(self, sx: float, sy: float) -> None:
        self._ops.append(f"{fp_str(sx)} 0 0 {fp_str(sy)} 0 0 cm")

    # Paths

    def line(self, x1: float, y1: float, x2: float, y2: float) -> None:
        self._ops.append(f"{fp_str(x1, y1)} m {fp_str(x2, y2)} l S")

    def rect(
        self, x: float, y: float, width: float, height: float, stroke: int = 1, fill: int = 0
    ) -> None:
        self._ops.append(f"{fp_str(x, y, width, height)} re {_paint(stroke, fill)}")

    def roundRect(  # noqa: N802
        self,
        x: float,
        y: float,
        width: float,
        height: float,
        radius: float,
        stroke: int = 1,
        fill: int = 0,
    ) -> None:
        left, right = sorted((x, x + width))
        bottom, top = sorted((y, y + height))
        r, t = radius, _ROUND * radius
        self._ops.append(
            f"{fp_str(left + r, bottom)} m {fp_str(right - r, bottom)} l "
            f"{fp_str(right - t, bottom, right, bottom + t, right, bottom + r)} c "
            f"{fp_str(right, top - r)} l "
            f"{fp_str(right, top - t, right - t, top, right - r, top)} c "
            f"{fp_str(left + r, top)} l "
            f"{fp_str(left + t, top, left, top - t, left, top - r)} c "
            f"{fp_str(left, bottom + r)} l "
            f"{fp_str(left, bottom + t, left + t, bottom, left + r, bottom)} c "
            f"h {_paint(stroke, fill)}"
        )

    def addLiteral(self, ops: str) -> None:  # noqa: N802
        """Append raw content-stream operators; they must leave the graphics state as found."""
        self._ops.append(ops)

    # Text

    def drawText(  # noqa: N802
        self, x: float, y: float, text: str, font: str, size: float, char_space: float = 0
    ) -> None:
        """Draw ``text`` with its baseline starting at (x, y) in the current fill colour."""
        shown = self._writer.encode_text(text, font, fp_str(size))
        if char_space:
            # Character spacing is graphics state and outlives ET: reset it.
            self._ops.append(
                f"BT 1 0 0 1 {fp_str(x, y)} Tm {fp_str(char_space)} Tc {shown} 0 Tc ET"
            )
        else:
            self._ops.append(f"BT 1 0 0 1 {fp_str(x, y)} Tm {shown} ET")

    # Forms

    def drawForm(self, key: Hashable, draw: Callable[[PageCanvas], _T]) -> _T:  # noqa: N802
        """Draw what ``draw(canvas)`` draws, as a Form XObject shared by every call with ``key``.

        ``key`` must determine everything ``draw`` paints, positions included; what ``draw``
        returns is remembered with the form and returned again.  The form starts from an
        unknown graphics state so that it sets its own colours, and ``Do`` restores the
        caller's state afterwards, so nothing tracked here changes.
        """
        writer = self._writer
        cached = writer.forms.get(key)
        if cached is None:
            if len(writer.forms) >= _MAX_FORMS:
                return draw(self)
            recorder = PageCanvas(writer)
            result = draw(recorder)
            cached = writer.forms[key] = (writer.add_form(recorder.content()), result)
        self._ops.append(f"/{cached[0]} Do")
        return cached[1]

    def content(self) -> bytes:
        return "\n".join(self._ops).encode("latin-1")


def _paint(stroke: int, fill: int) -> str:
    return "B" if stroke and fill else "f" if fill else "S" if stroke else "n"


class PdfWriter:
    """Write a PDF of same-sized pages to ``out`` page by page; call :meth:`close` at the end.

    ``out`` only needs ``write``: offsets are counted here, so a pipe or a response stream
    works as well as a file or ``BytesIO``.
    """

    def __init__(
        self, out: BinaryIO, page_size: tuple[float, float], *, title: str, creator: str
    ) -> None:
        self._out = out
        self._position = 0
        #: Byte offset of every object, indexed by object number (0 is the free-list head).
        self._offsets = array("Q", [0])
        #: Object numbers of the pages, in order.
        self._pages = array("Q")
        self._digest = hashlib.md5(usedforsecurity=False)
        self._media_box = f"[0 0 {fp_str(*page_size)}]"
        self._title = title
        self._creator = creator
        # reportlab keys font subsets by document; this one is never written.
        self._font_doc = PDFDocument(invariant=1)
        self._text_cache: dict[tuple[str, str], list[tuple[str, str]]] = {}
        #: Form key -> (XObject name, value returned by the drawing function).
        self.forms: dict[Hashable, tuple[str, Any]] = {}
        self._form_refs: list[tuple[str, int]] = []
        # Numbers of the objects written last, reserved now because pages refer to them.
        self._catalog = self._reserve()
        self._page_tree = self._reserve()
        self._resources = self._reserve()
        self._info = self._reserve()
        # The binary comment line tells transfer tools that the file is not text.
        self._write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    # Output

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._digest.update(data)
        self._position += len(data)

    def _reserve(self) -> int:
        self._offsets.append(0)
        return len(self._offsets) - 1

    def _object(self, body: bytes, number: int | None = None) -> int:
        if number is None:
            number = self._reserve()
        self._offsets[number] = self._position
        self._write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
        return number

    def _stream(self, data: bytes, entries: bytes = b"", number: int | None = None) -> int:
        packed = zlib.compress(data)
        body = b"<< /Filter /FlateDecode /Length %d%s >>\nstream\n%s\nendstream" % (
            len(packed),
            entries,
            packed,
        )
        return self._object(body, number)

    # Content

    def encode_text(self, text: str, font_name: str, size: str) -> str:
        """``Tf``/``Tj`` operators showing ``text``, subset by subset, at ``size`` points."""
        key = (text, font_name)
        chunks = self._text_cache.get(key)
        if chunks is None:
            if len(self._text_cache) >= _TEXT_CACHE_SIZE:
                self._text_cache.clear()
            font = pdfmetrics.getFont(font_name)
            doc = self._font_doc
            chunks = self._text_cache[key] = [
                (font.getSubsetInternalName(subset, doc), escapePDF(chunk))
                for subset, chunk in font.splitString(text, doc)
            ]
        return " ".join(f"{name} {size} Tf ({shown}) Tj" for name, shown in chunks)

    def canvas(self) -> PageCanvas:
        return PageCanvas(self)

    def add_page(self, canvas: PageCanvas) -> None:
        """Write a finished page; nothing of it is kept but two offsets."""
        contents = self._stream(canvas.content())
        page = b"<< /Type /Page /Parent %d 0 R /MediaBox %s /Resources %d 0 R /Contents %d 0 R >>"
        number = self._object(
            page % (self._page_tree, self._media_box.encode(), self._resources, contents)
        )
        self._pages.append(number)

    def add_form(self, content: bytes) -> str:
        """Write a Form XObject covering the page; return its resource name."""
        name = f"Fm{len(self._form_refs) + 1}"
        entries = b" /Type /XObject /Subtype /Form /BBox %s /Resources %d 0 R" % (
            self._media_box.encode(),
            self._resources,
        )
        self._form_refs.append((name, self._stream(content, entries)))
        return name

    # The end

    def close(self) -> None:
        """Write fonts, resources, page tree, catalog, info and cross-reference table."""
        fonts = self._write_fonts()
        font_dict = b" ".join(b"/%s %d 0 R" % (name.encode(), n) for name, n in fonts)
        forms = b" ".join(b"/%s %d 0 R" % (name.encode(), n) for name, n in self._form_refs)
        self._object(
            b"<< /Font << %s >> /XObject << %s >> /ProcSet [/PDF /Text] >>" % (font_dict, forms),
            self._resources,
        )
        kids = b"\n".join(b"%d 0 R" % n for n in self._pages)
        self._object(
            b"<< /Type /Pages /Count %d /Kids [\n%s\n] >>" % (len(self._pages), kids),
            self._page_tree,
        )
        self._object(b"<< /Type /Catalog /Pages %d 0 R >>" % self._page_tree, self._catalog)
        self._object(
            b"<< /Title %s /Creator %s /Producer (tuition with ReportLab fonts) >>"
            % (_pdf_string(self._title), _pdf_string(self._creator)),
            self._info,
        )
        file_id = self._digest.hexdigest().upper().encode()  # same content, same ID
        xref_at = self._position
        self._write(b"xref\n0 %d\n0000000000 65535 f \n" % len(self._offsets))
        for start in range(1, len(self._offsets), 4096):
            chunk = self._offsets[start : start + 4096]
            self._write(b"".join(b"%010d 00000 n \n" % offset for offset in chunk))
        self._write(
            b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>] >>\n"
            b"startxref\n%d\n%%%%EOF\n"
            % (len(self._offsets), self._catalog, self._info, file_id, file_id, xref_at)
        )

    def _write_fonts(self) -> list[tuple[str, int]]:
        """Embed the used subset of every font; return (resource name, object number) pairs.

        Mirrors ``TTFont.addObjects`` and ``TTFontFace.addSubsetObjects`` of reportlab.
        """
        doc = self._font_doc
        written = []
        for font in doc.delayedFonts:
            face = font.face
            for index, subset in enumerate(font.state[doc].subsets):
                name = font.getSubsetInternalName(index, doc)[1:]
                base = b"".join((SUBSETN(index), b"+", face.name, face.subfontNameX))
                program = face.makeSubset(subset)
                font_file = self._stream(program, b" /Length1 %d" % len(program))
                flags = face.flags & ~FF_NONSYMBOLIC | FF_SYMBOLIC
                descriptor = self._object(
                    b"<< /Type /FontDescriptor /FontName /%s /Flags %d /FontBBox [%s] "
                    b"/ItalicAngle %s /Ascent %s /Descent %s /CapHeight %s /StemV %s "
                    b"/MissingWidth %s /FontFile2 %d 0 R >>"
                    % (
                        base,
                        flags,
                        fp_str(*face.bbox).encode(),
                        *(
                            fp_str(value).encode()
                            for value in (
                                face.italicAngle,
                                face.ascent,
                                face.descent,
                                face.capHeight,
                                face.stemV,
                                face.defaultWidth,
                            )
                        ),
                        font_file,
                    )
                )
                to_unicode = self._stream(
                    makeToUnicodeCMap(base.decode("latin-1"), subset).encode()
                )
                widths = fp_str([face.getCharWidth(code) for code in subset]).encode()
                number = self._object(
                    b"<< /Type /Font /Subtype /TrueType /Name /%s /BaseFont /%s /FirstChar 0 "
                    b"/LastChar %d /Widths [%s] /FontDescriptor %d 0 R /ToUnicode %d 0 R >>"
                    % (name.encode(), base, len(subset) - 1, widths, descriptor, to_unicode)
                )
                written.append((name, number))
        return written

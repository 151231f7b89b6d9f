"""Fonts for the PDFs: Roboto, shipped by the ``font-roboto`` package.

Vietnamese needs precomposed glyphs such as "ễ", "ậ" and "Đ" that the PDF standard-14 fonts
(Helvetica and friends) do not have, and a parent's PDF viewer must not substitute a system
font.  Roboto is therefore registered as TrueType: reportlab embeds a subset of each font
with a ToUnicode map, so the text stays searchable and extractable.
"""

from __future__ import annotations

import threading
from importlib import resources

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

#: Names under which the faces are registered with reportlab.
FONT_REGULAR = "Roboto"
FONT_BOLD = "Roboto-Bold"
FONT_ITALIC = "Roboto-Italic"

#: reportlab font name -> file inside ``font_roboto/files``.
_FACES = {
    FONT_REGULAR: "Roboto-Regular.ttf",
    FONT_BOLD: "Roboto-Bold.ttf",
    FONT_ITALIC: "Roboto-Italic.ttf",
}

_lock = threading.Lock()
_registered = False


def register_fonts() -> None:
    """Register the Roboto faces with reportlab; calling it again does nothing.

    The files come from the installed ``font_roboto`` package, never from the system, so the
    output is the same on every machine.  The lock keeps two threads of a web worker from
    parsing the TTF files twice.
    """
    global _registered
    if _registered:
        return
    with _lock:
        if _registered:
            return
        files = resources.files("font_roboto") / "files"
        for name, filename in _FACES.items():
            with resources.as_file(files / filename) as path:
                pdfmetrics.registerFont(TTFont(name, str(path)))
        pdfmetrics.registerFontFamily(
            FONT_REGULAR,
            normal=FONT_REGULAR,
            bold=FONT_BOLD,
            italic=FONT_ITALIC,
            boldItalic=FONT_BOLD,
        )
        _registered = True

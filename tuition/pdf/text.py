"""Measuring and fitting text on a PDF page (shared by notices, receipts and reports)."""

from __future__ import annotations

import functools
import unicodedata

from reportlab.pdfbase.pdfmetrics import stringWidth


def nfc(text: str) -> str:
    """Roboto has the precomposed Vietnamese letters; decomposed input (common from macOS
    keyboards and some spreadsheets) would draw stacked combining marks and extract badly."""
    return unicodedata.normalize("NFC", text)


@functools.lru_cache(maxsize=8192)
def width(text: str, font: str, size: float) -> float:
    """Text width in points. Labels and most amounts repeat on every page, and reportlab
    measures TTF text in pure Python: the bounded cache saves milliseconds per page."""
    return stringWidth(text, font, size)


def fit_size(text: str, font: str, size: float, max_width: float, min_size: float) -> float:
    """Largest size <= ``size`` (not below ``min_size``) at which ``text`` fits ``max_width``."""
    measured = width(text, font, size)
    if measured <= max_width:
        return size
    return max(min_size, size * max_width / measured * 0.999)


def wrap(text: str, font: str, size: float, max_width: float) -> list[str]:
    """Greedy word wrap; a word wider than the line stays whole on its own line."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and width(candidate, font, size) > max_width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines or [""]

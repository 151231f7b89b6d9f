"""Reading rendered PDFs in tests the way a person would see them: poppler's text, the QR
codes decoded from the rasterised page, and where each word was drawn."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest


def page_text(path: Path, page: int) -> str:
    """Text of one page (1-based) as ``pdftotext -layout`` extracts it."""
    return subprocess.run(
        ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def decode_qr_codes(path: Path, page: int, tmp_path: Path) -> list[str]:
    """The QR codes zbar reads on one page rendered at 200 dpi, in the order it finds them."""
    pyzbar = pytest.importorskip("pyzbar.pyzbar")
    from PIL import Image

    prefix = tmp_path / f"page{page}"
    subprocess.run(
        ["pdftoppm", "-r", "200", "-png", "-f", str(page), "-l", str(page), str(path), str(prefix)],
        check=True,
    )
    (png,) = tmp_path.glob(f"page{page}*.png")
    with Image.open(png) as image:
        return [symbol.data.decode("utf-8") for symbol in pyzbar.decode(image)]


def word_boxes(path: Path) -> list[tuple[float, float, float, float]]:
    """(x_min, y_min, x_max, y_max) in points, from the top left, of every word drawn."""
    bbox = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return [
        (float(x0), float(y0), float(x1), float(y1))
        for x0, y0, x1, y1 in re.findall(
            r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)"', bbox
        )
    ]

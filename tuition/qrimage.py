"""Render VietQR payload strings as QR images (PNG bytes for PDFs, SVG text for web pages)."""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
from qrcode.image.base import BaseImage
from qrcode.image.pil import PilImage
from qrcode.image.svg import SvgPathImage

__all__ = ["qr_png", "qr_svg"]

#: Level M (~15% recovery) is what banking apps and NAPAS samples use: denser than L survives
#: printing and a phone held at an angle; H would make a long payload's modules needlessly small.
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
#: Four modules of quiet zone, the minimum the QR standard asks for scanners to lock on.
BORDER = 4


def _make(payload: str, box_size: int, image_factory: type[BaseImage]) -> BaseImage:
    if not payload:
        raise ValueError("payload must not be empty")
    code = qrcode.QRCode(
        error_correction=ERROR_CORRECTION,
        box_size=box_size,
        border=BORDER,
        image_factory=image_factory,
    )
    code.add_data(payload)
    # fit=True picks the smallest QR version that holds the payload.
    code.make(fit=True)
    return code.make_image()


def qr_png(payload: str, box_size: int = 8) -> bytes:
    """Return a black-on-white PNG of ``payload``, ``box_size`` pixels per module."""
    if box_size < 1:
        raise ValueError(f"box_size must be at least 1, got {box_size}")
    buffer = io.BytesIO()
    _make(payload, box_size, PilImage).save(buffer)
    return buffer.getvalue()


def qr_svg(payload: str) -> str:
    """Return a standalone SVG document (one path, sized in mm) showing ``payload``."""
    # SvgPathImage draws the modules as one <path>: small output that scales without seams.
    return _make(payload, 10, SvgPathImage).to_string(encoding="unicode")

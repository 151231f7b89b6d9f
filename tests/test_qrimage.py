"""QR images: what a phone camera reads back must be exactly the payload."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image
from pyzbar.pyzbar import decode

from tuition.core.vietqr import build_payload
from tuition.qrimage import qr_png, qr_svg

PAYLOADS = [
    build_payload(bin="970436", account_number="1031933430", amount_vnd=750_000, memo="HP A3K9X2"),
    build_payload(bin="970418", account_number="21510001234567", amount_vnd=None, memo=None),
    build_payload(
        bin="970422", account_number="0123456789", amount_vnd=9_999_999_999_999, memo="~" * 25
    ),
]


def _decode_png(png: bytes) -> list[bytes]:
    with Image.open(io.BytesIO(png)) as image:
        return [symbol.data for symbol in decode(image)]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_png_decodes_to_exactly_the_payload(payload: str) -> None:
    png = qr_png(payload)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert _decode_png(png) == [payload.encode("ascii")]


def test_png_box_size_sets_pixels_per_module() -> None:
    payload = PAYLOADS[0]
    with Image.open(io.BytesIO(qr_png(payload, box_size=4))) as small:
        small_width = small.size[0]
    with Image.open(io.BytesIO(qr_png(payload, box_size=8))) as large:
        assert large.size == (small_width * 2, small_width * 2)
    # Width is (modules + 2 * border of 4) * box_size; a QR has 21 + 4k modules per side.
    assert (small_width // 4 - 8 - 21) % 4 == 0
    assert _decode_png(qr_png(payload, box_size=4)) == [payload.encode()]


def test_png_quiet_zone_is_four_modules_of_white() -> None:
    box = 5
    with Image.open(io.BytesIO(qr_png(PAYLOADS[0], box_size=box))) as image:
        gray = image.convert("L")
        quiet = 4 * box
        assert {gray.getpixel((x, y)) for x in range(quiet) for y in range(quiet)} == {255}
        # The finder pattern (black) starts right after the quiet zone.
        assert gray.getpixel((quiet, quiet)) == 0


def test_svg_is_a_standalone_svg_document() -> None:
    svg = qr_svg(PAYLOADS[0])
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox")
    assert root.find("{http://www.w3.org/2000/svg}path") is not None


def test_svg_differs_by_payload() -> None:
    assert qr_svg(PAYLOADS[0]) != qr_svg(PAYLOADS[1])


@pytest.mark.parametrize("render", [qr_png, qr_svg])
def test_empty_payload_is_refused(render) -> None:  # noqa: ANN001
    with pytest.raises(ValueError):
        render("")


def test_zero_box_size_is_refused() -> None:
    with pytest.raises(ValueError, match="box_size"):
        qr_png(PAYLOADS[0], box_size=0)

"""Fee notices (thông báo thu tiền) as PDF, drawn straight onto a reportlab canvas.

A school prints one notice per student and month, often a whole school at once, so the
renderer streams: it pulls one :class:`Notice` at a time from any iterable, draws it with
absolute coordinates and moves on.  Nothing per notice is kept in Python objects (no platypus
story), and QR codes are emitted as one filled path of merged module runs instead of a
``Drawing`` per code, which is what makes thousands of pages a minute possible.

Layouts:

``"a5x2"``
    two A5-landscape notices on each A4 portrait page, separated by a dashed cut line; the
    payment box with the VietQR code sits in a right-hand column.
``"a4"``
    one notice per A4 portrait page, single column, larger type.
"""

from __future__ import annotations

import datetime
import functools
import operator
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import BinaryIO

import qrcode.base
import qrcode.util
from qrcode.constants import ERROR_CORRECT_M
from reportlab import rl_config
from reportlab.lib.colors import Color, HexColor, black, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from tuition.pdf.fonts import FONT_BOLD, FONT_ITALIC, FONT_REGULAR, register_fonts

__all__ = ["LAYOUTS", "Notice", "NoticeLine", "format_vnd", "render_notices"]

#: Accepted values of ``render_notices(layout=...)``.
LAYOUTS = ("a5x2", "a4")


@dataclass(frozen=True, slots=True)
class NoticeLine:
    """One fee item of a notice; all money in whole dong."""

    description: str
    quantity: int
    unit_price_vnd: int
    reduction_vnd: int
    amount_vnd: int
    #: Shown after the quantity, e.g. "ngày" for meals or "tháng" for tuition; may be "".
    unit_label: str


@dataclass(frozen=True, slots=True)
class Notice:
    """Everything printed on one student's fee notice, already decided by the services."""

    school_name: str
    school_address: str
    school_phone: str
    school_tax_code: str
    student_code: str
    student_name: str
    class_name: str
    #: Printed under the title as is, e.g. "Tháng 9/2026".
    period_label: str
    lines: tuple[NoticeLine, ...]
    total_vnd: int
    amount_in_words: str
    due_date: datetime.date
    bank_name: str
    account_number: str
    account_name: str
    #: The VietQR (EMVCo) string the parent's banking app reads.
    qr_payload: str
    #: The transfer description to type when paying without the QR code.
    memo: str
    invoice_code: str
    #: Where a parent checks that the notice is genuine; printed and drawn as a small QR.
    verify_url: str


def format_vnd(amount: int) -> str:
    """Format whole dong the Vietnamese way, with dots between thousands: 1250000 -> "1.250.000"."""
    return f"{amount:,}".replace(",", ".")


# --------------------------------------------------------------------------------------------
# Look

NAVY = HexColor("#1F3A5F")
GREY = HexColor("#5A6472")
RULE = HexColor("#C5CFDB")
HEAD_BG = HexColor("#E8EEF6")
PANEL_BG = HexColor("#F5F8FC")
RED = HexColor("#A61B1B")
MEMO_BG = HexColor("#FFF5D6")
MEMO_EDGE = HexColor("#D9A931")
CUT = HexColor("#9AA3AE")

A4_WIDTH, A4_HEIGHT = A4
#: Payment QR edge: 4-4.5 cm is what phone cameras read comfortably from a printed sheet.
PAYMENT_QR_A5 = 43 * mm
PAYMENT_QR_A4 = 50 * mm


# --------------------------------------------------------------------------------------------
# Text helpers


def _nfc(text: str) -> str:
    # Roboto has the precomposed Vietnamese letters; decomposed input (common from macOS
    # keyboards and some spreadsheets) would draw stacked combining marks and extract badly.
    return unicodedata.normalize("NFC", text)


@functools.lru_cache(maxsize=8192)
def _width(text: str, font: str, size: float) -> float:
    # Headings, labels and most amounts repeat on every notice; reportlab measures TTF text
    # in pure Python, so a bounded cache saves a few milliseconds per page.
    return stringWidth(text, font, size)


def _fit_size(text: str, font: str, size: float, max_width: float, min_size: float) -> float:
    """Largest size <= ``size`` (but not below ``min_size``) at which ``text`` fits."""
    width = _width(text, font, size)
    if width <= max_width:
        return size
    return max(min_size, size * max_width / width * 0.999)


def _wrap(text: str, font: str, size: float, max_width: float) -> list[str]:
    """Greedy word wrap; a single word wider than the line stays whole on its own line."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and _width(candidate, font, size) > max_width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines or [""]


def _fit_lines(
    text: str, font: str, size: float, max_width: float, min_size: float, max_lines: int
) -> tuple[float, list[str]]:
    """Fit ``text`` into at most ``max_lines`` lines of ``max_width``: shrink, then wrap.

    Shrinking first keeps short overflows on one line; only if even ``min_size`` does not fit
    is the text wrapped, and if the wrapped text still needs too many lines (or has a word
    wider than the line) the size keeps going down.  Text is never cut off.
    """
    fitted = _fit_size(text, font, size, max_width, min_size)
    if _width(text, font, fitted) <= max_width or max_lines == 1:
        return _fit_size(text, font, fitted, max_width, 3.0), [text]
    current = size
    while True:
        lines = _wrap(text, font, current, max_width)
        widest = max(_width(line, font, current) for line in lines)
        if len(lines) <= max_lines and widest <= max_width:
            return current, lines
        if current <= 3.0:
            return current, lines
        current = max(3.0, current - 0.25 if current > min_size else current * 0.92)


def _draw(
    c: Canvas,
    x: float,
    y: float,
    text: str,
    font: str,
    size: float,
    color: Color = black,
    align: str = "left",
    char_space: float = 0,
) -> None:
    c.setFont(font, size)
    if c._fillColorObj != color:  # each colour change costs three number conversions
        c.setFillColor(color)
    if align == "right":
        c.drawRightString(x, y, text, charSpace=char_space)
    elif align == "center":
        c.drawCentredString(x, y, text, charSpace=char_space)
    else:
        c.drawString(x, y, text, charSpace=char_space)


# --------------------------------------------------------------------------------------------
# QR codes

# qrcode (a dependency already) builds a correct matrix but takes ~14 ms per code, mostly in
# choosing the mask; two codes per notice would cap the renderer near 35 pages/s.  The encoder
# below borrows qrcode's standard tables (block structure, alignment positions, BCH codes) and
# does the work with C-level string and integer operations: each version's module layout is
# computed once and cached as an ``itemgetter`` permutation, Reed-Solomon runs on a big-int
# shift register, and all eight masks are scored from strings with regular expressions.
# tests/test_notices.py checks it module for module against qrcode and decodes it with zbar.

_GF_EXP = [0] * 512
_GF_LOG = [0] * 256
_value = 1
for _power in range(255):
    _GF_EXP[_power] = _value
    _GF_LOG[_value] = _power
    _value <<= 1
    if _value & 0x100:
        _value ^= 0x11D
for _power in range(255, 512):
    _GF_EXP[_power] = _GF_EXP[_power - 255]
del _value, _power

_ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_ALPHANUMERIC_VALUE = {char: index for index, char in enumerate(_ALPHANUMERIC)}
_ALPHANUMERIC_ONLY = re.compile(r"[0-9A-Z $%*+\-./:]*\Z")
_MASKS: tuple[Callable[[int, int], bool], ...] = (
    lambda i, j: (i + j) % 2 == 0,
    lambda i, j: i % 2 == 0,
    lambda i, j: j % 3 == 0,
    lambda i, j: (i + j) % 3 == 0,
    lambda i, j: (i // 2 + j // 3) % 2 == 0,
    lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
    lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
    lambda i, j: ((i + j) % 2 + (i * j) % 3) % 2 == 0,
)
# Two patterns with literal prefixes: the regex engine then skips ahead with a fast search,
# four times quicker than one "0{5,}|1{5,}" tried at every position.
_RUNS_OF_FIVE = (re.compile(r"11111+"), re.compile(r"00000+"))
_DARK_RUN = re.compile(r"1+")


@dataclass(frozen=True, slots=True)
class _QrLayout:
    """What every code of one version shares: size, capacity and module permutations."""

    size: int
    blocks: tuple[tuple[int, int], ...]  # (total codewords, data codewords) per RS block
    data_modules: int
    #: For each mask, the data modules it flips, as an int in placement order.
    mask_bits: tuple[int, ...]
    #: Matrix row by row, rows separated by a space, from ``data bits + format + "01 "``.
    rows: Callable[[str], tuple[str, ...]]
    #: The same, column by column, for the column penalties.
    columns: Callable[[str], tuple[str, ...]]


@functools.cache
def _qr_layout(version: int) -> _QrLayout:
    n = 17 + 4 * version
    # Cell contents while laying out: None = data, "0"/"1" = fixed, ("f", i) = format bit i.
    grid: list[list[object]] = [[None] * n for _ in range(n)]
    for top, left in ((0, 0), (n - 7, 0), (0, n - 7)):
        for r in range(-1, 8):
            for c in range(-1, 8):
                if 0 <= top + r < n and 0 <= left + c < n:
                    dark = (
                        (0 <= r <= 6 and c in (0, 6))
                        or (0 <= c <= 6 and r in (0, 6))
                        or (2 <= r <= 4 and 2 <= c <= 4)
                    )
                    grid[top + r][left + c] = "1" if dark else "0"
    centres = qrcode.util.pattern_position(version)
    for row in centres:
        for col in centres:
            if grid[row][col] is not None:
                continue  # overlaps a finder pattern
            for r in range(-2, 3):
                for c in range(-2, 3):
                    dark = abs(r) == 2 or abs(c) == 2 or (r == 0 and c == 0)
                    grid[row + r][col + c] = "1" if dark else "0"
    for i in range(8, n - 8):
        if grid[i][6] is None:
            grid[i][6] = "1" if i % 2 == 0 else "0"
        if grid[6][i] is None:
            grid[6][i] = "1" if i % 2 == 0 else "0"
    for i in range(15):  # format information, placed as qrcode does
        vertical = i if i < 6 else i + 1 if i < 8 else n - 15 + i
        grid[vertical][8] = ("f", i)
        horizontal = n - i - 1 if i < 8 else 15 - i if i < 9 else 15 - i - 1
        grid[8][horizontal] = ("f", i)
    grid[n - 8][8] = "1"
    if version >= 7:
        bits = qrcode.util.BCH_type_number(version)
        for i in range(18):
            value = "1" if (bits >> i) & 1 else "0"
            grid[i // 3][i % 3 + n - 11] = value
            grid[i % 3 + n - 11][i // 3] = value

    order: list[tuple[int, int]] = []  # data modules in placement (zigzag) order
    row, step = n - 1, -1
    for col in range(n - 1, 0, -2):
        if col <= 6:
            col -= 1  # skip the vertical timing pattern
        while True:
            for c in (col, col - 1):
                if grid[row][c] is None:
                    order.append((row, c))
            row += step
            if not 0 <= row < n:
                row -= step
                step = -step
                break
    count = len(order)
    for index, (r, c) in enumerate(order):
        grid[r][c] = index
    # Indices into the source string: data bits, then 15 format bits, then "0", "1", " ".
    light, dark, space = count + 15, count + 16, count + 17

    def source_index(cell: object) -> int:
        if isinstance(cell, int):
            return cell
        if isinstance(cell, tuple):
            return count + cell[1]
        return dark if cell == "1" else light

    by_rows: list[int] = []
    by_columns: list[int] = []
    for i in range(n):
        by_rows.extend(source_index(grid[i][j]) for j in range(n))
        by_rows.append(space)
        by_columns.extend(source_index(grid[j][i]) for j in range(n))
        by_columns.append(space)
    mask_bits = tuple(
        int("".join("1" if mask(r, c) else "0" for r, c in order), 2) for mask in _MASKS
    )
    blocks = tuple(
        (block.total_count, block.data_count)
        for block in qrcode.base.rs_blocks(version, ERROR_CORRECT_M)
    )
    return _QrLayout(
        n, blocks, count, mask_bits, operator.itemgetter(*by_rows), operator.itemgetter(*by_columns)
    )


@functools.cache
def _rs_table(ec_count: int) -> tuple[int, ...]:
    """Generator polynomial times every byte value, each as an ``ec_count``-byte integer."""
    generator = [1]
    for power in range(ec_count):
        product = [0] * (len(generator) + 1)
        for i, coefficient in enumerate(generator):
            product[i] ^= coefficient
            if coefficient:
                product[i + 1] ^= _GF_EXP[_GF_LOG[coefficient] + power]
        generator = product
    table = [0]
    for factor in range(1, 256):
        log = _GF_LOG[factor]
        row = 0
        for coefficient in generator[1:]:
            row = row << 8 | (_GF_EXP[log + _GF_LOG[coefficient]] if coefficient else 0)
        table.append(row)
    return tuple(table)


def _rs_remainder(data: bytes, ec_count: int) -> bytes:
    table = _rs_table(ec_count)
    shift = 8 * (ec_count - 1)
    keep = (1 << 8 * ec_count) - 1
    remainder = 0
    for byte in data:
        remainder = ((remainder << 8) & keep) ^ table[(remainder >> shift) ^ byte]
    return remainder.to_bytes(ec_count, "big")


def _qr_bits(data: str, version: int) -> str | None:
    """Mode, count and data bits for ``version``, or None if they do not fit."""
    if _ALPHANUMERIC_ONLY.match(data):
        count_bits = 9 if version < 10 else 11 if version < 27 else 13
        parts = [f"0010{len(data):0{count_bits}b}"]
        for i in range(0, len(data) - 1, 2):
            pair = _ALPHANUMERIC_VALUE[data[i]] * 45 + _ALPHANUMERIC_VALUE[data[i + 1]]
            parts.append(f"{pair:011b}")
        if len(data) % 2:
            parts.append(f"{_ALPHANUMERIC_VALUE[data[-1]]:06b}")
        bits = "".join(parts)
    else:
        raw = data.encode("utf-8")
        count_bits = 8 if version < 10 else 16
        bits = f"0100{len(raw):0{count_bits}b}{int.from_bytes(raw, 'big'):0{8 * len(raw)}b}"
    capacity = 8 * sum(data_count for _, data_count in _qr_layout(version).blocks)
    return bits if len(bits) <= capacity else None


def _qr_rows(data: str) -> list[str]:
    """QR code (level M, best mask) for ``data`` as rows of "0"/"1", without quiet zone."""
    for version in range(1, 41):
        bits = _qr_bits(data, version)
        if bits is not None:
            break
    else:
        raise ValueError(f"too long for a QR code: {len(data)} characters")
    layout = _qr_layout(version)
    capacity = 8 * sum(data_count for _, data_count in layout.blocks)
    bits += "0" * min(4, capacity - len(bits))
    bits += "0" * (-len(bits) % 8)
    codewords = int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""
    codewords += (b"\xec\x11" * capacity)[: capacity // 8 - len(codewords)]

    data_blocks: list[bytes] = []
    ec_blocks: list[bytes] = []
    offset = 0
    for total_count, data_count in layout.blocks:
        block = codewords[offset : offset + data_count]
        offset += data_count
        data_blocks.append(block)
        ec_blocks.append(_rs_remainder(block, total_count - data_count))
    interleaved = bytearray()
    for group in (data_blocks, ec_blocks):
        for i in range(max(len(block) for block in group)):
            interleaved.extend(block[i] for block in group if i < len(block))
    payload = int.from_bytes(interleaved, "big") << (layout.data_modules - 8 * len(interleaved))

    best: tuple[int, str] | None = None
    width = layout.data_modules
    for mask, flips in enumerate(layout.mask_bits):
        # Format bit i of the BCH code goes to source index width + i: least significant first.
        format_bits = f"{qrcode.util.BCH_type_info(ERROR_CORRECT_M << 3 | mask):015b}"[::-1]
        source = f"{payload ^ flips:0{width}b}{format_bits}01 "
        rows = "".join(layout.rows(source))
        score = _qr_penalty(rows, "".join(layout.columns(source)), layout.size)
        if best is None or score < best[0]:
            best = (score, rows)
    assert best is not None
    return best[1].split()


def _qr_penalty(rows: str, columns: str, size: int) -> int:
    """The standard's mask penalty (N1-N4) from space-separated row and column strings.

    Every rule runs in C: regular expressions for runs, ``str.count`` for finder-like
    patterns and one big integer for the 2x2 blocks, so all eight masks score in about a
    millisecond.
    """
    score = 0
    for lines in (rows, columns):
        runs = _RUNS_OF_FIVE[0].findall(lines) + _RUNS_OF_FIVE[1].findall(lines)
        score += sum(map(len, runs)) - 2 * len(runs)
        # Neither pattern can overlap itself, so plain counting finds every occurrence.
        score += 40 * (lines.count("10111010000") + lines.count("00001011101"))
    # Rows side by side in one integer, each followed by a "0" separator bit: shifting by a
    # row (size + 1 bits) lines every module up with the one below it.
    matrix = int(rows.replace(" ", "0"), 2)
    below = matrix >> (size + 1)
    same = ~(matrix ^ below) & ~(matrix ^ (matrix >> 1)) & ~(below ^ (below >> 1))
    score += 3 * (same & _block_positions(size)).bit_count()
    dark = rows.count("1")
    score += 10 * (abs(dark * 100 // (size * size) - 50) // 5)
    return score


@functools.cache
def _block_positions(size: int) -> int:
    """Bits of :func:`_qr_penalty`'s integers where a 2x2 block ends (bottom-right module).

    Character k of the row string is module (k // (size + 1), k % (size + 1)); a block ending
    there needs a row above and a column to the left, and separators never count.
    """
    row = "0" + "1" * (size - 1) + "0"
    return int("0" * (size + 1) + row * (size - 1), 2)


def _draw_qr(c: Canvas, data: str, x: float, y: float, size: float) -> None:
    """Draw a QR code for ``data`` with its lower-left corner at (x, y), ``size`` wide.

    A white square with the 4-module quiet zone the standard asks for is painted behind the
    code, so it also reads on a tinted panel.  The dark modules are merged into horizontal
    runs and emitted as a single path in module units: one fill operation keeps viewers from
    drawing hairline seams between adjacent modules and is far cheaper than a reportlab
    ``Drawing``.
    """
    rows = _qr_rows(data)
    count = len(rows)
    module = size / count
    quiet = 4 * module
    c.setFillColor(white)
    c.rect(x - quiet, y - quiet, size + 2 * quiet, size + 2 * quiet, stroke=0, fill=1)
    ops: list[str] = []
    for row_index, row in enumerate(rows):
        for run in _DARK_RUN.finditer(row):
            start, end = run.span()
            ops.append(f"{start} {row_index} {end - start} 1 re")
    c.saveState()
    c.setFillColor(black)
    # Module coordinates: origin at the top-left module, y growing downwards like the matrix.
    c.translate(x, y + size)
    c.scale(module, -module)
    c.addLiteral(" ".join(ops) + " f")
    c.restoreState()


# --------------------------------------------------------------------------------------------
# One notice


@dataclass(frozen=True, slots=True)
class _Frame:
    """The rectangle one notice is drawn in, and the type scale for it."""

    x: float
    y: float
    width: float
    height: float
    scale: float
    #: True: payment box as a right-hand column (A5); False: below the table (A4).
    side_panel: bool


def _draw_header(c: Canvas, n: Notice, x: float, top: float, width: float, s: float) -> float:
    """School name, address, phone and tax code; returns the y below the header rule."""
    code_text = f"Số: {_nfc(n.invoice_code)}"
    code_size = 7.5 * s
    code_width = _width(code_text, FONT_REGULAR, code_size)
    _draw(c, x + width, top - 9 * s, code_text, FONT_REGULAR, code_size, GREY, "right")

    name_width = width - code_width - 6 * mm
    size, lines = _fit_lines(_nfc(n.school_name), FONT_BOLD, 12 * s, name_width, 8.5, 2)
    y = top - size
    for line in lines:
        _draw(c, x, y, line, FONT_BOLD, size, NAVY)
        y -= size * 1.18
    small = 7.5 * s
    y -= small * 0.25
    address = f"Địa chỉ: {_nfc(n.school_address)}"
    address_size = _fit_size(address, FONT_REGULAR, small, width, 5.5)
    _draw(c, x, y, address, FONT_REGULAR, address_size, GREY)
    y -= small * 1.3
    contact = f"Điện thoại: {_nfc(n.school_phone)}     Mã số thuế: {_nfc(n.school_tax_code)}"
    contact_size = _fit_size(contact, FONT_REGULAR, small, width, 5.5)
    _draw(c, x, y, contact, FONT_REGULAR, contact_size, GREY)
    y -= small * 0.9
    c.setStrokeColor(NAVY)
    c.setLineWidth(0.9)
    c.line(x, y, x + width, y)
    return y


def _draw_title(c: Canvas, n: Notice, center_x: float, top: float, s: float) -> float:
    """Title and period, centred; returns the y below them."""
    y = top - 16 * s
    _draw(c, center_x, y, "THÔNG BÁO THU TIỀN", FONT_BOLD, 14 * s, NAVY, "center")
    y -= 11 * s
    _draw(c, center_x, y, _nfc(n.period_label), FONT_REGULAR, 9.5 * s, black, "center")
    return y - 6 * s


def _draw_student(c: Canvas, n: Notice, x: float, top: float, width: float, s: float) -> float:
    """Student name, code and class; returns the y below."""
    label_size = 8.5 * s
    y = top - 10 * s
    label = "Học sinh: "
    _draw(c, x, y, label, FONT_REGULAR, label_size)
    label_width = _width(label, FONT_REGULAR, label_size)
    name = _nfc(n.student_name)
    name_size = _fit_size(name, FONT_BOLD, 10.5 * s, width - label_width, 6)
    _draw(c, x + label_width, y, name, FONT_BOLD, name_size)
    y -= 12 * s
    details = f"Mã học sinh: {_nfc(n.student_code)}       Lớp: {_nfc(n.class_name)}"
    _draw(c, x, y, details, FONT_REGULAR, _fit_size(details, FONT_REGULAR, label_size, width, 5))
    return y - 6 * s


#: (heading, share of the table width, alignment) of the table columns.
_COLUMNS = (
    ("STT", 0.065, "center"),
    ("Khoản thu", 0.0, "left"),  # takes what the others leave
    ("Số lượng", 0.12, "center"),
    ("Đơn giá", 0.155, "right"),
    ("Miễn giảm", 0.145, "right"),
    ("Thành tiền", 0.165, "right"),
)


def _draw_table(
    c: Canvas, n: Notice, x: float, top: float, width: float, bottom: float, s: float
) -> float:
    """The fee lines and the total between ``top`` and at most ``bottom``; returns the y below.

    Rows are ``6.3 * s`` mm high when there is room, taller for item names that need two or
    three lines; with many lines the rows get lower and the type smaller so that the table
    always stays inside its frame.
    """
    widths = [share * width for _, share, _ in _COLUMNS]
    widths[1] = width - sum(widths)
    lefts = [x]
    for w in widths[:-1]:
        lefts.append(lefts[-1] + w)
    pad = 1.4 * mm

    head_h = 6 * mm * s
    total_h = 6.5 * mm * s
    size = 8 * s
    descriptions = [_nfc(line.description) for line in n.lines]
    # A long item name gets a taller row (up to three lines) when the frame has room; if the
    # rows together are too tall, every row and the type shrink by the same factor.
    inner = widths[1] - 2 * pad
    extra = [min(2, len(_wrap(text, FONT_REGULAR, size, inner)) - 1) for text in descriptions]
    base_h = 6.3 * mm * s
    heights = [base_h + k * size * 1.1 for k in extra]
    room = top - bottom - head_h - total_h
    if sum(heights) > room:
        shrink = max(room, 0.0) / sum(heights)
        heights = [max(h * shrink, 2.6 * mm) for h in heights]
        size = max(4.0, size * max(shrink, 0.6))

    # Header band.
    c.setFillColor(HEAD_BG)
    c.rect(x, top - head_h, width, head_h, stroke=0, fill=1)
    head_size = min(7.5 * s, head_h * 0.45)
    baseline = top - head_h / 2 - head_size * 0.35
    for (heading, _, align), left, w in zip(_COLUMNS, lefts, widths, strict=True):
        hsize = _fit_size(heading, FONT_BOLD, head_size, w - 2 * pad, 4)
        _cell(c, heading, left, w, pad, baseline, FONT_BOLD, hsize, NAVY, align)

    c.setStrokeColor(RULE)
    c.setLineWidth(0.5)
    y = top - head_h
    for index, (line, row_h) in enumerate(zip(n.lines, heights, strict=True), start=1):
        row_top = y
        y -= row_h
        baseline = y + row_h / 2 - size * 0.35
        cells = (
            str(index),
            None,
            f"{line.quantity} {_nfc(line.unit_label)}".strip(),
            format_vnd(line.unit_price_vnd),
            format_vnd(line.reduction_vnd) if line.reduction_vnd else "-",
            format_vnd(line.amount_vnd),
        )
        for col, text in enumerate(cells):
            if text is None:
                _draw_description(
                    c, descriptions[index - 1], lefts[1], widths[1], pad, row_top, row_h, size
                )
                continue
            cell_size = _fit_size(text, FONT_REGULAR, size, widths[col] - 2 * pad, 3)
            _cell(
                c,
                text,
                lefts[col],
                widths[col],
                pad,
                baseline,
                FONT_REGULAR,
                cell_size,
                black,
                _COLUMNS[col][2],
            )
        c.line(x, y, x + width, y)

    # Total row, set off by a darker rule.
    c.setStrokeColor(NAVY)
    c.setLineWidth(0.8)
    c.line(x, y, x + width, y)
    y -= total_h
    total_size = 9.5 * s
    baseline = y + total_h / 2 - total_size * 0.35
    _draw(c, lefts[1] + pad, baseline, "Tổng cộng", FONT_BOLD, 9 * s, NAVY)
    total = format_vnd(n.total_vnd)
    total_size = _fit_size(total, FONT_BOLD, total_size, widths[-1] + widths[-2] - 2 * pad, 5)
    _draw(c, x + width - pad, baseline, total, FONT_BOLD, total_size, NAVY, "right")
    c.line(x, y, x + width, y)
    return y


def _cell(
    c: Canvas,
    text: str,
    left: float,
    width: float,
    pad: float,
    baseline: float,
    font: str,
    size: float,
    color: Color,
    align: str,
) -> None:
    if align == "right":
        _draw(c, left + width - pad, baseline, text, font, size, color, "right")
    elif align == "center":
        _draw(c, left + width / 2, baseline, text, font, size, color, "center")
    else:
        _draw(c, left + pad, baseline, text, font, size, color)


def _draw_description(
    c: Canvas,
    text: str,
    left: float,
    width: float,
    pad: float,
    row_top: float,
    row_h: float,
    size: float,
) -> None:
    """An item name: one line if it fits (shrinking a little), else two lines, else smaller."""
    inner = width - 2 * pad
    max_lines = max(1, min(3, int((row_h - 2) / (size * 1.08))))
    fitted, lines = _fit_lines(text, FONT_REGULAR, size, inner, size * 0.85, max_lines)
    leading = fitted * 1.08
    block = leading * (len(lines) - 1)
    y = row_top - row_h / 2 + block / 2 - fitted * 0.35
    for line in lines:
        _draw(c, left + pad, y, line, FONT_REGULAR, fitted)
        y -= leading


def _draw_words_and_due(
    c: Canvas, n: Notice, x: float, top: float, width: float, s: float
) -> float:
    """Amount in words and due date under the table; returns the y below."""
    y = top - 10 * s
    words = f"Bằng chữ: {_nfc(n.amount_in_words)}"
    size, lines = _fit_lines(words, FONT_ITALIC, 8 * s, width, 6.5, 2)
    for line in lines:
        _draw(c, x, y, line, FONT_ITALIC, size)
        y -= size * 1.25
    y -= 4 * s
    _draw(c, x, y, f"Hạn nộp: {n.due_date:%d/%m/%Y}", FONT_BOLD, 9.5 * s, RED)
    return y - 4 * s


def _draw_verify(c: Canvas, n: Notice, x: float, bottom: float, width: float, s: float) -> None:
    """The authenticity check: small QR of ``verify_url`` with the link beside it."""
    qr = 13 * mm * s
    qr_x = x + 2 * mm * s  # room for the quiet zone, painted white by _draw_qr
    _draw_qr(c, n.verify_url, qr_x, bottom + 2 * mm * s, qr)
    text_x = qr_x + qr + 4 * mm * s
    text_w = x + width - text_x
    top = bottom + 2 * mm * s + qr
    y = top - 8 * s
    line = f"Kiểm tra thông báo: {n.verify_url}"
    size = _fit_size(line, FONT_BOLD, 7.5 * s, text_w, 5.5)
    if _width(line, FONT_BOLD, size) <= text_w:
        _draw(c, text_x, y, line, FONT_BOLD, size, NAVY)
    else:
        # A URL is never broken inside: label and link go on lines of their own.
        _draw(c, text_x, y, "Kiểm tra thông báo:", FONT_BOLD, 7.5 * s, NAVY)
        y -= 9 * s
        url_size = _fit_size(n.verify_url, FONT_REGULAR, 7.5 * s, text_w, 3)
        _draw(c, text_x, y, n.verify_url, FONT_REGULAR, url_size, NAVY)
    y -= 10 * s
    hint = "Quét mã hoặc mở đường dẫn để xác nhận thông báo do nhà trường phát hành."
    size, lines = _fit_lines(hint, FONT_ITALIC, 6.5 * s, text_w, 5.5, 2)
    for hint_line in lines:
        _draw(c, text_x, y, hint_line, FONT_ITALIC, size, GREY)
        y -= size * 1.2


def _draw_label_value(
    c: Canvas, x: float, y: float, width: float, label: str, value: str, s: float, value_size: float
) -> float:
    """``label`` in regular type then ``value`` in bold; returns the baseline of the last line.

    A value that would need tiny type beside its label (a long account holder name) moves to
    its own lines under the label instead.
    """
    label_size = 7.8 * s
    _draw(c, x, y, label, FONT_REGULAR, label_size, GREY)
    label_width = _width(label, FONT_REGULAR, label_size)
    size = _fit_size(value, FONT_BOLD, value_size, width - label_width, 3)
    if size >= 6.5 * s:
        _draw(c, x + label_width, y, value, FONT_BOLD, size)
        return y
    size, lines = _fit_lines(value, FONT_BOLD, value_size, width, 6.5 * s, 2)
    for line in lines:
        y -= size * 1.2
        _draw(c, x, y, line, FONT_BOLD, size)
    return y


def _draw_bank_lines(c: Canvas, n: Notice, x: float, top: float, width: float, s: float) -> float:
    """Bank, account, holder, memo box and the warning; returns the y below."""
    y = top
    y = _draw_label_value(c, x, y, width, "Ngân hàng: ", _nfc(n.bank_name), s, 8.5 * s)
    y -= 12 * s
    y = _draw_label_value(c, x, y, width, "Số tài khoản: ", n.account_number, s, 10.5 * s)
    y -= 12 * s
    y = _draw_label_value(c, x, y, width, "Chủ tài khoản: ", _nfc(n.account_name), s, 8.5 * s)
    y -= 8 * s

    # The memo is what reconciles a hand-typed transfer, so it is boxed and large.  Letter
    # spacing makes the bold sans read like a code (no monospace face ships with the fonts
    # we may embed) without breaking text extraction.
    box_h = 8 * mm * s
    c.setFillColor(MEMO_BG)
    c.setStrokeColor(MEMO_EDGE)
    c.setLineWidth(0.7)
    c.roundRect(x, y - box_h, width, box_h, 1.5 * mm, stroke=1, fill=1)
    label = "Nội dung chuyển khoản: "
    memo = _nfc(n.memo)
    inner = width - 4 * mm
    label_size = 7.5 * s
    label_w = _width(label, FONT_REGULAR, label_size)
    spacing = 0.6 * s
    memo_size = 11 * s
    memo_w = _width(memo, FONT_BOLD, memo_size) + spacing * len(memo)
    if label_w + memo_w > inner:
        memo_size = max(5.0, memo_size * (inner - label_w) / memo_w)
        spacing *= memo_size / (11 * s)
    baseline = y - box_h / 2 - memo_size * 0.35
    _draw(c, x + 2 * mm, baseline, label, FONT_REGULAR, label_size, GREY)
    _draw(c, x + 2 * mm + label_w, baseline, memo, FONT_BOLD, memo_size, black, char_space=spacing)
    y -= box_h + 9 * s

    warning = "Nhà trường chỉ nhận tiền vào tài khoản trên."
    _draw(c, x, y, warning, FONT_BOLD, _fit_size(warning, FONT_BOLD, 7.8 * s, width, 5), RED)
    y -= 9 * s
    advice = "Không chuyển khoản theo hướng dẫn qua tin nhắn hay cuộc gọi lạ."
    _draw(c, x, y, advice, FONT_REGULAR, _fit_size(advice, FONT_REGULAR, 6.8 * s, width, 4), GREY)
    return y


def _draw_panel_box(c: Canvas, x: float, y: float, width: float, height: float) -> None:
    c.setFillColor(PANEL_BG)
    c.setStrokeColor(NAVY)
    c.setLineWidth(0.8)
    c.roundRect(x, y, width, height, 2.5 * mm, stroke=1, fill=1)


def _draw_side_panel(
    c: Canvas, n: Notice, x: float, y: float, width: float, height: float, s: float
) -> None:
    """Payment box as a column: heading, VietQR code, caption, bank details, memo, warning."""
    _draw_panel_box(c, x, y, width, height)
    pad = 3 * mm
    center = x + width / 2
    top = y + height
    _draw(c, center, top - 11, "THANH TOÁN CHUYỂN KHOẢN", FONT_BOLD, 8.5 * s, NAVY, "center")
    # Below the heading, leaving room for the QR's white quiet zone (4 modules, ~4.2 mm).
    qr_top = top - 15 - 5.5 * mm
    _draw_qr(c, n.qr_payload, center - PAYMENT_QR_A5 / 2, qr_top - PAYMENT_QR_A5, PAYMENT_QR_A5)
    caption = "Quét mã VietQR bằng ứng dụng ngân hàng"
    inner = width - 2 * pad
    cap_y = qr_top - PAYMENT_QR_A5 - 2 * mm - 7
    _draw(
        c,
        center,
        cap_y,
        caption,
        FONT_ITALIC,
        _fit_size(caption, FONT_ITALIC, 7.2, inner, 5),
        GREY,
        "center",
    )
    _draw_bank_lines(c, n, x + pad, cap_y - 14, inner, s)


def _draw_wide_panel(c: Canvas, n: Notice, x: float, top: float, width: float, s: float) -> float:
    """Payment box across the page: details on the left, VietQR code on the right."""
    qr = PAYMENT_QR_A4
    pad = 4 * mm
    quiet = 6 * mm  # the QR's white quiet zone plus a little panel around it
    height = qr + 2 * quiet + 14
    y = top - height
    _draw_panel_box(c, x, y, width, height)
    qr_x = x + width - quiet - 4 * mm - qr
    qr_y = y + quiet + 14
    _draw_qr(c, n.qr_payload, qr_x, qr_y, qr)
    caption = "Quét mã VietQR bằng ứng dụng ngân hàng"
    _draw(
        c,
        qr_x + qr / 2,
        y + 3 * mm + 2,
        caption,
        FONT_ITALIC,
        _fit_size(caption, FONT_ITALIC, 7.5 * s, qr + 12 * mm, 5),
        GREY,
        "center",
    )
    text_x = x + pad
    text_w = qr_x - 4 * mm - 6 * mm - text_x
    _draw(c, text_x, top - pad - 10 * s, "THANH TOÁN CHUYỂN KHOẢN", FONT_BOLD, 9 * s, NAVY)
    _draw_bank_lines(c, n, text_x, top - pad - 28 * s, text_w, s)
    return y


def _draw_notice(c: Canvas, n: Notice, frame: _Frame) -> None:
    s = frame.scale
    x, width = frame.x, frame.width
    bottom = frame.y
    y = _draw_header(c, n, x, frame.y + frame.height, width, s)
    y = _draw_title(c, n, x + width / 2, y, s)
    verify_h = 17 * mm * s
    if frame.side_panel:
        gap = 5 * mm
        left_w = width * 0.6
        panel_x = x + left_w + gap
        _draw_side_panel(c, n, panel_x, bottom, x + width - panel_x, y - bottom, s)
        col_y = _draw_student(c, n, x, y, left_w, s)
        words_h = 30 * s
        col_y = _draw_table(c, n, x, col_y, left_w, bottom + verify_h + words_h, s)
        _draw_words_and_due(c, n, x, col_y, left_w, s)
        _draw_verify(c, n, x, bottom, left_w, s)
    else:
        y = _draw_student(c, n, x, y, width, s)
        panel_h = PAYMENT_QR_A4 + 12 * mm + 14
        reserve = 30 * s + 6 * mm + panel_h + verify_h + 6 * mm
        y = _draw_table(c, n, x, y, width, bottom + reserve, s)
        y = _draw_words_and_due(c, n, x, y, width, s)
        y = _draw_wide_panel(c, n, x, y - 4 * mm, width, s)
        _draw_verify(c, n, x, y - 6 * mm - verify_h, width, s)


# --------------------------------------------------------------------------------------------
# Pages

_MARGIN_X = 11 * mm
_MARGIN_Y = 9 * mm
_HALF = A4_HEIGHT / 2

_A5_TOP = _Frame(
    _MARGIN_X, _HALF + _MARGIN_Y, A4_WIDTH - 2 * _MARGIN_X, _HALF - 2 * _MARGIN_Y, 1.0, True
)
_A5_BOTTOM = _Frame(
    _MARGIN_X, _MARGIN_Y, A4_WIDTH - 2 * _MARGIN_X, _HALF - 2 * _MARGIN_Y, 1.0, True
)
_A4_FRAME = _Frame(16 * mm, 14 * mm, A4_WIDTH - 32 * mm, A4_HEIGHT - 28 * mm, 1.2, False)


def _draw_cut_line(c: Canvas) -> None:
    c.saveState()
    c.setStrokeColor(CUT)
    c.setLineWidth(0.5)
    c.setDash(4, 3)
    c.line(6 * mm, _HALF, A4_WIDTH - 6 * mm, _HALF)
    c.restoreState()


def render_notices(
    notices: Iterable[Notice],
    out: BinaryIO,
    *,
    layout: str = "a5x2",
    title: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Draw ``notices`` into a PDF written to ``out``; return how many were drawn.

    The iterable is consumed lazily, one notice at a time, so a generator over a database
    cursor can feed a whole school.  ``progress`` is called with the running count after each
    notice.  ``title`` becomes the PDF document title.  With no notices at all the PDF holds
    one page saying so, because a PDF without pages is not a valid document.

    Note that reportlab keeps each finished page's compressed content stream until ``save``;
    that is a few kilobytes per page, the only memory that grows with the number of notices.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {LAYOUTS}")
    register_fonts()
    canvas = Canvas(
        out,
        pagesize=A4,
        pageCompression=1,  # ~10x smaller files for a small CPU cost; see bench/
        invariant=1,  # same input, same bytes: lets tests and caches compare output
        initialFontName=FONT_REGULAR,  # keeps Helvetica out of the page resources
        initialFontSize=9,
    )
    canvas.setTitle(_nfc(title) if title else "Thông báo thu tiền")
    canvas.setCreator("tuition")

    count = 0
    on_page = 0
    for notice in notices:
        if layout == "a4":
            _draw_notice(canvas, notice, _A4_FRAME)
            canvas.showPage()
        elif on_page == 0:
            _draw_notice(canvas, notice, _A5_TOP)
            on_page = 1
        else:
            _draw_cut_line(canvas)
            _draw_notice(canvas, notice, _A5_BOTTOM)
            canvas.showPage()
            on_page = 0
        count += 1
        if progress is not None:
            progress(count)
    if on_page:
        canvas.showPage()
    if count == 0:
        canvas.setFont(FONT_REGULAR, 11)
        canvas.drawString(20 * mm, A4_HEIGHT - 30 * mm, "Không có thông báo nào.")
        canvas.showPage()
    # Page streams are encoded only now.  reportlab wraps compressed streams in ASCII85 by
    # default, which is pure Python here (no rl_accel) and took ~40% of the time; binary
    # Flate streams are also 20% smaller.  The switch is global, so it is restored at once.
    use_a85 = rl_config.useA85
    rl_config.useA85 = 0
    try:
        canvas.save()
    finally:
        rl_config.useA85 = use_a85
    return count

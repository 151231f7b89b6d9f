"""A fast QR encoder (byte or alphanumeric mode, error correction level M) for the PDFs.

qrcode (a dependency already) builds a correct matrix but takes ~14 ms per code, mostly in
choosing the mask; two codes per fee notice would cap the renderer near 35 pages/s.  This
encoder borrows qrcode's standard tables (block structure, alignment positions, BCH codes) and
does the work with C-level string and integer operations: each version's module layout is
computed once and cached as an ``itemgetter`` permutation, Reed-Solomon runs on a big-int shift
register, and all eight masks are scored from strings with regular expressions.
tests/test_qrcode_fast.py checks it module for module against qrcode; tests/test_notices.py
decodes the printed codes with zbar.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

import qrcode.base
import qrcode.util
from qrcode.constants import ERROR_CORRECT_M

__all__ = ["ALPHANUMERIC", "qr_rows"]

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

#: The 45 characters of the alphanumeric mode, which packs two of them into 11 bits.
ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_ALPHANUMERIC_VALUE = {char: index for index, char in enumerate(ALPHANUMERIC)}
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


def _segment_bits(data: str, version: int) -> str:
    """Mode indicator, character count and data bits of ``data`` as one segment."""
    if _ALPHANUMERIC_ONLY.match(data):
        count_bits = 9 if version < 10 else 11 if version < 27 else 13
        parts = [f"0010{len(data):0{count_bits}b}"]
        for i in range(0, len(data) - 1, 2):
            pair = _ALPHANUMERIC_VALUE[data[i]] * 45 + _ALPHANUMERIC_VALUE[data[i + 1]]
            parts.append(f"{pair:011b}")
        if len(data) % 2:
            parts.append(f"{_ALPHANUMERIC_VALUE[data[-1]]:06b}")
        return "".join(parts)
    raw = data.encode("utf-8")
    count_bits = 8 if version < 10 else 16
    return f"0100{len(raw):0{count_bits}b}{int.from_bytes(raw, 'big'):0{8 * len(raw)}b}"


@functools.cache
def _capacity(version: int) -> int:
    """Data bits a level-M code of ``version`` holds."""
    return 8 * sum(block.data_count for block in qrcode.base.rs_blocks(version, ERROR_CORRECT_M))


def _qr_bits(data: str, version: int) -> str | None:
    """Mode, count and data bits for ``version``, or None if they do not fit."""
    bits = _segment_bits(data, version)
    return bits if len(bits) <= _capacity(version) else None


#: The 15 format bits (level M) of each mask, least significant first: bit i of the BCH code
#: goes to source index ``data_modules + i`` of the layout permutations.
_FORMAT_BITS = tuple(
    f"{qrcode.util.BCH_type_info(ERROR_CORRECT_M << 3 | mask):015b}"[::-1] for mask in range(8)
)


def qr_rows(data: str) -> list[str]:
    """QR code (level M, best mask) for ``data`` as rows of "0"/"1", without quiet zone."""
    bits = ""
    for version in range(1, 41):
        if version in (1, 10, 27):  # the width of the count field changes only here
            bits = _segment_bits(data, version)
        if len(bits) <= _capacity(version):
            break
    else:
        raise ValueError(f"too long for a QR code: {len(data)} characters")
    layout = _qr_layout(version)
    capacity = _capacity(version)
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
        source = f"{payload ^ flips:0{width}b}{_FORMAT_BITS[mask]}01 "
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

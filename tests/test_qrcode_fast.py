"""The fast QR encoder agrees with the qrcode package module for module."""

from __future__ import annotations

import random
import string

import pytest
import qrcode
from qrcode.constants import ERROR_CORRECT_M

from tuition.pdf import qrcode_fast
from tuition.pdf.qrcode_fast import ALPHANUMERIC, qr_rows


def _reference_matrices(data: str, version: int) -> list[list[str]]:
    """qrcode's matrices for ``data`` at ``version`` in one segment, one per mask."""
    matrices = []
    for mask in range(8):
        code = qrcode.QRCode(
            version=version, error_correction=ERROR_CORRECT_M, border=0, mask_pattern=mask
        )
        code.add_data(data, optimize=0)
        code.make(fit=False)
        matrices.append(["".join("1" if m else "0" for m in row) for row in code.modules])
    return matrices


@pytest.mark.parametrize("length", [1, 17, 60, 142, 300, 900])
@pytest.mark.parametrize("alphabet", ["alphanumeric", "bytes"])
def test_qr_encoder_matches_qrcode_module_for_module(length: int, alphabet: str) -> None:
    rng = random.Random(length)
    if alphabet == "alphanumeric":
        chars = ALPHANUMERIC.replace("0123456789", "")  # not all digits
    else:
        chars = string.ascii_letters + string.digits + "ắễđ /:?=&"
    data = "".join(rng.choice(chars) for _ in range(length))
    rows = qr_rows(data)
    version = (len(rows) - 17) // 4
    assert rows in _reference_matrices(data, version)
    # The smallest version that holds the data is chosen.
    if version > 1:
        assert qrcode_fast._qr_bits(data, version - 1) is None


def test_too_long_data_is_refused() -> None:
    with pytest.raises(ValueError, match="too long"):
        qr_rows("x" * 3000)

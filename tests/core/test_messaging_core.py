"""The pure side of messages: diacritics, SMS length, phone and email checks, templates,
the states of a message."""

from __future__ import annotations

import pytest

from tuition.messaging.core import (
    DEFAULT_TEMPLATES,
    TRANSITIONS,
    InvalidTransition,
    check_email,
    check_phone,
    parse_channels,
    render,
    retry_delay,
    sms_length,
    sms_text,
    transition,
    unaccent,
    unknown_placeholders,
    usable_channels,
)


def test_unaccent_vietnamese():
    assert unaccent("Nguyễn Thị Ánh Dương, lớp 1A") == "Nguyen Thi Anh Duong, lop 1A"
    assert unaccent("ĐẶNG ĐỨC ĐẠT đã nộp 500.000đ") == "DANG DUC DAT da nop 500.000d"
    # Decomposed input (as some keyboards type it) comes out the same.
    import unicodedata
    assert unaccent(unicodedata.normalize("NFD", "Hoàng Văn Thụ")) == "Hoang Van Thu"


@pytest.mark.parametrize("text, length, encoding, segments, capacity", [
    ("", 0, "GSM-7", 0, 160),
    ("a" * 160, 160, "GSM-7", 1, 160),
    ("a" * 161, 161, "GSM-7", 2, 306),
    ("a" * 306, 306, "GSM-7", 2, 306),
    ("a" * 307, 307, "GSM-7", 3, 459),
    ("[a]" * 10, 50, "GSM-7", 1, 160),          # [ and ] cost two septets each
    ("học phí", 7, "UCS-2", 1, 70),
    ("đ" * 70, 70, "UCS-2", 1, 70),
    ("đ" * 71, 71, "UCS-2", 2, 134),
    ("😀", 2, "UCS-2", 1, 70),                   # outside the BMP: two UTF-16 units
])
def test_sms_length(text, length, encoding, segments, capacity):
    result = sms_length(text)
    assert (result.length, result.encoding, result.segments, result.capacity) == (
        length, encoding, segments, capacity)


def test_unaccented_sms_fits_gsm():
    text = sms_text("Trường TH Lê Quý Đôn:  học phí   tháng 09 còn 1.250.000đ", unaccented=True)
    assert text == "Truong TH Le Quy Don: hoc phi thang 09 con 1.250.000d"
    assert sms_length(text).encoding == "GSM-7"
    kept = sms_text("học phí", unaccented=False)
    assert sms_length(kept).unicode


@pytest.mark.parametrize("raw, national, ok", [
    ("0912345678", "0912345678", True),
    ("091 234 5678", "0912345678", True),
    ("0912.345.678", "0912345678", True),
    ("+84 912 345 678", "0912345678", True),
    ("84912345678", "0912345678", True),
    ("0084912345678", "0912345678", True),
    ("912345678", "0912345678", True),          # leading 0 dropped by a spreadsheet
    ("0387654321", "0387654321", True),
    ("02438261234", "02438261234", False),      # a landline
    ("0123456789", "0123456789", False),        # old 11-digit prefixes are gone
    ("091234567", "091234567", False),          # too short
    ("", "", False),
    (None, "", False),
    ("abc", "abc", False),
])
def test_check_phone(raw, national, ok):
    result = check_phone(raw)
    assert (result.national, result.ok) == (national, ok)
    if ok:
        assert result.international == "84" + national[1:]
    else:
        assert result.problem[0] and result.problem[1]


def test_landline_is_reported_as_such():
    assert "máy bàn" in check_phone("024 3826 1234").problem[0]


@pytest.mark.parametrize("raw, expected", [
    ("ph.binh@Gmail.COM", "ph.binh@gmail.com"),
    ("  an+hoc@truong.edu.vn ", "an+hoc@truong.edu.vn"),
    ("khong-co-a-cong", None),
    ("a@b", None),
    ("a..b@c.vn", None),
    ("", None),
    (None, None),
])
def test_check_email(raw, expected):
    assert check_email(raw) == expected


def test_render_fills_known_placeholders_only():
    assert render("{ten_hoc_sinh} {x} {0.__class__}", {"ten_hoc_sinh": "An"}) == \
        "An {x} {0.__class__}"
    assert unknown_placeholders("{ten_hoc_sinh} {so_tienn}", "notice") == ["so_tienn"]
    assert unknown_placeholders("{so_bien_lai}", "notice") == ["so_bien_lai"]
    assert unknown_placeholders("{so_bien_lai}", "confirmation") == []


def test_default_templates_use_only_their_placeholders():
    for key, template in DEFAULT_TEMPLATES.items():
        for text in (template.sms, template.email_subject, template.email_body):
            assert unknown_placeholders(text, key) == [], key
        assert "{tu_choi}" in template.sms and "{tu_choi}" in template.email_body


def test_channels():
    assert parse_channels("zns, SMS,zns,fax,email") == ["zns", "sms", "email"]
    assert parse_channels(["email"]) == ["email"]
    assert usable_channels(["zns", "sms", "email"], phone_ok=False, email_ok=True) == ["email"]
    assert usable_channels(["zns", "email"], phone_ok=True, email_ok=False) == ["zns"]


def test_retry_delay():
    assert [retry_delay(n, [30, 120, 600]) for n in (1, 2, 3, 4, 9)] == [30, 120, 600, 600, 600]


# The states of a message, as a table: every allowed step and a sample of refused ones.
@pytest.mark.parametrize("status, event, expected", sorted(
    (s, e, n) for (s, e), n in TRANSITIONS.items()))
def test_allowed_transitions(status, event, expected):
    assert transition(status, event) == expected


@pytest.mark.parametrize("status, event", [
    ("sent", "claim"), ("delivered", "fail"), ("failed", "sent"), ("skipped", "claim"),
    ("queued", "delivered"), ("delivered", "requeue"), ("sent", "requeue"),
])
def test_refused_transitions(status, event):
    with pytest.raises(InvalidTransition):
        transition(status, event)


def test_messaging_core_is_pure():
    import json
    import subprocess
    import sys

    script = ("import json, sys; import tuition.messaging.core; "
              "print(json.dumps(sorted({n.split('.')[0] for n in sys.modules})))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True,
                                       text=True, check=True, timeout=60).stdout)
    assert not {"flask", "sqlalchemy", "reportlab", "requests", "redis"} & set(loaded)

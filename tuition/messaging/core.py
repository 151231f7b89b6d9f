"""What a message says and whether it can be sent, in pure Python.

Templates are typed by staff, so placeholders are filled by plain replacement (never
``str.format``, which would let ``{0.__class__}`` reach into Python objects).

SMS length: a text made only of GSM 03.38 characters is sent 7-bit, 160 characters in one SMS
and 153 per part when longer; any other character (Vietnamese diacritics, "đ") makes the whole
text Unicode (UCS-2), 70 characters in one SMS and 67 per part. Brandname customer-care SMS in
Vietnam are usually sent without diacritics for that reason (1-160, 161-306, 307-459
characters for one, two, three parts), hence :func:`unaccent`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: The channels, in the order a school usually falls back through them.
CHANNELS = ("zns", "sms", "email")
CHANNEL_LABELS = {"zns": "Zalo ZNS", "sms": "SMS", "email": "Email"}

#: Message kinds; reminders escalate through three levels (1, 2, 3: final).
KINDS = ("notice", "reminder", "confirmation")

#: A school has one template per key.
TEMPLATE_KEYS = ("notice", "reminder_1", "reminder_2", "reminder_3", "confirmation")

#: Placeholders and what they hold. Every kind has the common ones; each kind adds its own.
COMMON_PLACEHOLDERS = {
    "ten_truong": "Tên trường",
    "ten_hoc_sinh": "Họ tên học sinh",
    "ma_hoc_sinh": "Mã học sinh",
    "lop": "Lớp",
    "phu_huynh": "Họ tên phụ huynh",
    "duong_dan": "Đường dẫn riêng của phụ huynh",
    "tu_choi": "Đường dẫn từ chối nhận tin",
}
KIND_PLACEHOLDERS = {
    "notice": {"ma_hoa_don": "Mã hóa đơn (mã thanh toán)", "ky_thu": "Kỳ thu",
               "so_tien": "Số tiền phải nộp", "han_nop": "Hạn nộp"},
    "reminder": {"ma_hoa_don": "Mã hóa đơn (mã thanh toán)", "ky_thu": "Kỳ thu",
                 "so_tien": "Số tiền còn phải nộp", "han_nop": "Hạn nộp",
                 "so_ngay": "Số ngày quá hạn"},
    "confirmation": {"ma_hoa_don": "Mã hóa đơn (mã thanh toán)", "so_tien": "Số tiền đã nhận",
                     "con_lai": "Số tiền còn lại của hóa đơn", "so_bien_lai": "Số biên lai",
                     "kiem_tra": "Đường dẫn kiểm tra biên lai", "ngay_nhan": "Ngày nhận"},
}


def kind_of(template_key: str) -> str:
    return "reminder" if template_key.startswith("reminder") else template_key


def placeholders(template_key: str) -> dict[str, str]:
    """The placeholders a template may use, with what each holds."""
    return {**COMMON_PLACEHOLDERS, **KIND_PLACEHOLDERS[kind_of(template_key)]}


@dataclass(frozen=True)
class TemplateText:
    """The texts of one template: the SMS (also the ZNS fallback text), the email."""

    sms: str
    email_subject: str
    email_body: str
    #: Send the SMS without diacritics (7-bit: 160 characters per SMS instead of 70).
    unaccented: bool = True


DEFAULT_TEMPLATES: dict[str, TemplateText] = {
    "notice": TemplateText(
        sms="{ten_truong}: thông báo học phí {ky_thu} của em {ten_hoc_sinh} lớp {lop}: "
            "{so_tien}đ, hạn {han_nop}. Xem và chuyển khoản: {duong_dan} . "
            "Từ chối nhận tin: {tu_choi}",
        email_subject="{ten_truong}: thông báo học phí {ky_thu} — {ten_hoc_sinh}",
        email_body=(
            "Kính gửi phụ huynh em {ten_hoc_sinh} (lớp {lop}),\n\n"
            "Nhà trường thông báo khoản thu {ky_thu}: {so_tien} đ, hạn nộp {han_nop}.\n"
            "Mã thanh toán: {ma_hoa_don}. Xem chi tiết và chuyển khoản bằng mã QR tại:\n"
            "{duong_dan}\n\nTrân trọng,\n{ten_truong}\n\n"
            "Không muốn nhận tin nhắn của trường: {tu_choi}\n"),
    ),
    "reminder_1": TemplateText(
        sms="{ten_truong}: học phí {ky_thu} của em {ten_hoc_sinh} còn {so_tien}đ, "
            "hạn {han_nop}. Nộp tại {duong_dan} . Từ chối nhận tin: {tu_choi}",
        email_subject="{ten_truong}: nhắc nộp học phí — {ten_hoc_sinh}",
        email_body=(
            "Kính gửi phụ huynh em {ten_hoc_sinh} (lớp {lop}),\n\n"
            "Khoản thu {ky_thu} còn {so_tien} đ chưa nộp; hạn nộp là {han_nop}. Nếu đã "
            "chuyển khoản, xin bỏ qua tin này.\nXem và chuyển khoản: {duong_dan}\n\n"
            "Trân trọng,\n{ten_truong}\n\nKhông muốn nhận tin nhắn của trường: {tu_choi}\n"),
    ),
    "reminder_2": TemplateText(
        sms="{ten_truong} nhắc lần 2: học phí {ky_thu} của em {ten_hoc_sinh} còn {so_tien}đ, "
            "quá hạn {so_ngay} ngày. Nộp tại {duong_dan} . Từ chối nhận tin: {tu_choi}",
        email_subject="{ten_truong}: nhắc nộp học phí lần 2 — {ten_hoc_sinh}",
        email_body=(
            "Kính gửi phụ huynh em {ten_hoc_sinh} (lớp {lop}),\n\n"
            "Khoản thu {ky_thu} còn {so_tien} đ, đã quá hạn {so_ngay} ngày (hạn {han_nop}).\n"
            "Xem và chuyển khoản: {duong_dan}\n\nTrân trọng,\n{ten_truong}\n\n"
            "Không muốn nhận tin nhắn của trường: {tu_choi}\n"),
    ),
    "reminder_3": TemplateText(
        sms="{ten_truong} nhắc lần cuối: học phí {ky_thu} em {ten_hoc_sinh} còn {so_tien}đ, "
            "quá hạn {so_ngay} ngày. Cần hỗ trợ xin liên hệ GVCN. {duong_dan} . "
            "Từ chối nhận tin: {tu_choi}",
        email_subject="{ten_truong}: nhắc nộp học phí lần cuối — {ten_hoc_sinh}",
        email_body=(
            "Kính gửi phụ huynh em {ten_hoc_sinh} (lớp {lop}),\n\n"
            "Khoản thu {ky_thu} còn {so_tien} đ, đã quá hạn {so_ngay} ngày (hạn {han_nop}). "
            "Nếu gia đình có khó khăn, xin liên hệ giáo viên chủ nhiệm hoặc kế toán.\n"
            "Xem và chuyển khoản: {duong_dan}\n\nTrân trọng,\n{ten_truong}\n\n"
            "Không muốn nhận tin nhắn của trường: {tu_choi}\n"),
    ),
    "confirmation": TemplateText(
        sms="{ten_truong} đã nhận {so_tien}đ học phí của em {ten_hoc_sinh}. "
            "Biên lai {so_bien_lai}: {kiem_tra} . Từ chối nhận tin: {tu_choi}",
        email_subject="{ten_truong}: đã nhận {so_tien} đ — biên lai {so_bien_lai}",
        email_body=(
            "Kính gửi phụ huynh em {ten_hoc_sinh} (lớp {lop}),\n\n"
            "Nhà trường đã nhận {so_tien} đ ngày {ngay_nhan} cho hóa đơn {ma_hoa_don}; "
            "số còn lại: {con_lai} đ.\nBiên lai số {so_bien_lai}. Kiểm tra biên lai tại:\n"
            "{kiem_tra}\n\nTrân trọng,\n{ten_truong}\n\n"
            "Không muốn nhận tin nhắn của trường: {tu_choi}\n"),
    ),
}

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def render(template: str, values: dict[str, str]) -> str:
    """``template`` with each known ``{placeholder}`` replaced; others are left as typed."""
    return _PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), template)


def unknown_placeholders(template: str, template_key: str) -> list[str]:
    """Placeholders in ``template`` that this kind of message does not have (typos)."""
    known = placeholders(template_key)
    return sorted({name for name in _PLACEHOLDER.findall(template) if name not in known})


def unaccent(text: str) -> str:
    """Vietnamese without diacritics: "Nguyễn Thị Ánh Dương, lớp 1A" -> "Nguyen Thi Anh Duong,
    lop 1A". "đ"/"Đ" (a letter, not an accent) become "d"/"D"."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


# GSM 03.38 basic character set, and the extension table (each costs two septets).
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SmsLength:
    """How a text goes out as SMS."""

    #: Characters as the phone counts them (GSM extension characters count two).
    length: int
    #: "GSM-7" (160 per SMS) or "UCS-2" (Unicode: 70 per SMS).
    encoding: str
    #: How many SMS the text is split into.
    segments: int
    #: How many characters fit in the segments used (to show "145/160").
    capacity: int

    @property
    def unicode(self) -> bool:
        return self.encoding == "UCS-2"


def sms_length(text: str) -> SmsLength:
    """Length, encoding and number of parts of ``text`` sent as SMS."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in text):
        length = sum(2 if ch in _GSM_EXTENDED else 1 for ch in text)
        single, part, encoding = 160, 153, "GSM-7"
    else:
        # UTF-16 code units: a character outside the BMP (an emoji) takes two.
        length = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
        single, part, encoding = 70, 67, "UCS-2"
    if length <= single:
        return SmsLength(length, encoding, 1 if length else 0, single)
    segments = -(-length // part)
    return SmsLength(length, encoding, segments, segments * part)


def sms_text(text: str, *, unaccented: bool) -> str:
    """What is sent as SMS: single-spaced, without diacritics when asked."""
    text = re.sub(r"[ \t]+", " ", text).strip()
    return unaccent(text) if unaccented else text


#: The longest SMS the app sends (eSMS accepts three customer-care parts, 459 characters).
SMS_MAX_SEGMENTS = 3


# --- Phones and emails ---------------------------------------------------------------------

_PHONE_NOISE = re.compile(r"[\s.\-()]")
#: Vietnamese mobile numbers (10 digits: 03, 05, 07, 08, 09) receive SMS and Zalo.
_MOBILE = re.compile(r"0[35789][0-9]{8}")
_LANDLINE = re.compile(r"02[0-9]{9}")


@dataclass(frozen=True)
class PhoneCheck:
    """A phone number as typed, normalised, and whether it can receive SMS / Zalo."""

    #: National form ``0912345678`` when it is a Vietnamese number, else the digits typed.
    national: str
    #: None when it is a mobile number; else why it cannot be sent to (Vietnamese, English).
    problem: tuple[str, str] | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def international(self) -> str:
        """``84912345678``: the form Zalo and most gateways document."""
        return "84" + self.national[1:]


def check_phone(raw: str | None) -> PhoneCheck:
    """Normalise a guardian's phone number and say whether messages can go to it.

    Accepts spaces, dots, dashes, brackets, "+84"/"84"/"0084" and a dropped leading 0.
    Landlines (02x) and anything that is not a 10-digit mobile number are refused.
    """
    digits = _PHONE_NOISE.sub("", raw or "")
    if not digits:
        return PhoneCheck("", ("Chưa có số điện thoại.", "No phone number."))
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("0084"):
        digits = "0" + digits[4:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    elif digits.isdigit() and len(digits) == 9 and not digits.startswith("0"):
        digits = "0" + digits
    if _MOBILE.fullmatch(digits):
        return PhoneCheck(digits)
    if _LANDLINE.fullmatch(digits):
        return PhoneCheck(digits, (f"Số {digits} là số máy bàn, không nhận được tin nhắn.",
                                   f"{digits} is a landline; it cannot receive messages."))
    return PhoneCheck(digits, (f"Số điện thoại “{raw}” không hợp lệ.",
                               f"The phone number {raw!r} is not valid."))


_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def check_email(raw: str | None) -> str | None:
    """The address, trimmed and with its domain lower-cased, or None if it is not one."""
    text = (raw or "").strip()
    if len(text) > 254 or not _EMAIL.fullmatch(text):
        return None
    local, _, domain = text.rpartition("@")
    if ".." in text or local.startswith(".") or local.endswith("."):
        return None
    return f"{local}@{domain.lower()}"


def usable_channels(order: list[str], *, phone_ok: bool, email_ok: bool) -> list[str]:
    """The channels of ``order`` that can reach a guardian with these contacts."""
    return [c for c in order if (c in ("zns", "sms") and phone_ok) or (c == "email" and email_ok)]


def parse_channels(text: str | list[str] | None) -> list[str]:
    """A channel order from ``"zns,sms"`` (or a list): known channels, each once, in order."""
    items = text.split(",") if isinstance(text, str) else list(text or [])
    order: list[str] = []
    for item in items:
        item = item.strip().lower()
        if item in CHANNELS and item not in order:
            order.append(item)
    return order


# --- Retries --------------------------------------------------------------------------------


def retry_delay(attempt: int, intervals: list[int]) -> int:
    """Seconds to wait before attempt ``attempt + 1`` after ``attempt`` failed temporarily
    (``intervals[attempt - 1]``, the last one repeating)."""
    if not intervals:
        return 60
    return intervals[min(max(attempt, 1), len(intervals)) - 1]


def parse_intervals(text: str | list[int]) -> list[int]:
    """``"30,120,600"`` -> ``[30, 120, 600]``."""
    if isinstance(text, list | tuple):
        return [int(v) for v in text]
    return [int(part) for part in str(text).split(",") if part.strip()]


# --- States of a message --------------------------------------------------------------------

#: (status, event) -> new status. Every change of a message's status goes through
#: :func:`transition`, so an impossible step is an error, not a silent overwrite.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("queued", "claim"): "sending",
    ("queued", "defer"): "queued",
    ("queued", "skip"): "skipped",
    ("queued", "fail"): "failed",
    ("sending", "sent"): "sent",
    ("sending", "retry"): "queued",
    ("sending", "fallback"): "queued",
    ("sending", "fail"): "failed",
    ("sending", "unknown"): "unknown",
    # The worker died mid-call: resend (the provider deduplicates) or say "unknown".
    ("sending", "interrupted_resend"): "queued",
    ("sending", "interrupted_unknown"): "unknown",
    # A provider's answer that arrives after the lease ran out and the sweeper acted.
    ("queued", "sent"): "sent",
    ("unknown", "sent"): "sent",
    ("sent", "delivered"): "delivered",
    ("sent", "undelivered"): "failed",
    # A callback may come before the worker recorded the provider's answer.
    ("sending", "delivered"): "delivered",
    ("unknown", "delivered"): "delivered",
    ("failed", "requeue"): "queued",
    ("unknown", "requeue"): "queued",
    ("skipped", "requeue"): "queued",
}


class InvalidTransition(ValueError):
    def __init__(self, status: str, event: str) -> None:
        super().__init__(f"a message that is {status!r} cannot take {event!r}")
        self.status = status
        self.event = event


def transition(status: str, event: str) -> str:
    """The status after ``event``, or :class:`InvalidTransition`."""
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise InvalidTransition(status, event) from None


#: Statuses after which nothing more is sent.
FINAL_STATUSES = ("sent", "delivered", "failed", "unknown", "skipped")

"""A realistic demo school: three levels, about 600 students, fees and one issued period."""

from __future__ import annotations

import json
import random
import secrets
import shlex
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from ..core import clock
from ..core.money import format_vnd
from ..core.notifications import BankNotification
from ..extensions import db
from ..importing.roster import RosterRow
from ..models import Invoice, School, Student, User
from . import billing, fees, invoices, links, payments, schools, students, users
from .errors import Conflict, Invalid

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
          "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE_GIRL = ["Thị", "Ngọc", "Thu", "Minh", "Khánh", "Bảo", "Thanh", "Phương"]
MIDDLE_BOY = ["Văn", "Minh", "Đức", "Quang", "Gia", "Hoàng", "Anh", "Tuấn"]
GIVEN_GIRL = ["An", "Anh", "Ánh", "Chi", "Dương", "Hà", "Hân", "Linh", "Mai", "My", "Ngân",
              "Nhi", "Thảo", "Trang", "Vy", "Yến", "Hương", "Thư", "Uyên", "Quỳnh"]
GIVEN_BOY = ["Bảo", "Dũng", "Đạt", "Hải", "Hiếu", "Huy", "Khang", "Khôi", "Long", "Minh",
             "Nam", "Phúc", "Quân", "Sơn", "Thắng", "Trí", "Tùng", "Việt", "Vinh", "Đăng"]
#: Class name -> (share of students, age in years at the start of the school year).
CLASSES = {
    "NT1": (20, 2), "MGB1": (25, 3), "MGN1": (25, 4), "MGL1": (28, 5), "MGL2": (28, 5),
    "1A": (35, 6), "1B": (35, 6), "2A": (35, 7), "2B": (34, 7), "3A": (36, 8), "4A": (36, 9),
    "5A": (35, 10), "6A1": (42, 11), "7A1": (42, 12), "8A1": (40, 13), "9A1": (40, 14),
}
DEMO_PASSWORD = "demo-matkhau-2026"
#: Phường Bến Thành, Thành phố Hồ Chí Minh (official code).
DEMO_WARD = 26743


def _name(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_GIRL)} {rng.choice(GIVEN_GIRL)}"
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_BOY)} {rng.choice(GIVEN_BOY)}"


def roster(student_count: int, school_year_start: int, rng: random.Random) -> list[RosterRow]:
    weight = sum(share for share, _ in CLASSES.values())
    rows, number = [], 0
    for class_name, (share, age) in CLASSES.items():
        for _ in range(max(1, round(student_count * share / weight))):
            number += 1
            born = date(school_year_start - age - 1, 9, 1) + timedelta(days=rng.randrange(365))
            guardian = _name(rng)
            rows.append(RosterRow(
                row=number + 1, code=f"HS{number:05d}", full_name=_name(rng),
                date_of_birth=born, class_name=class_name,
                guardian_name=guardian, guardian_phone=f"09{rng.randrange(10**8):08d}",
            ))
    return rows


def load_demo(*, student_count: int = 600, today: date, password: str | None = None,
              base_url: str = "http://127.0.0.1:5000") -> str:
    """Create the demo school, its staff and one issued month. Refuses to run twice.

    The receiving account gets a fresh SePay webhook key, printed with a ready ``curl`` line
    that pays one open demo invoice through ``base_url``/webhooks/sepay, as SePay would.

    The demo's staff sign in with the published :data:`DEMO_PASSWORD`, unless ``password`` is
    given; on a database that already has a school or a user (a real deployment) the published
    one is refused: anybody could sign in with it.
    """
    if db.session.scalar(select(School.id).where(School.code == "DEMO")):
        return "Trường mẫu DEMO đã có sẵn; không tạo lại."
    if password is None:
        if db.session.scalar(select(School.id).limit(1)) is not None or \
                db.session.scalar(select(User.id).limit(1)) is not None:
            raise Conflict(
                "Cơ sở dữ liệu này đã có trường hoặc người dùng khác: không tạo tài khoản mẫu với "
                f"mật khẩu công khai “{DEMO_PASSWORD}”. Chạy trên cơ sở dữ liệu trống, hoặc "
                "chọn mật khẩu riêng với --password.",
                "This database already has other schools or users: the demo's published "
                f"password {DEMO_PASSWORD!r} is refused here. Use an empty database, or choose "
                "a password with --password.")
        password = DEMO_PASSWORD
    elif len(password) < users.MIN_PASSWORD:
        raise Invalid(f"Mật khẩu phải có ít nhất {users.MIN_PASSWORD} ký tự.",
                      f"The password needs at least {users.MIN_PASSWORD} characters.")
    rng = random.Random(2026)
    admin, admin_token = users.create_user(None, email="admin@demo.tuition.vn", role="admin",
                                           password=password, name="Quản trị")
    school = schools.create_school(admin, {
        "code": "DEMO",
        "name": "Trường Liên cấp Hoa Sen",
        "level": ["mam_non", "tieu_hoc", "thcs"],
        "address": "12 Đường Lê Lợi, Phường Bến Thành, TP. Hồ Chí Minh",
        "tax_code": "0312345678",
        "phone": "028 3822 1234",
        "payment_prefix": "HS",
        "bank_accounts": [{"bin": "970436", "account_number": "1023456789",
                           "account_name": "TRUONG LIEN CAP HOA SEN"}],
        "ward_code": DEMO_WARD,
    })
    _, accountant_token = users.create_user(
        admin, email="ketoan@demo.tuition.vn", role="accountant", school=school,
        password=password, name="Nguyễn Thị Lan")
    _, principal_token = users.create_user(
        admin, email="hieutruong@demo.tuition.vn", role="principal", school=school,
        password=password, name="Trần Văn Hùng")
    # The education authority of the school's ward: aggregates of its schools only.
    users.create_user(
        admin, email="ubnd-benthanh@demo.tuition.vn", role="authority", ward_code=DEMO_WARD,
        password=password, name="Phòng Văn hóa - Xã hội phường Bến Thành")
    year = today.year if today.month >= 8 else today.year - 1
    rows = roster(student_count, year, rng)
    students.import_roster(admin, school, rows, school_year=f"{year}-{year + 1}")

    preschool = ["NT", "MGB", "MGN", "MGL"]
    items = [
        {"code": "HOCPHI", "name": "Học phí", "amount_vnd": 300_000, "unit": "month",
         "grades": ["6", "7", "8", "9"]},
        {"code": "HOCPHIMN", "name": "Học phí mầm non", "amount_vnd": 450_000, "unit": "month",
         "grades": preschool},
        {"code": "TIENAN", "name": "Tiền ăn bán trú", "amount_vnd": 32_000,
         "unit": "school_day", "grades": preschool + ["1", "2", "3", "4", "5"],
         "mandatory": False},
        {"code": "BANTRU", "name": "Phí chăm sóc bán trú", "amount_vnd": 150_000,
         "unit": "month", "mandatory": False},
        {"code": "XEBUS", "name": "Xe đưa đón", "amount_vnd": 550_000, "unit": "month",
         "mandatory": False},
        {"code": "NUOCUONG", "name": "Nước uống", "amount_vnd": 15_000, "unit": "month"},
    ]
    created = {data["code"]: fees.create_fee_item(admin, school, data) for data in items}
    all_students = list(db.session.scalars(select(Student).where(Student.school_id == school.id)))
    for student in all_students:
        if student.classroom.grade not in ("6", "7", "8", "9") or rng.random() < 0.3:
            fees.enrol(admin, school, student, created["TIENAN"])
            fees.enrol(admin, school, student, created["BANTRU"])
        if rng.random() < 0.15:
            fees.enrol(admin, school, student, created["XEBUS"])
    start = date(year, 9, 1)
    for student in rng.sample(all_students, 12):
        fees.add_exemption(admin, school, student, kind="percent", value=100,
                           reason="Hộ nghèo", valid_from=start)
    for student in rng.sample(all_students, 8):
        fees.add_exemption(admin, school, student, kind="percent", value=50,
                           reason="Con thương binh, liệt sĩ", valid_from=start)
    period = f"{today.year}-{today.month:02d}"
    result = billing.run_billing(
        admin, school, period=period, fee_codes=list(created), due_date=today + timedelta(10),
    )
    paid = _demo_payments(school, rng, today)
    try_it = _webhook_example(school, base_url)
    return "\n".join([
        f"Đã tạo trường mẫu “{school.name}” (mã DEMO) với {len(rows)} học sinh, "
        f"{len(created)} khoản thu và {len(result.issued)} hóa đơn kỳ {result.period.label}; "
        f"{paid} chuyển khoản mẫu đã về (vài khoản chờ xử lý).",
        f"Đăng nhập (mật khẩu {password}): admin@demo.tuition.vn, ketoan@demo.tuition.vn, "
        "hieutruong@demo.tuition.vn, ubnd-benthanh@demo.tuition.vn (cơ quan quản lý)",
        f"Mã API quản trị:   {admin_token}",
        f"Mã API kế toán:    {accountant_token}",
        f"Mã API hiệu trưởng: {principal_token}",
        *try_it,
    ])




def _webhook_example(school: School, base_url: str) -> list[str]:
    """Put a new webhook key on the demo account; return lines showing it and a ``curl``
    command that sends SePay's notification of one open invoice being paid in full."""
    account = school.default_account
    account.sepay_api_key = secrets.token_hex(20)  # hex: nothing to quote in a shell
    invoice = db.session.scalars(
        select(Invoice).where(Invoice.school_id == school.id, Invoice.status == "open")
        .order_by(Invoice.id).limit(1)).first()
    if invoice is None:
        return [f"Khóa webhook SePay của tài khoản nhận tiền: {account.sepay_api_key}"]
    student = invoice.student
    links.ensure_token(student)
    db.session.flush()
    now = clock.now_vn()
    body = {
        "id": 999001, "gateway": "Vietcombank",
        "transactionDate": now.strftime("%Y-%m-%d %H:%M:%S"),
        "accountNumber": account.account_number, "subAccount": "", "code": None,
        "content": invoices.memo_for(invoice), "transferType": "in",
        "description": f"BankAPINotify {invoices.memo_for(invoice)}",
        "transferAmount": invoice.balance_vnd, "accumulated": 0,
        "referenceCode": "FT26DEMO999001",
    }
    url = f"{base_url.rstrip('/')}/webhooks/sepay"
    command = " ".join([
        "curl -sS -X POST", shlex.quote(url),
        "-H", shlex.quote(f"Authorization: Apikey {account.sepay_api_key}"),
        "-H", shlex.quote("Content-Type: application/json"),
        "--data", shlex.quote(json.dumps(body, ensure_ascii=False)),
    ])
    return [
        "",
        f"Khóa webhook SePay của tài khoản nhận tiền: {account.sepay_api_key}",
        f"Thử nhận một khoản tiền: hóa đơn {invoice.code} của {student.full_name} "
        f"(lớp {student.classroom.name}) còn {format_vnd(invoice.balance_vnd)} đ. "
        f"Mở trang phụ huynh {base_url.rstrip('/')}/p/{student.parent_token} rồi chạy lệnh "
        "dưới đây (SePay báo tiền về); trang tự cập nhật và biên lai xuất hiện:",
        command,
    ]


#: How parents' memos arrive after the banks are done with them (see FORMATS.md).
MEMO_SHAPES = [
    "{code} {student}",
    "MBVCB.{digits}.{code} hoc phi.CT tu 0071000123456 NGUYEN VAN A toi 1023456789",
    "IBFT {lower}",
    "{code}-{ddmmyy}-10:15:22 123456",
    "CT nhanh 247 den: {lower} hoc phi (CT1111) TRAN THI B",
]


def _demo_payments(school: School, rng: random.Random, today: date) -> int:
    """Transfers as SePay would notify them: most pay their invoice (some in part, a few
    twice), a few without a usable code wait in the review queue."""
    account = school.default_account
    invoices = list(db.session.scalars(
        select(Invoice).where(Invoice.school_id == school.id, Invoice.status == "open")
        .order_by(Invoice.id)))
    count = 0
    for number, invoice in enumerate(invoices):
        roll = rng.random()
        if roll > 0.62:
            continue
        amount = invoice.balance_vnd if roll > 0.05 else invoice.balance_vnd // 2
        day = today - timedelta(days=rng.randrange(0, 12))
        shape = rng.choice(MEMO_SHAPES)
        memo = shape.format(code=invoice.code, student=invoice.student.code,
                            lower=invoice.code.lower(), digits=f"{rng.randrange(10**10):010d}",
                            ddmmyy=day.strftime("%d%m%y"))
        count += _notify(account, 900000 + number, amount, memo,
                         datetime.combine(day, time(8 + rng.randrange(12), rng.randrange(60))))
    for extra, memo in enumerate(["hoc phi be Lan lop 1A", "chuyen tien", "HP thang 11 con"]):
        count += _notify(account, 990000 + extra, 450_000, memo,
                         datetime.combine(today, time(9, 30)))
    return count


def _notify(account, txn_id: int, amount: int, memo: str, when: datetime) -> int:
    notification = BankNotification(
        provider="sepay", provider_txn_id=str(txn_id), account_number=account.account_number,
        direction="in", amount_vnd=amount, memo=memo, bank_reference=f"FT26DEMO{txn_id}",
        occurred_at=when, payer_account=None, payer_name=None, bank_name="Vietcombank")
    txn_id, _created = payments.store(notification, f'{{"demo": "{memo}"}}')
    payments.process(txn_id)
    return 1

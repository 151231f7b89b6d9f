"""``flask --app wsgi tuition ...``: thin commands that parse, call a service and commit."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from .cli_messaging import dispatch as dispatch_messages
from .cli_messaging import worker
from .cli_sync import sync
from .core import clock
from .core.clock import format_datetime
from .core.money import format_vnd
from .extensions import db
from .importing.roster import RosterInvalid, parse_roster
from .importing.tabular import LIMITS, ImportFileError
from .models import User
from .services import audit, billing, invoices, schools, students, users
from .services.errors import ServiceError

tuition_cli = AppGroup("tuition", help="Set up schools, import rosters, bill and print notices.")
tuition_cli.add_command(sync)
tuition_cli.add_command(worker)
tuition_cli.add_command(dispatch_messages)


def operator() -> User:
    """The person at the server's console acts with admin rights; audit shows no user."""
    return User(role="admin", email="cli@localhost", name="CLI")


def fail(message: str) -> None:
    db.session.rollback()
    click.echo(message, err=True)
    sys.exit(1)


def _service_call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ServiceError as exc:
        fail(f"Lỗi: {exc.message_vi}\nError: {exc.message_en}")
    except RosterInvalid as exc:
        _rows_failed(exc)


def _rows_failed(exc: RosterInvalid) -> None:
    lines = [f"Tệp có {len(exc.errors)} lỗi; chưa nhập dòng nào:"]
    lines += [f"  dòng {e.row}, cột “{e.column}”: {e.message}" for e in exc.errors]
    fail("\n".join(lines))


@tuition_cli.command("create-user")
@click.option("--email", required=True)
@click.option("--role", required=True,
              type=click.Choice(["admin", "accountant", "principal", "authority"]))
@click.option("--school", "school_code", help="School code (accountants and principals).")
@click.option("--province", "province_code", type=int,
              help="Authority: official province code (e.g. 1 for Hà Nội).")
@click.option("--ward", "ward_code", type=int,
              help="Authority of one commune/ward: its official code.")
@click.option("--password", help="Password for the web sign-in (optional).")
@click.option("--name", default="")
def create_user(email, role, school_code, province_code, ward_code, password, name):
    """Create a staff user; the API token is printed on the last line."""
    school = _service_call(schools.get_school, school_code) if school_code else None
    _user, token = _service_call(users.create_user, None, email=email, role=role,
                                 school=school, password=password, name=name,
                                 province_code=province_code, ward_code=ward_code)
    db.session.commit()
    click.echo(f"Đã tạo người dùng {email} ({role}). Mã truy cập API (chỉ hiện một lần):")
    click.echo(token)


@tuition_cli.command("import-students")
@click.option("--school", "school_code", required=True)
@click.option("--school-year", default=None, help="e.g. 2026-2027 (default: the current one).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_students(school_code, school_year, file: Path):
    """Import or update students from an XLSX or CSV roster (all rows or none)."""
    school = _service_call(schools.get_school, school_code)
    if file.stat().st_size > LIMITS.file_bytes:  # not read at all: it may be any size
        fail(f"Lỗi: tệp lớn hơn {LIMITS.file_bytes // (1024 * 1024)} MB.")
    try:
        rows = parse_roster(file.read_bytes(), file.name)
    except ImportFileError as exc:
        fail(f"Lỗi: {exc.message_vi}")
    except RosterInvalid as exc:
        _rows_failed(exc)
    result = _service_call(students.import_roster, operator(), school, rows,
                           school_year=school_year)
    db.session.commit()
    click.echo(f"Đã nhập {len(rows)} học sinh: {result['created']} mới, "
               f"{result['updated']} cập nhật.")


@tuition_cli.command("bill")
@click.option("--school", "school_code", required=True)
@click.option("--period", required=True, help="2026-09, 2026-2027-HK1 or 2026-2027")
@click.option("--items", required=True, help="Fee item codes, comma-separated.")
@click.option("--due", "due", required=True, type=click.DateTime(["%Y-%m-%d", "%d/%m/%Y"]),
              help="Due date: 2026-09-15 or 15/09/2026.")
@click.option("--classes", default="", help="Only these classes, comma-separated.")
@click.option("--school-days", type=int, default=None)
@click.option("--preview", is_flag=True, help="Show counts and totals; issue nothing.")
@click.option("--overlap", type=click.Choice(["bill_missing", "refuse"]), default="bill_missing",
              show_default=True, help="Months already billed: bill only the rest, or refuse.")
def bill(school_code, period, items, due, classes, school_days, preview, overlap):
    """Issue (or preview) a period's invoices. Running it again adds only what is missing."""
    school = _service_call(schools.get_school, school_code)
    result = _service_call(
        billing.run_billing, operator(), school, period=period,
        fee_codes=[c for c in items.split(",") if c.strip()], due_date=due.date(),
        classes=[c for c in classes.split(",") if c.strip()] or None,
        school_days=school_days, preview=preview, overlap=overlap,
    )
    for name, row in result.by_class().items():
        click.echo(f"  {name:<8} {row['invoices']:>5} hóa đơn  "
                   f"{format_vnd(row['total_vnd']):>15} đ")
    shown = result.overlaps[:20] if preview else []
    for overlap in shown:
        click.echo(f"  đã thu: {overlap.student.code} {overlap.item.code} "
                   + ", ".join(f"{m:02d}/{y}" for y, m in overlap.months)
                   + f" ({', '.join(overlap.invoices)})")
    if len(result.overlaps) > len(shown):
        click.echo(f"  {len(result.overlaps) - len(shown)} khoản đã thu trước đó, không thu lại"
                   + (" (xem --preview)." if not preview else "."))
    if not preview and result.run is None:
        click.echo(result.nothing_message()[0])
        return
    verb = "Sẽ lập" if preview else "Đã lập"
    click.echo(f"{verb} {len(result.invoices)} hóa đơn kỳ {result.period.label}, hạn nộp "
               f"{clock.format_date(due.date())}, tổng {format_vnd(result.total_vnd)} đ; bỏ qua "
               f"{result.skipped_existing} học sinh đã được thu đủ các khoản này.")
    if not preview:
        db.session.commit()


@tuition_cli.command("notices")
@click.option("--school", "school_code", required=True)
@click.option("--period", required=True)
@click.option("--class", "class_name", default=None)
@click.option("--layout", type=click.Choice(["a5x2", "a4"]), default="a5x2")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path))
def notices(school_code, period, class_name, layout, output: Path):
    """Print the fee notices of every unpaid invoice of a period into one PDF."""
    from .pdf.notices import render_notices

    school = _service_call(schools.get_school, school_code)
    total = len(_service_call(invoices.list_invoices, operator(), school, status="unpaid",
                              class_name=class_name, period=period))
    if total == 0:
        fail("Không có hóa đơn nào cần in thông báo.")
    stream = invoices.notices_for_class(operator(), school, period=period, class_name=class_name)
    with output.open("wb") as out, click.progressbar(length=total, label="Đang in") as bar:
        count = render_notices(stream, out, layout=layout, progress=lambda n: bar.update(1))
    click.echo(f"Đã in {count} thông báo vào {output}.")


@tuition_cli.command("demo")
@click.option("--students", "student_count", default=600, show_default=True)
@click.option("--password", default=None,
              help="The demo staff's password (default: the published demo password, refused "
                   "on a database that has other schools or users).")
@click.option("--url", "base_url", default="http://127.0.0.1:5000", show_default=True,
              help="Where the app will be served (for the printed curl line and links).")
def demo(student_count, password, base_url):
    """Load a realistic demo school (3 levels, ~600 students, fees, one issued period)."""
    from .services.demo import load_demo

    summary = _service_call(load_demo, student_count=student_count, today=clock.today_vn(),
                            password=password, base_url=base_url)
    db.session.commit()
    click.echo(summary)


@tuition_cli.command("verify-ledger")
@click.option("--school", "school_code", default=None, help="Only this school.")
def verify_ledger(school_code):
    """Check that money received equals money placed, per school; exit 1 naming bad rows."""
    from .services.ledger import verify_all, verify_school

    reports = ([verify_school(_service_call(schools.get_school, school_code))]
               if school_code else verify_all())
    bad = 0
    for report in reports:
        state = "OK" if report.ok else "SAI LỆCH"
        click.echo(
            f"{report.school}: {state} — nhận {format_vnd(report.received_vnd)} đ = hóa đơn "
            f"{format_vnd(report.on_invoices_vnd)} + dư có {format_vnd(report.on_credit_vnd)} + "
            f"hoàn {format_vnd(report.refunded_vnd)} + để riêng "
            f"{format_vnd(report.set_aside_vnd)} + chờ xử lý "
            f"{format_vnd(report.awaiting_review_vnd)} + tiền của trường nộp lại "
            f"{format_vnd(report.own_money_vnd)} + biên lai tiền mặt đã hủy "
            f"{format_vnd(report.cash_voided_vnd)}"
        )
        click.echo(
            f"    trong đó tiền mặt {format_vnd(report.cash_vnd)}, số dư có đầu kỳ "
            f"{format_vnd(report.opening_credit_vnd)}; phiếu chi "
            f"{format_vnd(report.vouchers_vnd)}; tồn quỹ tiền mặt "
            f"{format_vnd(report.cash_in_hand_vnd)}; kết chuyển năm học: nợ "
            f"{format_vnd(report.carried_debt_vnd)}, dư có "
            f"{format_vnd(report.carried_credit_vnd)}"
        )
        for problem in report.problems:
            click.echo(f"  - {problem}", err=True)
        bad += not report.ok
    if bad:
        sys.exit(1)


@tuition_cli.command("rematch")
@click.option("--school", "school_code", required=True)
def rematch(school_code):
    """Run matching again over the review queue (e.g. after new invoices were issued)."""
    from .services import payments

    school = _service_call(schools.get_school, school_code)
    changed = payments.rematch(school)
    audit.record(None, school.id, "payments.rematch", f"school:{school.code}", matched=changed,
                 via="cli")
    db.session.commit()
    click.echo(f"Đã ghép thêm {changed} giao dịch.")


@tuition_cli.command("match-worker")
@click.option("--once", is_flag=True, help="Match what is pending, then exit.")
@click.option("--idle", default=0.5, show_default=True, help="Seconds to wait when idle.")
@click.option("--batch", default=200, show_default=True, type=click.IntRange(1, 5000),
              help="Notifications matched together in one transaction.")
@click.option("--gather", default=0.25, show_default=True, type=click.FloatRange(0, 5),
              help="After a batch smaller than --batch, seconds to let the queue fill.")
def match_worker(once: bool, idle: float, batch: int, gather: float):
    """Match stored notifications (for MATCH_IN_REQUEST off); run one or several.

    A batch costs about the same however few it holds, so after a small one the worker lets
    the queue fill for ``--gather`` seconds: under a steady trickle it then matches many at a
    time and leaves the CPU to the webhooks, at the price of that much delay.
    """
    import signal
    import time

    from .services import batch_matching

    stopping = []
    for stop_signal in (signal.SIGTERM, signal.SIGINT):  # finish the current one, then stop
        signal.signal(stop_signal, lambda *_: stopping.append(True))
    matched = 0
    failures: dict[int, int] = {}
    while not stopping:
        ids = batch_matching.claim(batch)
        if not ids:
            db.session.rollback()
            if once:
                break
            time.sleep(idle)
            continue
        try:
            batch_matching.match(ids)
            db.session.commit()
            matched += len(ids)
            if len(ids) < batch and gather and not once:
                time.sleep(gather)
            continue
        except Exception:  # noqa: BLE001 — the batch is retried one by one below
            db.session.rollback()
            current_app.logger.exception("matching a batch of %d failed; one by one", len(ids))
        for txn_id in ids:
            matched += _match_one(txn_id, failures, idle)
    click.echo(f"Đã xử lý {matched} giao dịch.")


def _match_one(txn_id: int, failures: dict[int, int], idle: float) -> int:
    """Match one notification (the batch it was in failed): retried, then handed to a person,
    so that one bad notification never holds up the queue."""
    import time

    from .services import payments

    for _attempt in range(payments.MATCH_ATTEMPTS):
        try:
            payments.process(txn_id)
            db.session.commit()
            failures.pop(txn_id, None)
            return 1
        except Exception as exc:  # noqa: BLE001 — one bad notification must not stop the queue
            db.session.rollback()
            failures[txn_id] = failures.get(txn_id, 0) + 1
            current_app.logger.exception("matching transaction %s failed", txn_id)
            error = f"{type(exc).__name__}: {exc}"
            time.sleep(idle)  # perhaps passing (a deadlock, a restart): try again
    if payments.hand_over_unmatchable(txn_id, error):
        click.echo(f"Giao dịch {txn_id}: không ghép được sau {payments.MATCH_ATTEMPTS} lần, "
                   "đã chuyển vào hàng chờ xử lý.", err=True)
    db.session.commit()
    failures.pop(txn_id, None)
    return 1


@tuition_cli.command("verify-summaries")
@click.option("--repair", is_flag=True,
              help="Rebuild the totals from the invoices and transfers, then check again.")
def verify_summaries(repair: bool):
    """Check the authority's running totals against the invoices and transfers; exit 1 naming
    the rows that differ."""
    from .services import summaries

    if repair:
        summaries.rebuild()
        db.session.commit()
        click.echo("Đã tính lại các bảng tổng hợp.")
    bad = 0
    for check in summaries.verify():
        state = "OK" if check.ok else f"SAI LỆCH {check.differences} dòng"
        click.echo(f"{check.table}: {state} ({check.rows} dòng)")
        for problem in check.problems:
            click.echo(f"  - {problem}", err=True)
        bad += not check.ok
    db.session.rollback()
    if bad:
        sys.exit(1)


@tuition_cli.command("onboard-schools")
@click.option("--province", "province_code", required=True, type=int,
              help="Official province code of every school in the list (e.g. 1: Hà Nội).")
@click.option("--links", "links_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the accountants' sign-in links to this CSV file.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def onboard_schools(province_code, links_file, file: Path):
    """Create the schools of an XLSX/CSV list with their accounts and accountants (all or
    none); print each accountant's single-use link to set a password (valid 72 hours)."""
    from .importing.schools import SchoolListInvalid, parse_school_list
    from .services import onboarding
    from .web.staff.onboarding import links_csv

    try:
        rows = parse_school_list(file.read_bytes(), file.name, province_code=province_code)
        done = _service_call(onboarding.onboard, operator(), rows,
                             province_code=province_code)
    except ImportFileError as exc:
        fail(f"Lỗi: {exc.message_vi}")
    except SchoolListInvalid as exc:
        _rows_failed(exc)
    db.session.commit()
    if links_file:
        links_file.write_bytes(links_csv(done))
    for item in done:
        click.echo(f"{item.school.code}\t{item.accountant.email}\t{item.invitation.link}")
    click.echo(f"Đã tạo {len(done)} trường. Mỗi liên kết dùng một lần, hết hạn sau 72 giờ.",
               err=True)


@tuition_cli.command("invite")
@click.option("--email", required=True)
def invite(email):
    """Print a new single-use link for a user to set their password (older links stop
    working)."""
    from sqlalchemy import func, select

    from .services import invitations

    user = db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    if user is None:
        fail(f"Không có người dùng {email}.")
    issued = invitations.issue(None, user)
    db.session.commit()
    click.echo(f"Liên kết cho {user.email} (dùng một lần, hết hạn "
               f"{format_datetime(issued.expires_at)}):")
    click.echo(issued.link)

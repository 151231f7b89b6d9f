"""Staff pages for the school's year and its students' money: virtual accounts, the school
year's turn (preview, then apply), opening balances, and a student's cash, refunds and
virtual account (the partial ``staff/students/_money.html``, for the student page: render it
with ``**student_money.summary(user, school, student)``)."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...core import clock
from ...core.money import format_vnd
from ...extensions import db
from ...importing.opening_balances import OpeningBalancesInvalid, parse_opening_balances
from ...importing.tabular import ImportFileError
from ...importing.virtual_accounts import VirtualAccountsInvalid, parse_virtual_accounts
from ...services import opening_balances, student_money, students, virtual_accounts, year_turn
from ...services.errors import Invalid, ServiceError
from ...services.students import current_school_year
from . import bp, load_school
from .payments import REFUSED, error_text, local_time
from .students import MAX_UPLOAD

ACTION_LABELS = {"promote": _l("Lên lớp"), "repeat": _l("Lưu ban"), "move": _l("Chuyển lớp"),
                 "graduate": _l("Ra trường")}


def _upload() -> tuple[bytes, str]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ImportFileError("Hãy chọn tệp (XLSX hoặc CSV).", "Choose a file (XLSX or CSV).")
    data = upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise ImportFileError("Tệp lớn hơn 5 MB.", "The file is larger than 5 MB.")
    return data, upload.filename


def _row_errors(exc) -> list[tuple]:
    english = str(get_locale()) == "en"
    return [(e.row, e.column, e.message_en if english else e.message) for e in exc.errors]


# ----------------------------------------------------------------------------- virtual accounts


def _accounts_page(school, *, error=None, row_errors=(), status=200):
    return render_template(
        "staff/school_year/virtual_accounts.html",
        accounts=virtual_accounts.list_accounts(g.user, school), error=error,
        row_errors=row_errors, bank_accounts=list(school.bank_accounts)), status


@bp.get("/<school_code>/tai-khoan-dinh-danh", endpoint="virtual_accounts")
def virtual_accounts_page(school_code: str):
    return _accounts_page(load_school(school_code))


@bp.post("/<school_code>/tai-khoan-dinh-danh")
def virtual_accounts_import(school_code: str):
    school = load_school(school_code, manage=True)
    account = request.form.get("bank_account_id", "")
    try:
        data, name = _upload()
        rows = parse_virtual_accounts(data, name)
        result = virtual_accounts.import_accounts(
            g.user, school, rows, bank_account_id=int(account) if account.isdigit() else None)
    except (ImportFileError, ServiceError) as exc:
        db.session.rollback()
        return _accounts_page(school, error=error_text(exc), status=422)
    except VirtualAccountsInvalid as exc:
        db.session.rollback()
        return _accounts_page(school, error=_("Tệp có %(n)d lỗi; chưa nhập dòng nào.",
                                              n=len(exc.errors)),
                              row_errors=_row_errors(exc), status=422)
    db.session.commit()
    flash(_("Đã nhập tài khoản định danh: %(created)d mới, %(updated)d thay đổi, "
            "%(unchanged)d giữ nguyên.", **result), "info")
    return redirect(url_for("staff.virtual_accounts", school_code=school.code))


@bp.post("/<school_code>/tai-khoan-dinh-danh/su-dung", endpoint="virtual_accounts_usage")
def virtual_accounts_usage(school_code: str):
    school = load_school(school_code, manage=True)
    try:
        virtual_accounts.set_usage(g.user, school, request.form.get("uses") == "1")
    except REFUSED as exc:
        db.session.rollback()
        return _accounts_page(school, error=error_text(exc), status=422)
    db.session.commit()
    flash(_("Đã lưu cài đặt tài khoản định danh."), "info")
    return redirect(url_for("staff.virtual_accounts", school_code=school.code))


# ----------------------------------------------------------------------------- the year's turn


def _plan_inputs() -> tuple[str | None, dict, dict]:
    """The year, class mapping (``c:<class>``) and per-student targets (``s:<code>``)."""
    values = request.values
    class_map = {key[2:]: values[key] for key in values if key.startswith("c:")}
    overrides = {key[2:]: values[key] for key in values if key.startswith("s:")}
    return values.get("from_year") or None, class_map, overrides


@bp.get("/<school_code>/ket-chuyen-nam-hoc", endpoint="year_turn")
def year_turn_page(school_code: str):
    school = load_school(school_code)
    from_year, class_map, overrides = _plan_inputs()
    return _turn_page(school, from_year, class_map, overrides)


def _turn_page(school, from_year, class_map, overrides, *, error=None, status=200):
    plan = None
    try:
        plan = year_turn.preview(g.user, school, from_year=from_year, class_map=class_map,
                                 overrides=overrides)
    except ServiceError as exc:
        error = error or error_text(exc)
    return render_template(
        "staff/school_year/turn.html", plan=plan, error=error, turns=year_turn.turns(school),
        action_labels=ACTION_LABELS, local_time=local_time), status


@bp.post("/<school_code>/ket-chuyen-nam-hoc")
def year_turn_apply(school_code: str):
    school = load_school(school_code, manage=True)
    from_year, class_map, overrides = _plan_inputs()
    try:
        turn = year_turn.apply(g.user, school, from_year=from_year or "",
                               class_map=class_map, overrides=overrides)
    except REFUSED as exc:
        db.session.rollback()
        message = error_text(exc)
        english = str(get_locale()) == "en"
        if bad := exc.details.get("errors"):
            message += " " + "; ".join(
                f"{e.get('student') or e.get('class')}: "
                f"{e['message_en'] if english else e['message']}" for e in bad)
        return _turn_page(school, from_year, class_map, overrides, error=message, status=422)
    db.session.commit()
    flash(_("Đã kết chuyển năm học %(old)s sang %(new)s.", old=turn.from_year,
            new=turn.to_year), "info")
    return redirect(url_for("staff.year_turn", school_code=school.code))


# ----------------------------------------------------------------------------- opening balances


def _opening_page(school, *, error=None, row_errors=(), form=None, status=200):
    return render_template("staff/school_year/opening.html", error=error,
                           row_errors=row_errors, form=form or {},
                           school_year=current_school_year(clock.today_vn())), status


def _due(text: str | None) -> date | None:
    if not (text or "").strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise Invalid(f"Hạn nộp “{text}” không hợp lệ.", f"Invalid due date {text!r}.",
                      field="due_date") from exc


@bp.get("/<school_code>/so-du-dau-ky", endpoint="opening_balances")
def opening_balances_page(school_code: str):
    return _opening_page(load_school(school_code))


@bp.post("/<school_code>/so-du-dau-ky")
def opening_balances_import(school_code: str):
    school = load_school(school_code, manage=True)
    form = request.form.to_dict()
    try:
        data, name = _upload()
        rows = parse_opening_balances(data, name)
        result = opening_balances.import_balances(
            g.user, school, rows, source=form.get("source", ""),
            school_year=form.get("school_year") or current_school_year(clock.today_vn()),
            due_date=_due(form.get("due_date")), filename=name)
    except (ImportFileError, ServiceError) as exc:
        db.session.rollback()
        return _opening_page(school, error=error_text(exc), form=form, status=422)
    except OpeningBalancesInvalid as exc:
        db.session.rollback()
        return _opening_page(school, error=_("Tệp có %(n)d lỗi; chưa nhập dòng nào.",
                                             n=len(exc.errors)),
                             row_errors=_row_errors(exc), form=form, status=422)
    db.session.commit()
    flash(_("Đã nhập số dư đầu kỳ từ %(source)s: %(debts)d khoản nợ (%(debt)s đ), "
            "%(credits)d khoản dư có (%(credit)s đ).", source=result["source"],
            debts=result["debts"], credits=result["credits"],
            debt=format_vnd(result['debt_vnd']),
            credit=format_vnd(result['credit_vnd'])), "info")
    return redirect(url_for("staff.opening_balances", school_code=school.code))


# ----------------------------------------------------------------------------- a student


@bp.get("/<school_code>/hoc-sinh/<student_code>/tien", endpoint="student_money")
def student_money_page(school_code: str, student_code: str):
    school = load_school(school_code)
    student = students.get_student(school, student_code)
    if student is None:
        abort(404)
    return render_template("staff/school_year/student_money.html",
                           **student_money.summary(g.user, school, student),
                           local_time=local_time)

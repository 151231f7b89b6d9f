"""Pages anyone may open: the home page and the verification of a printed notice."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from ..core.banks import bank_by_bin
from ..core.periods import parse_period
from ..extensions import db
from ..models import School
from ..services import invoices

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    return render_template("public/home.html")


@bp.get("/healthz")
def healthz():
    return {"ok": True}


@bp.get("/kiem-tra/<token>")
def verify_notice(token: str):
    """A parent checks that a printed notice is genuine: same school, account and amount."""
    invoice = invoices.invoice_for_token(token)
    if invoice is None:
        abort(404)
    school = db.session.get(School, invoice.school_id)
    account = school.default_account
    bank = bank_by_bin(account.bin) if account else None
    return render_template(
        "public/verify.html",
        invoice=invoice,
        school=school,
        account=account,
        bank=bank,
        period=parse_period(invoice.period),
        memo=invoices.memo_for(invoice),
        paid=invoices.paid_breakdown([invoice])[invoice.id],
    )

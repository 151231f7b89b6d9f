"""The parents' page (``/p/<token>``) and public receipt verification (``/bien-lai/<token>``,
or ``/bien-lai?ma=<code>`` with the short code printed on the receipt).

No account: the unguessable token is the key. A wrong or revoked token (or an unknown code)
is a 404, and failed guesses from one address are rate-limited (one limit over all these
routes). The pages are never cached nor sent as a referrer (see :mod:`tuition.web.security`).
Vietnamese by default; the ``?lang=en`` link of the language switch keeps English for the visit.
"""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from sqlalchemy import select

from ..core.banks import bank_by_bin
from ..extensions import db, limiter
from ..models import Invoice, Receipt, School
from ..qrimage import qr_png
from ..services import parents, receipts
from ..services.invoices import qr_payload

bp = Blueprint("parents", __name__)


def _guess_limit() -> str:
    return current_app.config["PARENT_LINK_GUESSES"]


def _only_failures(response) -> bool:
    return response.status_code == 404


#: One counter for all the routes that take a token (page, state, QR, receipts, receipt
#: check): guessing through five routes gets no more tries than through one.
guarded = limiter.shared_limit(_guess_limit, scope="parent-link", deduct_when=_only_failures)


@bp.before_app_request
def _language_from_link():
    """The public pages switch language with a plain link (``?lang=en``): no form to post,
    which a page sent without a referrer could not pass a CSRF check with."""
    if request.blueprint in ("parents", "public") and request.args.get("lang") in ("vi", "en"):
        session["lang"] = request.args["lang"]


def _student(token: str):
    student = parents.student_for_token(token)
    if student is None:
        abort(404)
    return student


@bp.get("/p/<token>")
@guarded
def page(token: str):
    view = parents.page(_student(token))
    return render_template("parents/page.html", view=view, token=token)


@bp.get("/p/<token>/state.json")
@guarded
def state(token: str):
    view = parents.page(_student(token))
    return jsonify({"fingerprint": view.fingerprint, "due_vnd": view.due_vnd})


@bp.get("/p/<token>/qr/<code>.png")
@guarded
def invoice_qr(token: str, code: str):
    student = _student(token)
    invoice = db.session.query(Invoice).filter_by(code=code, student_id=student.id).first()
    payload = qr_payload(invoice) if invoice else None
    if payload is None:
        abort(404)
    return Response(qr_png(payload), mimetype="image/png",
                    headers={"Cache-Control": "no-store"})


@bp.get("/p/<token>/receipts/<int:receipt_id>.pdf")
@guarded
def receipt_pdf(token: str, receipt_id: int):
    student = _student(token)
    receipt = db.session.get(Receipt, receipt_id)
    if receipt is None or receipt.student_id != student.id:
        abort(404)
    return _pdf(receipt)


def _pdf(receipt: Receipt):
    from ..pdf.receipts import render_receipts

    out = io.BytesIO()
    render_receipts([receipts.document(receipt)], out)
    out.seek(0)
    name = f"bien-lai-{receipt.series}-{receipt.number:07d}.pdf"
    return send_file(out, mimetype="application/pdf", download_name=name)


@bp.get("/bien-lai")
@guarded
def lookup_receipt():
    """Anyone holding a receipt types its lookup code ("Mã tra cứu") to check it."""
    code = (request.args.get("ma") or "").strip()
    if not code:
        return render_template("parents/lookup.html", code="")
    receipt = receipts.find_by_lookup_code(code)
    if receipt is None:
        # A 404, so that the guess counts against the limit like a wrong link does.
        return render_template("parents/lookup.html", code=code, not_found=True), 404
    return redirect(url_for("parents.verify_receipt", token=receipt.verify_token))


@bp.get("/bien-lai/<token>")
@guarded
def verify_receipt(token: str):
    receipt = db.session.query(Receipt).filter_by(verify_token=token).first()
    if receipt is None:
        abort(404)
    school = db.session.get(School, receipt.school_id)
    account = school.default_account
    return render_template(
        "parents/receipt.html", receipt=receipt, school=school, c=receipt.content,
        account=account, bank=bank_by_bin(account.bin) if account else None,
        replacement=db.session.query(Receipt).filter_by(replaces_id=receipt.id).first(),
        period=db.session.scalar(select(Invoice.period).where(Invoice.id == receipt.invoice_id)),
    )

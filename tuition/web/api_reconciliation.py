"""Reconciliation on demand: ``POST /api/v1/schools/<code>/reconciliation`` asks SePay's
transaction API now (the same pull as ``flask tuition sync``, which cron runs daily), and
``GET`` lists the transfers the bank's list did not show."""

from __future__ import annotations

from datetime import timedelta

import requests
from flask import current_app, g, jsonify

from ..core import clock
from ..extensions import db
from ..services import payments, reconciliation
from ..services.access import require_manage
from ..services.errors import Conflict, Invalid
from ..services.sepay_sync import SyncError, iter_sync
from .api import _school, authenticated, bp, json_body

#: On demand, at most this far back (the daily run covers two days).
MAX_HOURS = 24 * 31


def run_for_school(school, hours: int) -> list[dict]:
    """Sync and reconcile every account of the school that has a SePay API token; commits
    after each account (a later failure must not undo an earlier account's payments)."""
    since = clock.now_vn().replace(tzinfo=None) - timedelta(hours=hours)
    results = []
    with requests.Session() as session:
        for account, outcome in iter_sync(
                session=session, base_url=current_app.config.get("SEPAY_API_URL")
                or "https://my.sepay.vn", since=since, school_id=school.id,
                deployment_token=current_app.config.get("SEPAY_API_TOKEN")):
            if isinstance(outcome, SyncError):
                db.session.rollback()
                results.append({"account_number": account.account_number, "ok": False,
                                "message": outcome.message_vi,
                                "message_en": outcome.message_en})
                continue
            db.session.commit()
            results.append({"account_number": account.account_number, "ok": True,
                            "fetched": outcome.fetched, "new": outcome.new,
                            "confirmed": outcome.confirmed,
                            "unconfirmed": outcome.unconfirmed,
                            "rejected": outcome.rejected})
    if not results:
        raise Conflict("Không tài khoản nào của trường có API token SePay để đối soát; hãy "
                       "tải sao kê ngân hàng lên thay thế.",
                       "No account of the school has a SePay API token to reconcile with; "
                       "upload a bank statement instead.")
    return results


@bp.post("/schools/<code>/reconciliation")
@authenticated
def reconcile(code: str):
    school = _school(code)
    require_manage(g.user, school)
    hours = json_body().get("hours", 48)
    if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= MAX_HOURS:
        raise Invalid(f"“hours” phải là số nguyên từ 1 đến {MAX_HOURS}.",
                      f"hours must be an integer from 1 to {MAX_HOURS}.", field="hours")
    return jsonify({"accounts": run_for_school(school, hours)})


@bp.get("/schools/<code>/reconciliation")
@authenticated
def unconfirmed(code: str):
    school = _school(code)
    found = reconciliation.unconfirmed(g.user, school)
    return jsonify({"unconfirmed": [payments.payment_json(t) for t in found]})

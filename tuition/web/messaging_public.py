"""What providers and parents reach without an account: Zalo's delivery webhook, eSMS's
delivery callback, and the opt-out page of the link in every message.

- ``POST /webhooks/zalo``: the OA's webhook. Signed: ``X-ZEvent-Signature`` is the SHA-256
  of app id + raw body + timestamp + the OA secret key. ``user_received_message`` marks the
  ZNS message (by ``msg_id``) delivered. Other events are acknowledged and ignored.
- ``GET /webhooks/esms/<token>``: eSMS calls the ``CallbackUrl`` given with each SMS; its
  callbacks are not signed, so the URL carries a secret of this deployment.
- ``/tu-choi/<token>``: a guardian stops (or resumes) messages from the school. A GET only
  asks; the change is a POST, so that link previews in chat apps change nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

from flask import abort, current_app, jsonify, render_template, request
from sqlalchemy import select

from ..extensions import db
from ..messaging import outbox
from ..messaging.sending import delivery_report, esms_callback_token
from ..models import MessagingSettings, School
from .parents import bp as parents_bp
from .parents import guarded
from .webhooks import bp as webhooks_bp


def _oa_secrets(app_id: str) -> list[str]:
    """The OA secret keys that may sign a webhook of ``app_id``."""
    found = [s for s in db.session.scalars(
        select(MessagingSettings.zns_oa_secret).where(MessagingSettings.zns_app_id == app_id))
        if s]
    if str(current_app.config.get("ZNS_APP_ID") or "") == app_id and \
            current_app.config.get("ZNS_OA_SECRET"):
        found.append(str(current_app.config["ZNS_OA_SECRET"]))
    return found


def zalo_signature_ok(raw: bytes, app_id: str, timestamp: str, header: str | None,
                      secrets: list[str]) -> bool:
    given = (header or "").strip()
    if given.startswith("mac="):
        given = given[4:]
    for secret in secrets:
        expected = hashlib.sha256(app_id.encode() + raw + timestamp.encode() +
                                  secret.encode()).hexdigest()
        if given and hmac.compare_digest(given.lower(), expected):
            return True
    return False


@webhooks_bp.post("/zalo")
def zalo():
    raw = request.get_data(cache=False)
    try:
        event = json.loads(raw)
        app_id = str(event["app_id"])
        timestamp = str(event.get("timestamp") or "")
    except (ValueError, KeyError, TypeError):
        return jsonify({"error": -1, "message": "Yêu cầu không hợp lệ."}), 400
    if not zalo_signature_ok(raw, app_id, timestamp, request.headers.get("X-ZEvent-Signature"),
                             _oa_secrets(app_id)):
        db.session.rollback()
        return jsonify({"error": -1, "message": "Chữ ký webhook không hợp lệ."}), 401
    if event.get("event_name") == "user_received_message":
        message = event.get("message") or {}
        msg_id = str(message.get("msg_id") or "")
        at = None
        delivery_time = str(message.get("delivery_time") or "")
        if delivery_time.isdigit():
            at = datetime.fromtimestamp(int(delivery_time) / 1000, UTC)
        if msg_id:
            delivery_report(provider_message_id=msg_id, channel="zns", delivered=True,
                            detail="Zalo: người nhận đã nhận tin", at=at)
    db.session.commit()
    return jsonify({"error": 0, "message": "Success"})


#: eSMS SendStatus values: 5 sent to the phone; 4 refused; others still on the way.
_ESMS_DELIVERED, _ESMS_REFUSED = "5", "4"


@webhooks_bp.get("/esms/<token>")
def esms(token: str):
    if not hmac.compare_digest(token, esms_callback_token()):
        abort(404)
    args = request.args
    status = args.get("SendStatus", "")
    failed = args.get("SendFailed", "0")
    request_id = args.get("RequestId") or None
    sms_id = args.get("SMSID") or None
    if status == _ESMS_DELIVERED and failed in ("", "0"):
        delivery_report(request_id=request_id, provider_message_id=sms_id, channel="sms",
                        delivered=True, detail="eSMS: đã gửi tới máy người nhận")
    elif status == _ESMS_REFUSED or (failed not in ("", "0") and status == _ESMS_DELIVERED):
        delivery_report(request_id=request_id, provider_message_id=sms_id, channel="sms",
                        delivered=False, detail=f"eSMS: tin bị từ chối (SendStatus {status})")
    db.session.commit()
    return jsonify({"success": True})


@parents_bp.route("/tu-choi/<token>", methods=["GET", "POST"])
@guarded
def opt_out(token: str):
    contact = outbox.contact_for_token(token)
    if contact is None:
        abort(404)
    school = db.session.get(School, contact.school_id)
    done = None
    if request.method == "POST":
        wanted = request.form.get("action") == "stop"
        outbox.set_opt_out(contact, wanted)
        db.session.commit()
        done = "stopped" if wanted else "resumed"
    return render_template("parents/opt_out.html", contact=contact, school=school, done=done,
                           masked=_masked(contact.address))


def _masked(address: str) -> str:
    """Enough of the number or address for the guardian to recognise it, not to read it."""
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:2]}***@{domain}"
    return f"{address[:3]}****{address[-3:]}"

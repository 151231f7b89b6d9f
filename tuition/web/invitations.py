"""The page behind an invitation link: a new user sets their own password, once."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..extensions import db, limiter
from ..services import invitations
from ..services.errors import Invalid
from .staff.students import localised

bp = Blueprint("invitations", __name__)

#: Why a link does not work, for the page (status 410: it existed; 404: it never did).
_GONE = {"used", "expired", "revoked"}


@bp.route("/moi/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute")
def accept(token: str):
    invitation, state = invitations.find(token)
    if state != "valid":
        return render_template("invitations/gone.html", state=state), (
            410 if state in _GONE else 404)
    user = invitation.user
    if request.method == "POST":
        try:
            user = invitations.accept(token, request.form.get("password", ""),
                                      request.form.get("password_again", ""))
        except Invalid as exc:
            db.session.rollback()
            if exc.details.get("state"):
                return render_template("invitations/gone.html", state="used"), 410
            flash(localised(exc.message_vi, exc.message_en), "error")
            return render_template("invitations/accept.html", user=user), 422
        db.session.commit()
        from .auth import start_session

        start_session(user, how="invitation")
        flash(_("Đã đặt mật khẩu. Từ nay hãy đăng nhập bằng email %(email)s và mật khẩu này.",
                email=user.email), "info")
        return redirect(url_for("staff.home"))
    return render_template("invitations/accept.html", user=user)

"""API: user accounts — who am I, rotating one's own token, and for those who manage the
account (admins; accountants for their school's staff): disable, enable, revoke the token,
sign out everywhere."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, g, jsonify, request

from ..extensions import db
from ..models import User
from ..services import sessions, settings, users
from ..services.errors import Invalid
from .api import _school, authenticated, bp


def _optional_body() -> dict:
    if not request.get_data():
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid("Nội dung yêu cầu phải là một đối tượng JSON.",
                      "The request body must be a JSON object.")
    return data


def _reason() -> str | None:
    reason = _optional_body().get("reason")
    return reason if isinstance(reason, str) else None


def _open_sessions(found: list[User]) -> dict[int, int]:
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    return sessions.open_counts([u.id for u in found], idle=idle)


def user_json(user: User, open_sessions: int | None = None) -> dict:
    if open_sessions is None:
        open_sessions = _open_sessions([user])[user.id]
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "school": user.school.code if user.school else None,
        "disabled": user.disabled_at is not None,
        "disabled_at": user.disabled_at.isoformat() if user.disabled_at else None,
        "api_token": user.api_token_hash is not None,
        "api_token_issued_at": (user.api_token_issued_at.isoformat()
                                if user.api_token_issued_at else None),
        "open_sessions": open_sessions,
    }


@bp.get("/me")
@authenticated
def me():
    return jsonify(user_json(g.user))


@bp.post("/me/token")
@authenticated
def rotate_my_token():
    """A new token for the caller, shown once; the one used for this call stops working."""
    token = users.rotate_token(g.user)
    db.session.commit()
    return jsonify({"token": token, "user": user_json(g.user)}), 201


@bp.get("/schools/<code>/users")
@authenticated
def school_users(code: str):
    found = settings.school_users(g.user, _school(code))
    counts = _open_sessions(found)
    return jsonify({"items": [user_json(u, counts[u.id]) for u in found]})


@bp.post("/users/<int:user_id>/disable")
@authenticated
def disable_user(user_id: int):
    user = users.get_user(g.user, user_id)
    users.disable_user(g.user, user, _reason())
    db.session.commit()
    return jsonify(user_json(user))


@bp.post("/users/<int:user_id>/enable")
@authenticated
def enable_user(user_id: int):
    user = users.get_user(g.user, user_id)
    users.enable_user(g.user, user, _reason())
    db.session.commit()
    return jsonify(user_json(user))


@bp.delete("/users/<int:user_id>/token")
@authenticated
def revoke_token(user_id: int):
    user = users.get_user(g.user, user_id)
    users.revoke_token(g.user, user, _reason())
    db.session.commit()
    return jsonify(user_json(user))


@bp.delete("/users/<int:user_id>/sessions")
@authenticated
def end_sessions(user_id: int):
    user = users.get_user(g.user, user_id)
    ended = users.end_sessions(g.user, user, reason=_reason())
    db.session.commit()
    return jsonify({"ended": ended, "user": user_json(user)})

"""Public links printed for parents: the private page of a student."""

from __future__ import annotations

import secrets

from flask import current_app

from ..models import Student


def new_token() -> str:
    """72 random bits, URL-safe: short enough to print, far too many to guess."""
    return secrets.token_urlsafe(9)


def ensure_token(student: Student) -> str:
    if not student.parent_token:
        student.parent_token = new_token()
    return student.parent_token


def parent_url(student: Student) -> str:
    """The short link of the student's page; the student must have a token."""
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/p/{student.parent_token}"

"""The OpenAPI description of the user-account routes (:mod:`tuition.web.api_users`), merged
into :func:`tuition.web.openapi.openapi_document`."""

from __future__ import annotations

from .openapi import _SCHOOL, _int_param, _json, _op, _ref

_USER = _int_param("user_id")
_OPTIONAL_REASON = {"required": False, "content": {"application/json": {"schema": {
    "type": "object", "properties": {"reason": {"type": "string", "maxLength": 300}}}}}}

SCHEMAS = {
    "User": {"type": "object", "properties": {
        "id": {"type": "integer"}, "email": {"type": "string"}, "name": {"type": "string"},
        "role": {"enum": ["admin", "accountant", "principal"]},
        "school": {"type": ["string", "null"]},
        "disabled": {"type": "boolean"},
        "disabled_at": {"type": ["string", "null"], "format": "date-time"},
        "api_token": {"type": "boolean", "description": "whether the user has a token"},
        "api_token_issued_at": {"type": ["string", "null"], "format": "date-time"},
        "open_sessions": {"type": "integer", "description": "signed-in web sessions"}}},
}

PATHS = {
    "/me": {"get": _op("The user this token belongs to", {"200": _json(_ref("User"))})},
    "/me/token": {"post": _op(
        "A new API token for the caller, shown once; the token of this call stops working",
        {"201": _json({"type": "object", "properties": {
            "token": {"type": "string"}, "user": _ref("User")}}, "Issued")})},
    "/schools/{school}/users": {"get": _op(
        "The school's staff accounts",
        {"200": _json({"type": "object", "properties": {
            "items": {"type": "array", "items": _ref("User")}}})}, params=[_SCHOOL])},
    "/users/{user_id}/disable": {"post": _op(
        "Disable an account (admins; accountants for their school's staff): no sign-in, no "
        "token, every session ended", {"200": _json(_ref("User"))}, params=[_USER],
        body=_OPTIONAL_REASON)},
    "/users/{user_id}/enable": {"post": _op(
        "Enable a disabled account again", {"200": _json(_ref("User"))}, params=[_USER],
        body=_OPTIONAL_REASON)},
    "/users/{user_id}/token": {"delete": _op(
        "Revoke the account's API token", {"200": _json(_ref("User"))}, params=[_USER],
        body=_OPTIONAL_REASON)},
    "/users/{user_id}/sessions": {"delete": _op(
        "Sign the account out everywhere (end every web session)",
        {"200": _json({"type": "object", "properties": {
            "ended": {"type": "integer"}, "user": _ref("User")}})}, params=[_USER],
        body=_OPTIONAL_REASON)},
}

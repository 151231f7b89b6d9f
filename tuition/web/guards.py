"""Input no database can store is refused at the door, for every page and API route.

PostgreSQL cannot store NUL in text, and no database can store a lone surrogate (half of a
UTF-16 pair, which JSON's ``"\\ud800"`` escape produces) or an integer beyond 64 bits. Such a
value in a URL, a query string, a form or a JSON body would otherwise travel until the database
refuses it with a 500, or be stored on SQLite and break later reads. One check before any view
answers 400 with a message that says which field; the views then see only storable input.

Webhooks are not checked here: a signed bank notification is never refused for its text; its
parser cleans the copied fields, and the notification waits for review (see
:mod:`tuition.core.notifications`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Flask, request

from ..services.errors import ServiceError

#: Integers outside this range fit no column (BIGINT is 64-bit, on SQLite too).
_INT64 = 2**63 - 1
#: Blueprints whose views read the raw body and handle such text themselves.
EXEMPT_BLUEPRINTS = {"webhooks"}


class Unstorable(ServiceError):
    """A value no column can hold (answer 400)."""

    status = 400


def init_app(app: Flask) -> None:
    app.before_request(refuse_unstorable_input)


def refuse_unstorable_input() -> None:
    if request.blueprint in EXEMPT_BLUEPRINTS:
        return
    sources: list[Any] = [dict(request.view_args or {}), request.args.to_dict(flat=False)]
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
            sources.append(request.form.to_dict(flat=False))
        if request.is_json:
            sources.append(_json())
    for source in sources:
        for path, value in _leaves(source):
            problem = _problem(value)
            if problem:
                field = path or "body"
                raise Unstorable(
                    f"Trường “{field}” {problem[0]}.", f"Field {field!r} {problem[1]}.",
                    field=field,
                )


def _json() -> Any:
    try:
        return request.get_json(silent=True)
    except RecursionError:
        # json.loads gives up on "[[[[..." thousands deep with RecursionError, which Flask
        # does not take for a malformed body.
        raise Unstorable("Nội dung JSON lồng nhau quá sâu.", "The JSON body is nested too deeply.",
                         field="body") from None


def _leaves(value: Any) -> Iterator[tuple[str, Any]]:
    """Every scalar inside ``value`` (and every key) with its path, "allocations[0].amount_vnd".

    Iterative: a body nested as deep as the JSON parser allows must not exhaust the stack here.
    """
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, dict):
            for key, inner in item.items():
                yield path, key
                stack.append((f"{path}.{key}" if path else str(key), inner))
        elif isinstance(item, list):
            for index, inner in enumerate(item):
                # Query strings and forms give lists of one value; that index says nothing.
                stack.append((f"{path}[{index}]" if len(item) > 1 else path, inner))
        else:
            yield path, item


def _problem(value: Any) -> tuple[str, str] | None:
    if isinstance(value, str):
        if "\x00" in value:
            return "chứa ký tự NUL", "contains a NUL character"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return ("chứa ký tự không hợp lệ (nửa cặp UTF-16)",
                    "contains an invalid character (a lone UTF-16 surrogate)")
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > _INT64:
        return "là số quá lớn", "is a number too large"
    return None

"""Helpers shared by the tests of billing periods, corrections and fee items."""

from __future__ import annotations

import functools


def with_methods(acct, client):
    """Give the ``api`` fixture's helper PUT, PATCH and DELETE as well."""
    def call(method: str, path: str, **kw):
        return client.open("/api/v1" + path, method=method, headers=acct.headers, **kw)

    for method in ("put", "patch", "delete"):
        setattr(acct, method, functools.partial(call, method.upper()))
    return acct

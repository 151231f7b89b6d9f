"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json."""

from __future__ import annotations

from .. import __version__


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "401": _json(_ref("Error"), "Missing or invalid token"),
    "403": _json(_ref("Error"), "Not allowed for this user"),
    "404": _json(_ref("Error"), "Not found"),
    "422": _json(_ref("Error"), "Invalid input"),
}
_SCHOOL = {"name": "school", "in": "path", "required": True, "schema": {"type": "string"}}
_CODE = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"},
         "description": "Invoice payment code"}


def _int_param(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


_RECEIPT_FILTERS = [
    {"name": "class", "in": "query", "schema": {"type": "string"}},
    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "status", "in": "query", "schema": {"enum": ["valid", "void"]}},
]

_REASON = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}}}}}


def _op(summary: str, responses: dict, *, params=(), body: dict | None = None) -> dict:
    op = {"summary": summary, "parameters": list(params), "responses": {**responses, **_ERRORS}}
    if body:
        op["requestBody"] = body
    return op


def openapi_document() -> dict:
    money = {"type": "integer", "description": "Whole dong"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "tuition API",
            "version": __version__,
            "description": "Cashless school fees: schools, rosters, fee items, billing runs, "
            "invoices with VietQR. Amounts are integers in fields ending _vnd. Errors are JSON: "
            "{error: {status, message (Vietnamese), message_en}}.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {"error": {"type": "object", "properties": {
                        "status": {"type": "integer"}, "message": {"type": "string"},
                        "message_en": {"type": "string"},
                        "rows": {"type": "array", "items": {"type": "object"}}}}},
                },
                "BankAccountIn": {
                    "type": "object", "required": ["bin", "account_number", "account_name"],
                    "properties": {"bin": {"type": "string", "pattern": "^[0-9]{6}$"},
                                   "account_number": {"type": "string"},
                                   "account_name": {"type": "string"}},
                },
                "SchoolIn": {
                    "type": "object", "required": ["code", "name", "level"],
                    "properties": {
                        "code": {"type": "string"}, "name": {"type": "string"},
                        "level": {"oneOf": [
                            {"type": "string", "enum": ["mam_non", "tieu_hoc", "thcs"]},
                            {"type": "array", "items": {"type": "string"}}]},
                        "address": {"type": "string"}, "tax_code": {"type": "string"},
                        "phone": {"type": "string"}, "payment_prefix": {"type": "string"},
                        "bank_accounts": {"type": "array", "items": _ref("BankAccountIn")},
                    },
                },
                "School": {"type": "object"},
                "Student": {"type": "object", "properties": {
                    "code": {"type": "string"}, "full_name": {"type": "string"},
                    "date_of_birth": {"type": ["string", "null"], "format": "date"},
                    "class": {"type": "string"}, "grade": {"type": "string"},
                    "status": {"type": "string"}}},
                "FeeItemIn": {
                    "type": "object", "required": ["code", "name", "amount_vnd", "unit"],
                    "properties": {
                        "code": {"type": "string"}, "name": {"type": "string"},
                        "amount_vnd": money,
                        "unit": {"enum": ["month", "term", "year", "once", "school_day"]},
                        "grades": {"type": "array", "items": {"type": "string"}},
                        "classes": {"type": "array", "items": {"type": "string"}},
                        "mandatory": {"type": "boolean", "default": True},
                    },
                },
                "BillingRunIn": {
                    "type": "object", "required": ["period", "fee_items", "due_date"],
                    "properties": {
                        "period": {"type": "string", "examples": ["2026-09", "2026-2027-HK1"]},
                        "fee_items": {"type": "array", "items": {"type": "string"}},
                        "due_date": {"type": "string", "format": "date"},
                        "classes": {"type": "array", "items": {"type": "string"}},
                        "school_days": {"type": "integer"},
                        "preview": {"type": "boolean", "default": False},
                    },
                },
                "BillingRun": {"type": "object", "properties": {
                    "invoices": {"type": "integer"}, "total_vnd": money,
                    "skipped_existing": {"type": "integer"},
                    "by_class": {"type": "object"}, "billing_run_id": {"type": "integer"}}},
                "InvoiceSummary": {"type": "object", "properties": {
                    "code": {"type": "string"}, "student_code": {"type": "string"},
                    "total_vnd": money, "paid_vnd": money, "balance_vnd": money,
                    "status": {"enum": ["open", "partial", "paid", "cancelled"]}}},
                "Allocation": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "kind": {"enum": ["invoice", "credit", "refund"]},
                    "invoice_code": {"type": ["string", "null"]},
                    "student_code": {"type": ["string", "null"]}, "amount_vnd": money,
                    "reverses": {"type": ["integer", "null"]}, "reason": {"type": "string"}}},
                "Payment": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "provider": {"type": "string"},
                    "provider_txn_id": {"type": "string"},
                    "bank_reference": {"type": ["string", "null"]},
                    "direction": {"enum": ["in", "out"]}, "amount_vnd": money,
                    "memo": {"type": "string"}, "status": {"type": "string"},
                    "unallocated_vnd": money,
                    "allocations": {"type": "array", "items": _ref("Allocation")}}},
                "AssignIn": {"type": "object", "required": ["reason"], "properties": {
                    "reason": {"type": "string"},
                    "allocations": {"type": "array", "items": {"type": "object", "properties": {
                        "invoice_code": {"type": "string"}, "amount_vnd": money}}},
                    "credit": {"type": "object", "properties": {
                        "student_code": {"type": "string"}, "amount_vnd": money}}}},
                "Receipt": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "series": {"type": "string"},
                    "number": {"type": "integer"}, "label": {"type": "string"},
                    "amount_vnd": money, "status": {"enum": ["valid", "void"]},
                    "void_reason": {"type": ["string", "null"]},
                    "replaces_id": {"type": ["integer", "null"]},
                    "verify_url": {"type": "string"}}},
                "Invoice": {"allOf": [_ref("InvoiceSummary"), {"type": "object", "properties": {
                    "memo": {"type": "string"}, "qr_payload": {"type": ["string", "null"]},
                    "verify_url": {"type": "string"},
                    "lines": {"type": "array", "items": {"type": "object", "properties": {
                        "description": {"type": "string"}, "quantity": {"type": "integer"},
                        "unit_price_vnd": money, "reduction_vnd": money,
                        "amount_vnd": money}}}}}]},
            },
        },
        "paths": {
            "/schools": {"post": _op(
                "Create a school with its bank accounts (admin)",
                {"201": _json(_ref("School"), "Created")},
                body={"required": True, "content": {"application/json": {
                    "schema": _ref("SchoolIn")}}})},
            "/schools/{school}": {"get": _op("A school", {"200": _json(_ref("School"))},
                                             params=[_SCHOOL])},
            "/schools/{school}/students/import": {"post": _op(
                "Import a roster (XLSX or CSV); all rows or none",
                {"200": _json({"type": "object", "properties": {
                    "created": {"type": "integer"}, "updated": {"type": "integer"}}})},
                params=[_SCHOOL],
                body={"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "school_year": {"type": "string"}}}}}})},
            "/schools/{school}/students": {"get": _op(
                "List students",
                {"200": _json({"type": "object", "properties": {
                    "items": {"type": "array", "items": _ref("Student")}}})},
                params=[_SCHOOL, {"name": "class", "in": "query", "schema": {"type": "string"}},
                        {"name": "q", "in": "query", "schema": {"type": "string"}}])},
            "/schools/{school}/fee-items": {"post": _op(
                "Create a fee item", {"201": _json({"type": "object"}, "Created")},
                params=[_SCHOOL],
                body={"required": True, "content": {"application/json": {
                    "schema": _ref("FeeItemIn")}}})},
            "/schools/{school}/billing-runs": {"post": _op(
                "Preview or issue a billing run (idempotent)",
                {"200": _json(_ref("BillingRun"), "Preview"),
                 "201": _json(_ref("BillingRun"), "Issued")},
                params=[_SCHOOL],
                body={"required": True, "content": {"application/json": {
                    "schema": _ref("BillingRunIn")}}})},
            "/schools/{school}/invoices": {"get": _op(
                "List invoices",
                {"200": _json({"type": "object", "properties": {
                    "items": {"type": "array", "items": _ref("InvoiceSummary")}}})},
                params=[_SCHOOL] + [
                    {"name": n, "in": "query", "schema": {"type": "string"}}
                    for n in ("status", "class", "period")])},
            "/schools/{school}/notices.pdf": {"get": _op(
                "Fee notices of a period (a class or the school) in one PDF",
                {"200": {"description": "PDF", "content": {"application/pdf": {}}}},
                params=[_SCHOOL] + [
                    {"name": n, "in": "query", "schema": {"type": "string"}}
                    for n in ("period", "class", "layout")])},
            "/schools/{school}/bank-accounts/{account_id}": {"patch": _op(
                "Set or clear an account's webhook secrets and SePay API token",
                {"200": _json({"type": "object"})},
                params=[_SCHOOL, _int_param("account_id")],
                body={"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "properties": {
                        "sepay_api_key": {"type": ["string", "null"]},
                        "casso_checksum_key": {"type": ["string", "null"]},
                        "sepay_api_token": {"type": ["string", "null"]}}}}}})},
            "/schools/{school}/payments": {"get": _op(
                "Payments received, with their allocations",
                {"200": _json({"type": "object", "properties": {
                    "items": {"type": "array", "items": _ref("Payment")}}})},
                params=[_SCHOOL, {"name": "status", "in": "query", "schema": {
                    "enum": ["matched", "partial", "review", "credited", "ignored"]}}])},
            "/schools/{school}/statements": {"post": _op(
                "Import a bank statement (XLSX or CSV export); all lines or none. Columns not "
                "named are guessed from the headers; lines already known (earlier upload, or "
                "a webhook with the same bank reference) count as duplicates. 422 lists every "
                "bad row in error.rows",
                {"201": _json({"type": "object", "properties": {
                    name: {"type": "integer"} for name in (
                        "rows", "new", "duplicates", "outgoing", "matched", "review")}},
                    "Imported")},
                params=[_SCHOOL],
                body={"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["file"], "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "account_id": {"type": "integer",
                                       "description": "Default: the school's default account"},
                        **{name: {"type": "string", "description": "Header text"} for name in (
                            "date_column", "amount_column", "credit_column", "debit_column",
                            "memo_column", "reference_column")},
                        "date_format": {"type": "string", "examples": ["%d/%m/%Y %H:%M:%S"]},
                    }}}}})},
            "/schools/{school}/payments/rematch": {"post": _op(
                "Run matching again over the review queue",
                {"200": _json({"type": "object", "properties": {
                    "matched": {"type": "integer"}}})}, params=[_SCHOOL])},
            "/match-queue": {"get": _op(
                "Admin: stored notifications not matched yet (queue mode's backlog)",
                {"200": _json({"type": "object", "properties": {
                    "waiting": {"type": "integer"},
                    "oldest_received_at": {"type": ["string", "null"], "format": "date-time"},
                    "oldest_waiting_seconds": {"type": "integer"},
                    "late": {"type": "boolean",
                             "description": "the oldest has waited more than five minutes"},
                }})})},
            "/payments/{payment_id}": {"get": _op(
                "A payment; in review, with ranked suggestions",
                {"200": _json(_ref("Payment"))}, params=[_int_param("payment_id")])},
            "/payments/{payment_id}/allocations": {"post": _op(
                "Assign or split unallocated money (with a reason)",
                {"201": _json(_ref("Payment"), "Assigned")},
                params=[_int_param("payment_id")],
                body={"required": True, "content": {"application/json": {
                    "schema": _ref("AssignIn")}}})},
            "/payments/{payment_id}/set-aside": {"post": _op(
                "Take an unassigned payment out of review (with a reason)",
                {"200": _json(_ref("Payment"))}, params=[_int_param("payment_id")],
                body=_REASON)},
            "/allocations/{allocation_id}/reversal": {"post": _op(
                "Reverse an allocation with a new, opposite one (with a reason)",
                {"201": _json(_ref("Payment"), "Reversed")},
                params=[_int_param("allocation_id")], body=_REASON)},
            "/schools/{school}/receipts": {"get": _op(
                "Receipts, filtered by class, date range and status",
                {"200": _json({"type": "object", "properties": {
                    "items": {"type": "array", "items": _ref("Receipt")}}})},
                params=[_SCHOOL] + _RECEIPT_FILTERS)},
            "/schools/{school}/receipts.pdf": {"get": _op(
                "Receipts in bulk (a class, a date range) in one PDF",
                {"200": {"description": "PDF", "content": {"application/pdf": {}}}},
                params=[_SCHOOL] + _RECEIPT_FILTERS)},
            "/receipts/{receipt_id}": {"get": _op(
                "A receipt", {"200": _json(_ref("Receipt"))}, params=[_int_param("receipt_id")])},
            "/receipts/{receipt_id}.pdf": {"get": _op(
                "A receipt as PDF (void ones carry a watermark)",
                {"200": {"description": "PDF", "content": {"application/pdf": {}}}},
                params=[_int_param("receipt_id")])},
            "/receipts/{receipt_id}/void": {"post": _op(
                "Void a receipt with a reason; optionally issue a replacement",
                {"200": _json({"type": "object"}), "201": _json({"type": "object"})},
                params=[_int_param("receipt_id")],
                body={"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["reason"], "properties": {
                        "reason": {"type": "string"}, "replace": {"type": "boolean"},
                        "payer_name": {"type": "string"}}}}}})},
            "/schools/{school}/parent-links": {"get": _op(
                "Each student's private parents' link (JSON, or CSV with format=csv)",
                {"200": _json({"type": "object"})},
                params=[_SCHOOL, {"name": "format", "in": "query",
                                  "schema": {"enum": ["json", "csv"]}}])},
            "/schools/{school}/students/{student_code}/parent-link": {"post": _op(
                "Revoke a student's parents' link and issue a new one",
                {"201": _json({"type": "object", "properties": {
                    "link": {"type": "string"}}})},
                params=[_SCHOOL, {"name": "student_code", "in": "path", "required": True,
                                  "schema": {"type": "string"}}])},
            "/schools/{school}/reports/dashboard": {"get": _op(
                "Expected, collected and outstanding of a period: totals, by grade, class and "
                "fee item, collections per day, open balance by age (principal, accountant)",
                {"200": _json({"type": "object"})},
                params=[_SCHOOL] + [{"name": n, "in": "query", "schema": {"type": "string"}}
                                    for n in ("period", "today")])},
            "/schools/{school}/reports/arrears": {"get": _op(
                "Invoices still owed, down to the student; grouped, and as CSV, XLSX or PDF",
                {"200": {"description": "The list", "content": {
                    "application/json": {"schema": {"type": "object"}}, "text/csv": {},
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
                    "application/pdf": {}}}},
                params=[_SCHOOL] + [{"name": n, "in": "query", "schema": {"type": "string"}}
                                    for n in ("period", "today", "overdue_only")] + [
                    {"name": "group_by", "in": "query",
                     "schema": {"enum": ["class", "grade", "fee_item"]}},
                    {"name": "format", "in": "query",
                     "schema": {"enum": ["json", "csv", "xlsx", "pdf"]}}])},
            "/invoices/{code}": {"get": _op("An invoice with lines, memo and VietQR payload",
                                            {"200": _json(_ref("Invoice"))}, params=[_CODE])},
            "/invoices/{code}/cancel": {"post": _op(
                "Cancel an invoice with a reason", {"200": _json(_ref("Invoice"))},
                params=[_CODE],
                body={"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["reason"],
                    "properties": {"reason": {"type": "string"}}}}}})},
            "/invoices/{code}/qr.png": {"get": _op(
                "VietQR image (PNG)",
                {"200": {"description": "PNG", "content": {"image/png": {}}}}, params=[_CODE])},
            "/invoices/{code}/qr.svg": {"get": _op(
                "VietQR image (SVG)",
                {"200": {"description": "SVG", "content": {"image/svg+xml": {}}}},
                params=[_CODE])},
            "/invoices/{code}/notice.pdf": {"get": _op(
                "Fee notice PDF",
                {"200": {"description": "PDF", "content": {"application/pdf": {}}}},
                params=[_CODE])},
            **_authority_paths(),
        },
    }


def _authority_paths() -> dict:
    from .api_authority import openapi_paths

    return openapi_paths(_op, _json, _SCHOOL)

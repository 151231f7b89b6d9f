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
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_SCHOOL = {"name": "school", "in": "path", "required": True, "schema": {"type": "string"}}
_CODE = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"},
         "description": "Invoice payment code"}


_ITEM = {"name": "item_code", "in": "path", "required": True, "schema": {"type": "string"},
         "description": "Fee item code"}
_STUDENT = {"name": "student_code", "in": "path", "required": True,
            "schema": {"type": "string"}}


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
    from .openapi_cash import cash_paths

    document = _document()
    document["paths"].update(cash_paths(_op, _json, _SCHOOL, _int_param))
    return document


def _document() -> dict:
    from . import openapi_users

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
                **openapi_users.SCHEMAS,
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
                        "school_days": {
                            "description": "School days of per-day items: for the period, or "
                            "per month ({\"2026-10\": 21}); at most the Monday-Saturday days",
                            "oneOf": [{"type": "integer", "minimum": 1},
                                      {"type": "object", "additionalProperties": {
                                          "type": "integer", "minimum": 0}}]},
                        "overlap": {
                            "enum": ["bill_missing", "refuse"], "default": "bill_missing",
                            "description": "Months a fee item already charges a student: bill "
                            "only the rest, or refuse the run (409 with error.conflicts)"},
                        "preview": {"type": "boolean", "default": False},
                    },
                },
                "BillingRun": {"type": "object", "properties": {
                    "invoices": {"type": "integer"}, "issued": {"type": "integer"},
                    "total_vnd": money, "skipped_existing": {"type": "integer"},
                    "skipped_nothing_to_bill": {"type": "integer"},
                    "by_class": {"type": "object"},
                    "billing_run_id": {"type": ["integer", "null"],
                                       "description": "null when nothing was issued"},
                    "message": {"type": "string",
                                "description": "Why nothing was issued (then 200, no run)"},
                    "conflicts_count": {"type": "integer"},
                    "conflicts": {"type": "array", "items": _ref("Overlap")},
                    "part_months": {"type": "array", "items": {"type": "object"},
                                    "description": "Lines of children joining or leaving "
                                    "during the period"}}},
                "Overlap": {"type": "object", "properties": {
                    "student_code": {"type": "string"}, "fee_item": {"type": "string"},
                    "months": {"type": "array", "items": {"type": "string"}},
                    "invoices": {"type": "array", "items": {"type": "string"}}}},
                "FeeItem": {"allOf": [_ref("FeeItemIn"), {"type": "object", "properties": {
                    "retired": {"type": "boolean"},
                    "retired_at": {"type": ["string", "null"], "format": "date-time"},
                    "retire_reason": {"type": ["string", "null"]}}}]},
                "FeeItemPatch": {"type": "object", "required": ["reason"], "properties": {
                    "reason": {"type": "string"}, "name": {"type": "string"},
                    "amount_vnd": money,
                    "unit": {"enum": ["month", "term", "year", "once", "school_day"],
                             "description": "only while the item was never billed"},
                    "grades": {"type": "array", "items": {"type": "string"}},
                    "classes": {"type": "array", "items": {"type": "string"}},
                    "mandatory": {"type": "boolean"}}},
                "Corrections": {"type": "object", "properties": {
                    "message": {"type": "string"}, "message_en": {"type": "string"},
                    "invoices": {"type": "array", "items": {"type": "object", "properties": {
                        "code": {"type": "string"}, "total_before_vnd": money,
                        "total_after_vnd": money, "to_credit_vnd": money}}},
                    "to_credit_vnd": money, "credit_applied_vnd": money,
                    "credit_left_vnd": money, "carried_vnd": money}},
                "ExemptionIn": {"type": "object",
                                "required": ["student_code", "kind", "value", "reason",
                                             "valid_from"],
                                "properties": {
                    "student_code": {"type": "string"}, "fee_item": {"type": "string"},
                    "kind": {"enum": ["percent", "fixed"]},
                    "value": {"type": "integer",
                              "description": "1-100 percent, or dong per billed unit"},
                    "reason": {"type": "string"},
                    "valid_from": {"type": "string", "format": "date"},
                    "valid_to": {"type": ["string", "null"], "format": "date"}}},
                "Exemption": {"allOf": [_ref("ExemptionIn"), {"type": "object", "properties": {
                    "id": {"type": "integer"}, "corrections": _ref("Corrections")}}]},
                "AdjustmentIn": {"type": "object",
                                 "required": ["student_code", "amount_vnd", "description"],
                                 "properties": {
                    "student_code": {"type": "string"},
                    "amount_vnd": {"type": "integer",
                                   "description": "Dong; negative is a credit"},
                    "description": {"type": "string"},
                    "fee_item": {"type": "string",
                                 "description": "The fee item it corrects (kept there in "
                                 "reports)"}}},
                "Attendance": {"type": "object", "properties": {
                    "student_code": {"type": "string"}, "status": {"type": "string"},
                    "joined_on": {"type": ["string", "null"], "format": "date"},
                    "left_on": {"type": ["string", "null"], "format": "date",
                                "description": "First day no longer at school"},
                    "corrections": _ref("Corrections")}},
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
                    "memo": {"type": "string"}, "status": {"type": "string", "enum": [
                        "received", "matched", "partial", "review", "credited", "ignored",
                        "duplicate"]},
                    "status_reason": {"type": ["string", "null"]},
                    "duplicate_of": {"type": ["integer", "null"], "description":
                                     "the payment this one repeats through another channel "
                                     "(status duplicate), or probably repeats "
                                     "(status_reason possible_duplicate)"},
                    "unallocated_vnd": money,
                    "allocations": {"type": "array", "items": _ref("Allocation")},
                    "suggestions": {
                        "type": "array", "description": "in review only; best first, never "
                        "assigned by themselves", "items": {"type": "object", "properties": {
                            "invoice_code": {"type": ["string", "null"], "description":
                                             "null: the student has nothing open (credit)"},
                            "student_code": {"type": "string"},
                            "student_name": {"type": "string"}, "class": {"type": "string"},
                            "balance_vnd": money, "score": {"type": "integer"},
                            "reasons": {"type": "array", "items": {"type": "string"},
                                        "description": "in Vietnamese"},
                            "reasons_en": {"type": "array", "items": {"type": "string"}},
                            "confident": {"type": "boolean", "description":
                                          "the first stands out from the rest (display only)"},
                        }}}}},
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
                    # paid_vnd = paid_by_transfer_vnd + paid_from_credit_vnd; the VietQR asks
                    # for due_vnd (= balance_vnd), the figures the printed notice shows.
                    "paid_by_transfer_vnd": money, "paid_from_credit_vnd": money,
                    "due_vnd": money,
                    "lines": {"type": "array", "items": {"type": "object", "properties": {
                        "description": {"type": "string"}, "quantity": {"type": "integer"},
                        "unit_price_vnd": money, "reduction_vnd": money,
                        "amount_vnd": money}}}}}]},
            },
        },
        "paths": {
            **openapi_users.PATHS,
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
            "/schools/{school}/students/import-template.xlsx": {"get": _op(
                "The roster template: the columns the import reads (Vietnamese headers) and "
                "one example row",
                {"200": {"description": "XLSX", "content": {_XLSX: {}}}}, params=[_SCHOOL])},
            "/schools/{school}/students/import-template.csv": {"get": _op(
                "The roster template as CSV (UTF-8 with a byte-order mark)",
                {"200": {"description": "CSV", "content": {"text/csv": {}}}},
                params=[_SCHOOL])},
            "/schools/{school}/students": {"get": _op(
                "List students",
                {"200": _json({"type": "object", "properties": {
                    "items": {"type": "array", "items": _ref("Student")}}})},
                params=[_SCHOOL, {"name": "class", "in": "query", "schema": {"type": "string"}},
                        {"name": "q", "in": "query", "schema": {"type": "string"}}])},
            "/schools/{school}/fee-items": {
                "get": _op("Fee items, retired ones included (retired=false leaves them out)",
                           {"200": _json({"type": "object", "properties": {
                               "items": {"type": "array", "items": _ref("FeeItem")}}})},
                           params=[_SCHOOL, {"name": "retired", "in": "query",
                                             "schema": {"enum": ["true", "false"]}}]),
                "post": _op(
                    "Create a fee item (grades taught and classes of the school only)",
                    {"201": _json(_ref("FeeItem"), "Created")},
                    params=[_SCHOOL],
                    body={"required": True, "content": {"application/json": {
                        "schema": _ref("FeeItemIn")}}})},
            "/schools/{school}/fee-items/{item_code}": {
                "get": _op("A fee item", {"200": _json(_ref("FeeItem"))},
                           params=[_SCHOOL, _ITEM]),
                "patch": _op(
                    "Correct a fee item for the billing runs to come (with a reason); what "
                    "was billed stays as billed",
                    {"200": _json(_ref("FeeItem"))}, params=[_SCHOOL, _ITEM],
                    body={"required": True, "content": {"application/json": {
                        "schema": _ref("FeeItemPatch")}}})},
            "/schools/{school}/fee-items/{item_code}/retire": {"post": _op(
                "Retire a fee item: left out of new billing runs, never deleted",
                {"200": _json(_ref("FeeItem"))}, params=[_SCHOOL, _ITEM], body=_REASON)},
            "/schools/{school}/fee-items/{item_code}/restore": {"post": _op(
                "Charge a retired fee item again in new billing runs",
                {"200": _json(_ref("FeeItem"))}, params=[_SCHOOL, _ITEM], body=_REASON)},
            "/schools/{school}/fee-items/{item_code}/enrolments": {
                "get": _op("Students enrolled in an opt-in fee item",
                           {"200": _json({"type": "object"})}, params=[_SCHOOL, _ITEM]),
                "post": _op(
                    "Enrol a student in an opt-in fee item (a run then bills it, for a "
                    "period already billed on a supplementary invoice)",
                    {"201": _json({"type": "object"}, "Enrolled")}, params=[_SCHOOL, _ITEM],
                    body={"required": True, "content": {"application/json": {"schema": {
                        "type": "object", "required": ["student_code"], "properties": {
                            "student_code": {"type": "string"},
                            "valid_from": {"type": "string", "format": "date"},
                            "valid_to": {"type": "string", "format": "date"}}}}}})},
            "/schools/{school}/fee-items/{item_code}/enrolments/{student_code}": {
                "delete": _op("End an enrolment (issued invoices keep their lines)",
                              {"200": _json({"type": "object"})},
                              params=[_SCHOOL, _ITEM, _STUDENT])},
            "/schools/{school}/exemptions": {
                "get": _op("Exemptions (miễn giảm), newest first",
                           {"200": _json({"type": "object", "properties": {
                               "items": {"type": "array", "items": _ref("Exemption")}}})},
                           params=[_SCHOOL]),
                "post": _op(
                    "Grant an exemption; issued invoices it concerns are corrected at once "
                    "(correction lines; money paid beyond the new total becomes credit)",
                    {"201": _json(_ref("Exemption"), "Granted")}, params=[_SCHOOL],
                    body={"required": True, "content": {"application/json": {
                        "schema": _ref("ExemptionIn")}}})},
            "/schools/{school}/adjustments": {
                "get": _op("Adjustments, newest first, with the invoice that billed each",
                           {"200": _json({"type": "object"})}, params=[_SCHOOL]),
                "post": _op(
                    "Add a charge or credit for the student's next invoice",
                    {"201": _json({"type": "object"}, "Added")}, params=[_SCHOOL],
                    body={"required": True, "content": {"application/json": {
                        "schema": _ref("AdjustmentIn")}}})},
            "/schools/{school}/billing-settings": {
                "get": _op("The school's rule for months attended in part",
                           {"200": _json({"type": "object", "properties": {
                               "partial_month": {"enum": ["whole", "half", "days"]}}})},
                           params=[_SCHOOL]),
                "put": _op(
                    "Set how monthly items are billed for a month a child joins or leaves "
                    "in: whole, half (at most half of its school days) or days",
                    {"200": _json({"type": "object"})}, params=[_SCHOOL],
                    body={"required": True, "content": {"application/json": {"schema": {
                        "type": "object", "required": ["partial_month"], "properties": {
                            "partial_month": {"enum": ["whole", "half", "days"]}}}}}})},
            "/schools/{school}/students/{student_code}/attendance": {
                "get": _op("A student's joining and leaving dates",
                           {"200": _json(_ref("Attendance"))}, params=[_SCHOOL, _STUDENT]),
                "put": _op(
                    "Set joining and leaving dates (null clears one, absent keeps it); issued "
                    "invoices charging beyond them are corrected",
                    {"200": _json(_ref("Attendance"))}, params=[_SCHOOL, _STUDENT],
                    body={"required": True, "content": {"application/json": {"schema": {
                        "type": "object", "properties": {
                            "joined_on": {"type": ["string", "null"], "format": "date"},
                            "left_on": {"type": ["string", "null"], "format": "date"},
                            "reason": {"type": "string"}}}}}})},
            "/schools/{school}/students/{student_code}/leave": {"post": _op(
                "A student leaves on left_on: nothing billed from then; per-day items billed "
                "for later days (and later months) become credit",
                {"201": _json(_ref("Attendance"), "Recorded")}, params=[_SCHOOL, _STUDENT],
                body={"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["left_on"], "properties": {
                        "left_on": {"type": "string", "format": "date"},
                        "reason": {"type": "string"}}}}}})},
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
            "/schools/{school}/bank-accounts": {"post": _op(
                "Add a receiving account: applied for an admin or the school's principal (200), "
                "else requested for the principal's approval (202). A number another school "
                "uses is refused (an admin may pass allow_shared_number)",
                {"200": _json({"type": "object"}), "202": _json({"type": "object"})},
                params=[_SCHOOL],
                body={"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["bin", "account_number", "account_name"],
                    "properties": {
                        "bin": {"type": "string"}, "account_number": {"type": "string"},
                        "account_name": {"type": "string"}, "is_default": {"type": "boolean"},
                        "allow_shared_number": {"type": "boolean"}}}}}})},
            "/schools/{school}/bank-accounts/{account_id}": {"patch": _op(
                "Set or clear an account's Casso checksum key or SePay API token (applied "
                "for an admin or the principal, else requested: 202); admins only: "
                "uses_deployment_key. The SePay webhook key is never typed: see sepay-key",
                {"200": _json({"type": "object"}), "202": _json({"type": "object"})},
                params=[_SCHOOL, _int_param("account_id")],
                body={"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "properties": {
                        "casso_checksum_key": {"type": ["string", "null"]},
                        "sepay_api_token": {"type": ["string", "null"]},
                        "uses_deployment_key": {"type": "boolean"}}}}}})},
            "/schools/{school}/bank-accounts/{account_id}/sepay-key": {"post": _op(
                "Generate a new SePay webhook key, returned once as sepay_api_key (the old "
                "one stops working); an accountant's request waits for the principal (202)",
                {"200": _json({"type": "object"}), "202": _json({"type": "object"})},
                params=[_SCHOOL, _int_param("account_id")])},
            "/schools/{school}/bank-account-changes": {"get": _op(
                "Requested and decided changes to the school's bank accounts, newest first",
                {"200": _json({"type": "object"})}, params=[_SCHOOL, {
                    "name": "status", "in": "query", "schema": {
                        "type": "string", "enum": ["pending", "applied", "rejected"]}}])},
            "/bank-account-changes/{change_id}/approve": {"post": _op(
                "The principal or an admin applies a requested change (a rotated SePay key "
                "is returned once)", {"200": _json({"type": "object"})},
                params=[_int_param("change_id")])},
            "/bank-account-changes/{change_id}/reject": {"post": _op(
                "The principal or an admin rejects a requested change, with a note",
                {"200": _json({"type": "object"})}, params=[_int_param("change_id")],
                body={"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["note"],
                    "properties": {"note": {"type": "string"}}}}}})},
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
            "/schools/{school}/reconciliation": {
                "post": _op(
                    "Reconcile now: ask SePay's transaction API for the last `hours` (default "
                    "48), store what webhooks missed, confirm notified transfers it lists and "
                    "flag those it does not (their receipts are marked for review)",
                    {"200": _json({"type": "object"})}, params=[_SCHOOL],
                    body={"required": False, "content": {"application/json": {"schema": {
                        "type": "object", "properties": {
                            "hours": {"type": "integer", "minimum": 1}}}}}}),
                "get": _op("Transfers the bank's list did not show (flagged)",
                           {"200": _json({"type": "object"})}, params=[_SCHOOL])},
            "/refused-notifications": {"get": _op(
                "Admin: signed notifications refused because they repeat a stored "
                "transaction's id or bank reference with another amount, direction or "
                "account (with the raw body and how many times it was delivered)",
                {"200": _json({"type": "object"})})},
            "/unrouted-payments": {"get": _op(
                "Admin: money notified for an account number that no school has, or that "
                "cannot be told apart (kept, never credited by guess)",
                {"200": _json({"type": "object", "properties": {
                    "items": {"type": "array", "items": _ref("Payment")}}})})},
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
                "Set the unassigned part of a payment in review aside (with a reason)",
                {"200": _json(_ref("Payment"))}, params=[_int_param("payment_id")],
                body=_REASON)},
            "/payments/{payment_id}/duplicate": {"post": _op(
                "Mark a payment in review as a transfer already recorded through another "
                "channel (``of``: the original payment's id), with a reason",
                {"200": _json(_ref("Payment"))}, params=[_int_param("payment_id")],
                body={"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["of", "reason"], "properties": {
                        "of": {"type": "integer"}, "reason": {"type": "string"}}}}}})},
            "/payments/{payment_id}/confirm": {"post": _op(
                "Confirm a payment in review whose money is all placed (e.g. a paid invoice "
                "paid again and credited); its credit then pays the student's open invoices",
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
            "/invoices/{code}/corrections": {"get": _op(
                "Corrections made to an invoice after issue, with their lines",
                {"200": _json({"type": "object"})}, params=[_CODE])},
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

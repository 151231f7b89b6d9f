"""OpenAPI paths of the cash desk, refunds, virtual accounts, the year's turn, opening
balances and the channel figures (merged into :func:`tuition.web.openapi.openapi_document`)."""

from __future__ import annotations


def cash_paths(op, json, school, int_param) -> dict:
    """The paths; ``op``, ``json``, ``school`` and ``int_param`` are openapi.py's helpers."""
    money = {"type": "integer", "description": "Whole dong"}
    obj = {"type": "object"}
    pdf = {"200": {"description": "PDF", "content": {"application/pdf": {}}}}

    def body(properties: dict, required: list[str]) -> dict:
        return {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": required, "properties": properties}}}}

    def upload(fields: dict) -> dict:
        return {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary"}, **fields}}}}}

    def query(*names: str) -> list[dict]:
        return [{"name": n, "in": "query", "schema": {"type": "string"}} for n in names]

    cash_item = {"student_code": {"type": "string"}, "amount_vnd": money,
                 "payer_name": {"type": "string"}}
    return {
        "/schools/{school}/cash-payments": {"post": op(
            "Record cash paid at the office for one student; receipts at once",
            {"201": json(obj)}, params=[school], body=body({
                **cash_item, "paid_at": {"type": "string", "format": "date-time"},
                "invoices": {"type": "array", "items": {"type": "string"}},
                "cashier_id": {"type": "integer"}, "note": {"type": "string"}},
                ["student_code", "amount_vnd", "payer_name"]))},
        "/schools/{school}/cash-payments/bulk": {"post": op(
            "Record a class's cash payments in one go (all or none)", {"201": json(obj)},
            params=[school], body=body({
                "items": {"type": "array", "items": {"type": "object", "properties": cash_item}},
                "paid_at": {"type": "string", "format": "date-time"},
                "cashier_id": {"type": "integer"}}, ["items"]))},
        "/schools/{school}/cash-book": {"get": op(
            "One person's cash book for one day: opening, entries, closing",
            {"200": json(obj)}, params=[school, *query("date", "cashier_id")])},
        "/schools/{school}/cash-book.pdf": {"get": op(
            "The day's cash book as PDF", pdf, params=[school, *query("date", "cashier_id")])},
        "/schools/{school}/cash-book/close": {"post": op(
            "Sign off a day of a cash book (the day and every earlier day are locked)",
            {"201": json(obj)}, params=[school], body=body({
                "date": {"type": "string", "format": "date"}, "counted_vnd": money,
                "cashier_id": {"type": "integer"}, "note": {"type": "string"}},
                ["date", "counted_vnd"]))},
        "/schools/{school}/cash-deposits": {"post": op(
            "Record cash taken to the bank; its bank notification is the school's own money",
            {"201": json(obj)}, params=[school], body=body({
                "amount_vnd": money, "deposited_on": {"type": "string", "format": "date"},
                "slip_number": {"type": "string"}, "cashier_id": {"type": "integer"},
                "bank_account_id": {"type": "integer"}},
                ["amount_vnd", "deposited_on", "slip_number"]))},
        "/cash-deposits/{deposit_id}/link": {"post": op(
            "Link a deposit to the notification in review that is its money",
            {"200": json(obj)}, params=[int_param("deposit_id")],
            body=body({"payment_id": {"type": "integer"}}, ["payment_id"]))},
        "/schools/{school}/refunds": {
            "post": op("Refund a student's credit with a payment voucher (phiếu chi)",
                       {"201": json(obj)}, params=[school], body=body({
                           "student_code": {"type": "string"}, "amount_vnd": money,
                           "method": {"enum": ["cash", "transfer"]},
                           "payee_name": {"type": "string"}, "reason": {"type": "string"},
                           "payee_account": {"type": "string"},
                           "payee_bank": {"type": "string"},
                           "cashier_id": {"type": "integer"}},
                           ["student_code", "amount_vnd", "method", "payee_name", "reason"])),
            "get": op("Payment vouchers, and the students the school owes",
                      {"200": json(obj)}, params=[school])},
        "/vouchers/{voucher_id}/cancel": {"post": op(
            "Cancel a transfer refund the bank has not paid (the credit comes back)",
            {"200": json(obj)}, params=[int_param("voucher_id")],
            body=body({"reason": {"type": "string"}}, ["reason"]))},
        "/vouchers/{voucher_id}.pdf": {"get": op(
            "The payment voucher as PDF", pdf, params=[int_param("voucher_id")])},
        "/schools/{school}/virtual-accounts/import": {"post": op(
            "Import students' virtual accounts (XLSX or CSV: student code, account)",
            {"200": json(obj)}, params=[school],
            body=upload({"bank_account_id": {"type": "integer"}}))},
        "/schools/{school}/virtual-accounts": {"get": op(
            "Students' virtual accounts", {"200": json(obj)}, params=[school])},
        "/schools/{school}/virtual-accounts/usage": {"post": op(
            "Use virtual accounts on notices and VietQR (unknown ones go to review)",
            {"200": json(obj)}, params=[school],
            body=body({"uses": {"type": "boolean"}}, ["uses"]))},
        "/schools/{school}/year-turn": {"post": op(
            "Preview or apply the school year's turn (classes promoted; balances carried)",
            {"200": json(obj), "201": json(obj)}, params=[school], body=body({
                "from_year": {"type": "string"}, "preview": {"type": "boolean", "default": True},
                "classes": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
                "students": {"type": "object",
                             "additionalProperties": {"type": ["string", "null"]}}}, []))},
        "/schools/{school}/opening-balances": {"post": op(
            "Import opening balances (debts become invoices, credits become credit)",
            {"201": json(obj)}, params=[school], body=upload({
                "source": {"type": "string"}, "school_year": {"type": "string"},
                "due_date": {"type": "string", "format": "date"}}))},
        "/schools/{school}/reports/channels": {"get": op(
            "Money received per channel (transfer, virtual account, statement, cash) and the "
            "cashless share", {"200": json(obj)}, params=[school, *query("period", "from", "to")])},
    }

"""The demo sets a webhook key on its account and prints a curl line that pays one demo
invoice: run exactly as printed, against a live server, it pays that invoice."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess

import pytest

from tuition.extensions import db
from tuition.models import BankAccount, Invoice, Receipt
from tuition.services import schools


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_printed_curl_line_pays_the_demo_invoice(runner, live_server, ctx):
    result = runner.invoke(args=["tuition", "demo", "--students", "20", "--url", live_server])
    assert result.exit_code == 0, result.output
    (key_line,) = [line for line in result.output.splitlines() if "Khóa webhook SePay" in line]
    key = key_line.rsplit(": ", 1)[1]
    account = db.session.query(BankAccount).one()
    assert account.sepay_api_key == key and len(key) >= 24
    (command,) = [line for line in result.output.splitlines() if line.startswith("curl ")]
    assert f"{live_server}/webhooks/sepay" in command
    body = json.loads(shlex.split(command)[-1])
    invoice = db.session.query(Invoice).filter_by(code=body["content"].split()[0]).one()
    assert invoice.status == "open" and body["transferAmount"] == invoice.balance_vnd
    assert f"hóa đơn {invoice.code} của {invoice.student.full_name}" in result.output
    # A token may end in "-": the link ends where the text does or a space begins.
    link = re.escape(f"{live_server}/p/{invoice.student.parent_token}")
    assert re.search(rf"{link}(?=\s|$)", result.output)

    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"success": True}
    db.session.expire_all()
    invoice = db.session.get(Invoice, invoice.id)
    assert invoice.status == "paid" and invoice.balance_vnd == 0
    assert db.session.query(Receipt).filter_by(invoice_id=invoice.id).count() == 1
    # Run twice (a new user will): SePay's id makes it the same payment, not a second one.
    subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30)
    assert db.session.query(Receipt).filter_by(invoice_id=invoice.id).count() == 1
    assert schools.get_school("DEMO").default_account.sepay_api_key == key


def test_by_default_the_line_targets_the_address_demo_sh_serves(runner, ctx):
    output = runner.invoke(args=["tuition", "demo", "--students", "20"]).output
    key = db.session.query(BankAccount).one().sepay_api_key
    (command,) = [line for line in output.splitlines() if line.startswith("curl ")]
    assert command.startswith("curl -sS -X POST http://127.0.0.1:5000/webhooks/sepay ")
    assert f"'Authorization: Apikey {key}'" in command

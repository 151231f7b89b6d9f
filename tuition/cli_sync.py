"""``flask --app wsgi tuition sync``: the pull backstop for missed SePay webhooks.

Meant for cron (e.g. hourly, and a daily run over two days): it also reconciles, confirming
each webhook-notified transfer that SePay's list shows and flagging those it does not.
Settings: ``TUITION_SEPAY_API_URL`` (default
``https://my.sepay.vn``) and ``TUITION_SEPAY_API_TOKEN`` (used for accounts without their own
``sepay_api_token``). Exit status 1 when an account could not be synced or a row could not be
read: both mean money that nobody has recorded yet, which a person must look at.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta

import click
import requests
from flask import current_app
from flask.cli import with_appcontext

from .core import clock
from .extensions import db
from .services import schools
from .services.errors import ServiceError
from .services.sepay_sync import SyncError, iter_sync


def vietnam_now() -> datetime:
    """Naive Vietnam local time, the clock SePay's ``transaction_date`` is written in."""
    return clock.now_vn().replace(tzinfo=None)


@click.command("sync")
@click.option("--hours", default=48, show_default=True, type=click.IntRange(1, 24 * 31),
              help="How far back to look.")
@click.option("--school", "school_code", default=None, help="Only this school's accounts.")
@with_appcontext
def sync(hours: int, school_code: str | None) -> None:
    """Fetch recent SePay transactions and ingest those the webhook missed."""
    school_id = None
    if school_code:
        try:
            school_id = schools.get_school(school_code).id
        except ServiceError as exc:
            click.echo(f"Lỗi: {exc.message_vi}\nError: {exc.message_en}", err=True)
            sys.exit(1)
    base_url = current_app.config.get("SEPAY_API_URL") or "https://my.sepay.vn"
    since = vietnam_now() - timedelta(hours=hours)
    click.echo(f"Đồng bộ giao dịch SePay từ {since:%d/%m/%Y %H:%M:%S} (giờ Việt Nam).")
    synced = failed = rejected = unconfirmed = 0
    with requests.Session() as session:
        outcomes = iter_sync(session=session, base_url=base_url, since=since,
                             deployment_token=current_app.config.get("SEPAY_API_TOKEN"),
                             school_id=school_id)
        for account, outcome in outcomes:
            label = f"Tài khoản {account.account_number} ({account.school.code})"
            if isinstance(outcome, SyncError):
                db.session.rollback()
                failed += 1
                click.echo(f"{label}: LỖI — {outcome.message_vi}\n"
                           f"  Error: {outcome.message_en}", err=True)
                continue
            # Commit per account: a later account failing must not undo this one's payments.
            db.session.commit()
            synced += 1
            rejected += len(outcome.rejected)
            click.echo(f"{label}: lấy về {outcome.fetched}, mới {outcome.new}, "
                       f"trùng {outcome.duplicates}, bị từ chối {len(outcome.rejected)}; "
                       f"đối soát: khớp {outcome.confirmed}, ngân hàng không có "
                       f"{len(outcome.unconfirmed)}.")
            unconfirmed += len(outcome.unconfirmed)
            for txn_id in outcome.unconfirmed:
                click.echo(f"  - giao dịch {txn_id}: đã nhận qua webhook nhưng SePay không "
                           "liệt kê; biên lai được đánh dấu cần kiểm tra.", err=True)
            for line in outcome.rejected:
                click.echo(f"  - {line}", err=True)
    if synced + failed == 0:
        click.echo("Không có tài khoản nào có API token SePay (đặt sepay_api_token cho tài "
                   "khoản hoặc TUITION_SEPAY_API_TOKEN).", err=True)
        sys.exit(1)
    if failed or rejected or unconfirmed:
        click.echo(f"Có {failed} tài khoản lỗi, {rejected} giao dịch bị từ chối và "
                   f"{unconfirmed} giao dịch ngân hàng không xác nhận.", err=True)
        sys.exit(1)

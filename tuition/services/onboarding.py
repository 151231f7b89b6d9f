"""Onboarding many schools at once from a list: the schools, their receiving accounts, their
accountants, and a sign-in invitation for each accountant. All of them or none.

The file is parsed by :mod:`tuition.importing.schools`; this checks it against what exists
(school codes, account numbers, emails) and creates everything in the caller's transaction.
No password is made: each accountant sets their own through the invitation link.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from ..core import places
from ..extensions import db
from ..importing.schools import SchoolListInvalid, SchoolRow
from ..importing.tabular import RowError
from ..models import BankAccount, School, User
from . import audit, invitations, schools, users
from .access import require_admin


@dataclass(frozen=True)
class Onboarded:
    school: School
    accountant: User
    invitation: invitations.Issued


def onboard(actor: User, rows: Sequence[SchoolRow], *, province_code: int) -> list[Onboarded]:
    """Create every school of the list with its account, accountant and invitation, or
    raise :class:`SchoolListInvalid` naming each row that clashes with what exists."""
    require_admin(actor)
    errors = _clashes(rows)
    if errors:
        raise SchoolListInvalid(errors)
    done = []
    for row in rows:
        school = schools.create_school(actor, {
            "code": row.code, "name": row.name, "level": list(row.levels),
            "tax_code": row.tax_code, "ward_code": row.ward_code,
            "province_code": province_code,
            "address": places.ward(row.ward_code).name + ", " + places.province(
                province_code).name,
            "bank_accounts": [{"bin": row.bin, "account_number": row.account_number,
                               "account_name": row.account_name}],
        })
        accountant, _token = users.create_user(
            actor, email=row.email, role="accountant", school=school,
            name=row.accountant_name)
        done.append(Onboarded(school, accountant, invitations.issue(actor, accountant)))
    audit.record(actor, None, "schools.onboard", f"province:{province_code}",
                 schools=[row.code for row in rows])
    return done


def _clashes(rows: Sequence[SchoolRow]) -> list[RowError]:
    """Rows whose school code, account number or email is already in use."""
    codes = set(db.session.scalars(select(School.code).where(
        School.code.in_([r.code for r in rows]))))
    numbers = dict(db.session.execute(
        select(BankAccount.account_number, School.code)
        .join(School, School.id == BankAccount.school_id)
        .where(BankAccount.account_number.in_([r.account_number for r in rows]))).all())
    emails = set(db.session.scalars(select(func.lower(User.email)).where(
        func.lower(User.email).in_([r.email for r in rows]))))
    errors = []
    for row in rows:
        if row.code in codes:
            errors.append(RowError(row.row, "Mã trường",
                                   f"Mã trường {row.code} đã có trong hệ thống.",
                                   f"School code {row.code} already exists."))
        if row.account_number in numbers:
            # Notifications are routed by account number: one number, one school.
            errors.append(RowError(
                row.row, "Số tài khoản",
                f"Số tài khoản {row.account_number} đã được trường "
                f"{numbers[row.account_number]} sử dụng.",
                f"Account {row.account_number} is already used by school "
                f"{numbers[row.account_number]}."))
        if row.email in emails:
            errors.append(RowError(row.row, "Email kế toán",
                                   f"Email {row.email} đã có tài khoản.",
                                   f"Email {row.email} already has an account."))
    return errors

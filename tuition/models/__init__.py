"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from .audit import AuditEvent
from .bank_changes import BankAccountChange
from .billing import BillingRun, Invoice, InvoiceLine
from .fees import Adjustment, Enrolment, Exemption, FeeItem
from .payments import Allocation, BankTransaction, RefusedNotification
from .receipts import Receipt, ReceiptSeries
from .school import BankAccount, Classroom, School
from .sessions import StaffSession
from .statements import StatementUpload
from .student import Student
from .user import User

__all__ = [
    "Adjustment",
    "Allocation",
    "AuditEvent",
    "BankAccount",
    "BankAccountChange",
    "BankTransaction",
    "BillingRun",
    "Classroom",
    "Enrolment",
    "Exemption",
    "FeeItem",
    "Invoice",
    "InvoiceLine",
    "Receipt",
    "RefusedNotification",
    "ReceiptSeries",
    "School",
    "StaffSession",
    "StatementUpload",
    "Student",
    "User",
]

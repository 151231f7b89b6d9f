"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from .audit import AuditEvent
from .billing import BillingRun, Invoice, InvoiceLine
from .fees import Adjustment, Enrolment, Exemption, FeeItem
from .invitation import Invitation
from .payments import Allocation, BankTransaction
from .receipts import Receipt, ReceiptSeries
from .school import BankAccount, Classroom, School
from .student import Student
from .summaries import BilledStudent, InvoiceSummary, ReceiptSummary, StudentCount
from .user import User

__all__ = [
    "Adjustment",
    "Allocation",
    "AuditEvent",
    "BankAccount",
    "BankTransaction",
    "BilledStudent",
    "BillingRun",
    "Classroom",
    "Enrolment",
    "Exemption",
    "FeeItem",
    "Invitation",
    "Invoice",
    "InvoiceLine",
    "InvoiceSummary",
    "Receipt",
    "ReceiptSeries",
    "ReceiptSummary",
    "School",
    "Student",
    "StudentCount",
    "User",
]

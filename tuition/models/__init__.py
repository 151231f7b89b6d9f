"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from .audit import AuditEvent
from .billing import BillingRun, Invoice, InvoiceLine
from .corrections import BilledMonth, InvoiceCorrection
from .fees import Adjustment, Enrolment, Exemption, FeeItem
from .payments import Allocation, BankTransaction
from .receipts import Receipt, ReceiptSeries
from .school import BankAccount, Classroom, School
from .student import Student
from .user import User

__all__ = [
    "Adjustment",
    "Allocation",
    "AuditEvent",
    "BankAccount",
    "BankTransaction",
    "BilledMonth",
    "BillingRun",
    "Classroom",
    "Enrolment",
    "Exemption",
    "FeeItem",
    "Invoice",
    "InvoiceCorrection",
    "InvoiceLine",
    "Receipt",
    "ReceiptSeries",
    "School",
    "Student",
    "User",
]

"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from .audit import AuditEvent
from .billing import BillingRun, Invoice, InvoiceLine
from .exports import PdfExport
from .fees import Adjustment, Enrolment, Exemption, FeeItem
from .messaging import (
    Campaign,
    GuardianContact,
    Message,
    MessageEvent,
    MessageTemplate,
    MessagingSettings,
    ProviderToken,
)
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
    "BillingRun",
    "Campaign",
    "Classroom",
    "Enrolment",
    "Exemption",
    "FeeItem",
    "GuardianContact",
    "Invoice",
    "InvoiceLine",
    "Message",
    "MessageEvent",
    "MessageTemplate",
    "MessagingSettings",
    "PdfExport",
    "ProviderToken",
    "Receipt",
    "ReceiptSeries",
    "School",
    "Student",
    "User",
]

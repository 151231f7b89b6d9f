"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from .audit import AuditEvent
from .bank_changes import BankAccountChange
from .billing import BillingRun, Invoice, InvoiceLine
from .cash import CashClosing, CashDeposit, CashEntry, DocumentCounter
from .corrections import BilledMonth, InvoiceCorrection
from .exports import PdfExport
from .fees import Adjustment, Enrolment, Exemption, FeeItem
from .invitation import Invitation
from .messaging import (
    Campaign,
    GuardianContact,
    Message,
    MessageEvent,
    MessageTemplate,
    MessagingSettings,
    ProviderToken,
)
from .payments import Allocation, BankTransaction, RefusedNotification
from .receipts import Receipt, ReceiptSeries
from .refunds import PaymentVoucher
from .school import BankAccount, Classroom, School
from .sessions import StaffSession
from .statements import StatementUpload
from .student import Student
from .summaries import BilledStudent, InvoiceSummary, ReceiptSummary, StudentCount
from .user import User
from .virtual_accounts import VirtualAccount
from .year_turns import YearTurn

__all__ = [
    "Adjustment",
    "Allocation",
    "AuditEvent",
    "BankAccount",
    "BankAccountChange",
    "BankTransaction",
    "BilledMonth",
    "BilledStudent",
    "BillingRun",
    "Campaign",
    "CashClosing",
    "CashDeposit",
    "CashEntry",
    "Classroom",
    "DocumentCounter",
    "Enrolment",
    "Exemption",
    "FeeItem",
    "GuardianContact",
    "Invitation",
    "Invoice",
    "InvoiceCorrection",
    "InvoiceLine",
    "Message",
    "MessageEvent",
    "MessageTemplate",
    "MessagingSettings",
    "PdfExport",
    "ProviderToken",
    "PaymentVoucher",
    "InvoiceSummary",
    "Receipt",
    "RefusedNotification",
    "ReceiptSeries",
    "ReceiptSummary",
    "School",
    "StaffSession",
    "StatementUpload",
    "Student",
    "StudentCount",
    "User",
    "VirtualAccount",
    "YearTurn",
]

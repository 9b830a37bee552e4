"""SQLAlchemy 2 typed models of the ledger and the domain records it serves."""

from ledger.models.accounts import Account, AccountKind, Authorisation, LedgerHead
from ledger.models.cards import Card, CardKind, CardStatus, CompanionPot
from ledger.models.people import CaringRelationship, Person
from ledger.models.plans import Plan, PlanCategory, PlanKind, PlanLine, PlanStatus
from ledger.models.reconciliation import ReconciliationBreak
from ledger.models.transfers import Phase, Transfer, TransferCode

__all__ = [
    "Account",
    "AccountKind",
    "Authorisation",
    "Card",
    "CardKind",
    "CardStatus",
    "CaringRelationship",
    "CompanionPot",
    "LedgerHead",
    "Person",
    "Phase",
    "Plan",
    "PlanCategory",
    "PlanKind",
    "PlanLine",
    "PlanStatus",
    "ReconciliationBreak",
    "Transfer",
    "TransferCode",
]

"""The real-time authorisation decision, for Stripe's ``issuing_authorization.request``,
Marqeta's gateway JIT funding request and the simulated provider alike.

The answer comes from, in order: the card's status, the currency, the amount, the
council's blocked merchant categories, the plan's cash allowance for the current period,
and the funds of the account the card draws on (the pot, for a companion card). The
ledger takes its chain-head lock first, so concurrent decisions on one budget are
serialised and never approve more than it holds; an approval places the hold in the same
transaction. A decline carries a stable reason code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from adapters import mcc as mcc_codes
from adapters.repositories import plans as plans_repo
from adapters.repositories.cards import CardRef
from ledger import postings
from ledger.card_payments import CardPayments
from ledger.clock import Clock
from ledger.models import TransferCode

LONDON = ZoneInfo("Europe/London")


class DeclineReason:
    """The stable decline codes (the ledger's own are card_suspended, card_closed,
    account_closed and insufficient_funds)."""

    UNKNOWN_CARD = "unknown_card"
    CURRENCY_NOT_SUPPORTED = "currency_not_supported"
    INVALID_AMOUNT = "invalid_amount"
    BLOCKED_CATEGORY = "blocked_category"
    CASH_ALLOWANCE_EXCEEDED = "cash_allowance_exceeded"
    PAYMENT_SETTLED = "payment_already_settled"


# The council-blocked categories (as the council's ``blocked_categories`` setting names
# them) that a real-time decision can enforce, by merchant category code.
BLOCKABLE_CATEGORIES: dict[str, frozenset[str]] = {
    "gambling": mcc_codes.GAMBLING_MCCS,
    "alcohol": mcc_codes.ALCOHOL_MCCS,
    "tobacco": mcc_codes.TOBACCO_MCCS,
    "quasi_cash": mcc_codes.QUASI_CASH_MCCS,
    "cash": mcc_codes.CASH_MCCS,
}
# Every merchant category a council setting (or the default) could block.
BLOCKABLE_MCCS: frozenset[str] = mcc_codes.DEFAULT_BLOCKED_MCCS.union(
    *BLOCKABLE_CATEGORIES.values()
)


@dataclass(frozen=True)
class AuthorisationPolicy:
    """The council's rules for real-time decisions. A blocked category is still approved
    where the person's plan has a line agreeing that merchant category (an exception)."""

    blocked_mccs: frozenset[str] = field(default=mcc_codes.DEFAULT_BLOCKED_MCCS)
    currency: str = "GBP"
    # When given, the blocked categories come from here instead of ``blocked_mccs``, and
    # are asked for only about a payment whose merchant category some setting could
    # block (``BLOCKABLE_MCCS``): most payments need no read of the council's settings.
    read_blocked: Callable[[], frozenset[str]] | None = field(default=None, compare=False)

    def blocks(self, mcc: str | None) -> bool:
        """Whether the council blocks this merchant category (before any exception a
        plan agrees)."""
        if self.read_blocked is None:
            return mcc in self.blocked_mccs
        return mcc in BLOCKABLE_MCCS and mcc in self.read_blocked()

    @classmethod
    def blocking(cls, categories: Iterable[str]) -> AuthorisationPolicy:
        """A policy blocking the named categories (``BLOCKABLE_CATEGORIES``; names a real-
        time decision cannot tell by merchant category are left to monitoring)."""
        blocked: frozenset[str] = frozenset()
        for name in categories:
            blocked |= BLOCKABLE_CATEGORIES.get(name, frozenset())
        return cls(blocked_mccs=blocked)


@dataclass(frozen=True)
class Decision:
    approved: bool
    amount: int
    reason: str | None = None
    hold_id: int | None = None
    authorisation_id: int | None = None


@dataclass(frozen=True)
class PaymentRequest:
    """What the provider asks us to approve, already in our words."""

    key: str  # idempotency key: the provider's authorisation (or increment) id
    amount: int  # pence in the billing currency
    currency: str
    merchant_name: str | None
    mcc: str | None
    cash: bool


def decide(
    session: Session,
    clock: Clock,
    card: CardRef,
    request: PaymentRequest,
    *,
    source: str,
    policy: AuthorisationPolicy | None = None,
) -> Decision:
    """Approve (placing a hold) or decline, once per ``request.key``: a retry gets the
    original answer. Flushes, never commits."""
    policy = policy or AuthorisationPolicy()
    if request.currency != policy.currency:
        return Decision(False, request.amount, DeclineReason.CURRENCY_NOT_SUPPORTED)
    if request.amount <= 0:
        return Decision(False, request.amount, DeclineReason.INVALID_AMOUNT)
    # The council's settings are read (when at all) before the lock, not while holding it.
    blocked = policy.blocks(request.mcc)
    # Serialise with every other posting before reading what cash has been used.
    postings.lock_head(session)
    reason = None
    if blocked and request.mcc and not _agreed_exception(session, clock, card, request.mcc):
        reason = DeclineReason.BLOCKED_CATEGORY
    elif request.cash and not cash_allowed(session, clock, card, request.amount):
        reason = DeclineReason.CASH_ALLOWANCE_EXCEEDED
    result = CardPayments(session, clock).authorise(
        card.card_id,
        request.amount,
        source=source,
        key=request.key,
        merchant_name=request.merchant_name,
        mcc=request.mcc,
        category=_category(request),
        code=TransferCode.CASH_WITHDRAWAL if request.cash else TransferCode.CARD_SPEND,
        policy_decline=reason,
    )
    return Decision(
        approved=result.approved,
        amount=request.amount,
        reason=result.decline_reason,
        hold_id=result.hold_id,
        authorisation_id=result.authorisation_id,
    )


def cash_allowed(session: Session, clock: Clock, card: CardRef, amount: int) -> bool:
    """Whether ``amount`` more cash fits the plan's cash allowance this period."""
    today = clock.now().astimezone(LONDON).date()
    plan = plans_repo.active_plan(session, card.budget_account_id, today)
    if plan is None:
        return False
    start = period_start(plan.starts_on, plan.period_weeks, today)
    used = plans_repo.cash_used_since(session, card.budget_account_id, london_midnight(start))
    return used + amount <= plan.cash_allowance_per_period


def _agreed_exception(session: Session, clock: Clock, card: CardRef, mcc: str) -> bool:
    """Whether the person's plan agrees this (otherwise blocked) merchant category."""
    today = clock.now().astimezone(LONDON).date()
    return mcc in plans_repo.agreed_merchant_categories(session, card.budget_account_id, today)


def period_start(starts_on: date, period_weeks: int, today: date) -> date:
    """The first day of the plan period that contains ``today``."""
    if today < starts_on:
        return starts_on
    length = 7 * period_weeks
    return starts_on + timedelta(days=((today - starts_on).days // length) * length)


def london_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=LONDON).astimezone(UTC)


def _category(request: PaymentRequest) -> str | None:
    category = mcc_codes.plan_category(request.mcc)
    return category.value if category is not None else None

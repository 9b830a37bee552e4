"""The ledger's service API, in the council's words.

``Ledger(session, clock)`` moves money: loads, contributions, pot allocations, bank
payments, fees, refunds, clawbacks, reversals, and reads balances and statements. Card
payments (authorise, post, void, expire, clear) are in ``ledger.card_payments``.

Every operation takes an idempotency ``source`` and ``key``: the same key with the same
request returns the original transfers; with a different request it raises
``IdempotencyConflict``. What counts as the request (docs/ledger.md, "Idempotency"): for
what the council asks for, every field the caller gives but ``inbound_event_id`` (which
message brought it, not what it says); for a settlement the provider reports (bank
payments, fees, refunds, clearings), the money movement alone: the account or card, the
amount, the code and the provider's time, not how it is described (merchant, MCC,
category, payee, reference, the hold a clearing is linked to), since the same settlement
comes by webhook and by statement line, described differently.

Operations the service *decides* (clawbacks, pot allocations, arrears repayments,
reversals) never take a no-overdraft account below zero and raise ``InsufficientFunds``
instead. Debits the provider has already *settled* (bank payments, fees, force-posted
card spend) are facts: they are always recorded, and any shortfall is debited to the
budget's arrears account, where monitoring sees it.

Operations flush through the caller's session and never commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ledger import postings
from ledger.clock import Clock, SystemClock
from ledger.errors import AlreadyReversed, InvalidAmount, InvalidRecord, NotReversible
from ledger.models import AccountKind, Phase, Transfer, TransferCode
from ledger.models.transfers import BANK_PAYMENT_CODES
from ledger.postings import TransferRecord, TransferSpec
from ledger.repositories import accounts as accounts_repo
from ledger.repositories import transfers as transfers_repo
from ledger.settings import LedgerSettings


@dataclass(frozen=True)
class Balances:
    account_id: int
    posted: int
    available: int
    pending_debits: int
    pending_credits: int


@dataclass(frozen=True)
class StatementLine:
    transfer_id: int
    effective_at: datetime
    code: TransferCode
    description: str
    money_in: int
    money_out: int
    balance: int


@dataclass(frozen=True)
class Statement:
    account_id: int
    start: datetime
    end: datetime
    opening_balance: int
    closing_balance: int
    lines: list[StatementLine] = field(default_factory=list)


class Ledger:
    """Money movements on the ledger. See the module docstring for its promises."""

    def __init__(
        self,
        session: Session,
        clock: Clock | None = None,
        settings: LedgerSettings | None = None,
    ) -> None:
        self.session = session
        self.clock = clock or SystemClock()
        self.settings = settings or LedgerSettings()

    # -- posting helpers -------------------------------------------------------------

    def _post(
        self,
        request: Mapping[str, Any],
        build: postings.Builder,
        *,
        source: str,
        key: str,
        effective_at: datetime | None,
    ) -> list[TransferRecord]:
        now = self.clock.now()
        if effective_at is not None:
            # When the money moved is part of every request that says (module doc). Only
            # then: a request given no time keeps the digest it has always had.
            request = {**request, "effective_at": postings.request_time(effective_at)}
        return postings.post(
            self.session,
            source=source,
            key=key,
            request=request,
            build=lambda: self._repaying_arrears(build()),
            effective_at=effective_at or now,
            created_at=now,
        )

    def _repaying_arrears(self, specs: Sequence[TransferSpec]) -> list[TransferSpec]:
        """Money arriving in a budget first clears what it owes in arrears.

        The provider has already paid what the arrears record, so the person's position is
        the budget less its arrears either way; clearing them first makes the split the same
        whatever order a shortfall and a later credit arrive in.
        """
        out = list(specs)
        cache = postings.lock_head(self.session)
        owed: dict[int, int] = {}
        for spec in specs:
            if spec.phase is not Phase.POSTED or spec.code is TransferCode.ARREARS_REPAYMENT:
                continue
            budget = postings.account_state(self.session, cache, spec.credit_account_id)
            if budget.kind is not AccountKind.PERSONAL_BUDGET:
                continue
            arrears_id = postings.arrears_account_id(self.session, budget.id)
            if budget.id not in owed:
                arrears = postings.account_state(self.session, cache, arrears_id)
                owed[budget.id] = max(0, arrears.debits_posted - arrears.credits_posted)
            repay = min(owed[budget.id], spec.amount)
            if repay:
                owed[budget.id] -= repay
                out.append(
                    TransferSpec(budget.id, arrears_id, repay, TransferCode.ARREARS_REPAYMENT)
                )
        return out

    def _system(self, kind: AccountKind) -> int:
        return postings.system_account_id(self.session, kind, self.clock.now())

    def _budget(self, account_id: int) -> None:
        """Refuse an account that is not a personal budget (read under the head lock)."""
        state = postings.account_state(self.session, postings.lock_head(self.session), account_id)
        if state.kind is not AccountKind.PERSONAL_BUDGET:
            raise InvalidRecord(f"account {account_id} is not a personal budget account")

    def settled_debit_specs(self, spec: TransferSpec, *, already: int = 0) -> list[TransferSpec]:
        """A debit the provider has already settled, split so no budget goes below zero.

        What the account can cover is debited to it; any shortfall is debited to the
        arrears account of the budget it belongs to (for a companion pot, the cared-for
        person's budget). ``already`` is what earlier transfers of the same linked set take
        from the account's available funds (they are not in its totals yet). Call only
        while building a posting (under the head lock).
        """
        cache = postings.lock_head(self.session)
        postings.prefetch_accounts(self.session, [spec.debit_account_id, spec.credit_account_id])
        account = postings.account_state(self.session, cache, spec.debit_account_id)
        if not account.no_overdraft:
            return [spec]
        covered = max(0, min(account.available - already, spec.amount))
        shortfall = spec.amount - covered
        if not shortfall:
            return [spec]
        out = []
        if covered:
            out.append(_with(spec, amount=covered))
        if shortfall:
            budget_id = (
                account.parent_id if account.kind is AccountKind.COMPANION_POT else account.id
            )
            assert budget_id is not None
            arrears_id = postings.arrears_account_id(self.session, budget_id)
            out.append(_with(spec, amount=shortfall, debit_account_id=arrears_id))
        return out

    # -- money in --------------------------------------------------------------------

    def load(
        self,
        budget_account_id: int,
        amount: int,
        *,
        source: str,
        key: str,
        emergency: bool = False,
        pot_top_ups: Mapping[int, int] | None = None,
        reference: str | None = None,
        effective_at: datetime | None = None,
        inbound_event_id: int | None = None,
    ) -> list[TransferRecord]:
        """Load council funds onto a personal budget, optionally topping up companion pots
        from the same load. All parts post together or not at all."""
        _positive(amount)
        top_ups = dict(pot_top_ups or {})
        for pot_amount in top_ups.values():
            _positive(pot_amount)
        if sum(top_ups.values()) > amount:
            raise InvalidAmount("pot top-ups add up to more than the load")
        code = TransferCode.EMERGENCY_LOAD if emergency else TransferCode.LOAD

        def build() -> list[TransferSpec]:
            self._budget(budget_account_id)
            funding = self._system(AccountKind.COUNCIL_FUNDING)
            specs = []
            to_budget = amount - sum(top_ups.values())
            if to_budget:
                specs.append(
                    TransferSpec(
                        funding,
                        budget_account_id,
                        to_budget,
                        code,
                        reference=reference,
                        inbound_event_id=inbound_event_id,
                    )
                )
            for pot_id, pot_amount in sorted(top_ups.items()):
                pot_budget_id, pot_account_id = postings.pot_account_ids(self.session, pot_id)
                if pot_budget_id != budget_account_id:
                    raise InvalidRecord(f"pot {pot_id} is not part of this budget")
                specs.append(
                    TransferSpec(
                        funding,
                        pot_account_id,
                        pot_amount,
                        code,
                        reference=reference,
                        inbound_event_id=inbound_event_id,
                    )
                )
            return specs

        request = {
            "op": "load",
            "account": budget_account_id,
            "amount": amount,
            "emergency": emergency,
            "pots": sorted(top_ups.items()),
            "reference": reference,
        }
        return self._post(request, build, source=source, key=key, effective_at=effective_at)

    def receive_contribution(
        self,
        budget_account_id: int,
        amount: int,
        *,
        source: str,
        key: str,
        reference: str | None = None,
        effective_at: datetime | None = None,
        inbound_event_id: int | None = None,
    ) -> list[TransferRecord]:
        """The person's own client contribution paid into their budget."""
        _positive(amount)

        def build() -> list[TransferSpec]:
            self._budget(budget_account_id)
            clearing = self._system(AccountKind.CONTRIBUTIONS_CLEARING)
            return [
                TransferSpec(
                    clearing,
                    budget_account_id,
                    amount,
                    TransferCode.CONTRIBUTION,
                    reference=reference,
                    inbound_event_id=inbound_event_id,
                )
            ]

        request = {
            "op": "contribution",
            "account": budget_account_id,
            "amount": amount,
            "reference": reference,
        }
        return self._post(request, build, source=source, key=key, effective_at=effective_at)

    # -- companion pots --------------------------------------------------------------

    def allocate_to_pot(
        self, pot_id: int, amount: int, *, source: str, key: str
    ) -> list[TransferRecord]:
        """Earmark part of the cared-for person's budget for a companion's pot.
        Never more than the budget has available."""
        _positive(amount)

        def build() -> list[TransferSpec]:
            budget_id, pot_account_id = postings.pot_account_ids(self.session, pot_id)
            return [TransferSpec(budget_id, pot_account_id, amount, TransferCode.POT_ALLOCATION)]

        request = {"op": "pot_allocation", "pot": pot_id, "amount": amount}
        return self._post(request, build, source=source, key=key, effective_at=None)

    def release_from_pot(
        self, pot_id: int, amount: int, *, source: str, key: str
    ) -> list[TransferRecord]:
        """Return earmarked money from a pot to the budget. Never more than the pot has."""
        _positive(amount)

        def build() -> list[TransferSpec]:
            budget_id, pot_account_id = postings.pot_account_ids(self.session, pot_id)
            return [TransferSpec(pot_account_id, budget_id, amount, TransferCode.POT_RELEASE)]

        request = {"op": "pot_release", "pot": pot_id, "amount": amount}
        return self._post(request, build, source=source, key=key, effective_at=None)

    # -- money out: facts the provider has settled -------------------------------------

    def record_bank_payment(
        self,
        account_id: int,
        amount: int,
        *,
        method: TransferCode,
        payee: str,
        source: str,
        key: str,
        reference: str | None = None,
        effective_at: datetime | None = None,
        inbound_event_id: int | None = None,
    ) -> list[TransferRecord]:
        """A direct debit, standing order or Faster Payment the provider has paid out."""
        _positive(amount)
        if method not in BANK_PAYMENT_CODES:
            raise InvalidRecord(f"{method} is not a bank payment method")

        def build() -> list[TransferSpec]:
            clearing = self._system(AccountKind.BANK_PAYMENTS_CLEARING)
            return self.settled_debit_specs(
                TransferSpec(
                    account_id,
                    clearing,
                    amount,
                    method,
                    payee=payee,
                    reference=reference,
                    inbound_event_id=inbound_event_id,
                )
            )

        # A settled fact: the payee and reference describe it (see the module doc).
        request = {
            "op": "bank_payment",
            "account": account_id,
            "amount": amount,
            "method": method.value,
        }
        return self._post(request, build, source=source, key=key, effective_at=effective_at)

    def charge_fee(
        self,
        account_id: int,
        amount: int,
        *,
        source: str,
        key: str,
        reference: str | None = None,
        effective_at: datetime | None = None,
        inbound_event_id: int | None = None,
    ) -> list[TransferRecord]:
        """A fee the provider has charged to the card account."""
        _positive(amount)

        def build() -> list[TransferSpec]:
            fees = self._system(AccountKind.FEES)
            return self.settled_debit_specs(
                TransferSpec(
                    account_id,
                    fees,
                    amount,
                    TransferCode.FEE,
                    reference=reference,
                    inbound_event_id=inbound_event_id,
                )
            )

        # A settled fact: the reference describes it (see the module doc).
        request = {"op": "fee", "account": account_id, "amount": amount}
        return self._post(request, build, source=source, key=key, effective_at=effective_at)

    def refund(
        self,
        card_id: int,
        amount: int,
        *,
        source: str,
        key: str,
        merchant_name: str | None = None,
        mcc: str | None = None,
        category: str | None = None,
        effective_at: datetime | None = None,
        inbound_event_id: int | None = None,
    ) -> list[TransferRecord]:
        """A merchant's refund to a card, credited to the account the card draws on."""
        _positive(amount)

        def build() -> list[TransferSpec]:
            account_id = postings.card_account_id(self.session, card_id)
            clearing = self._system(AccountKind.MERCHANT_SPEND_CLEARING)
            return [
                TransferSpec(
                    clearing,
                    account_id,
                    amount,
                    TransferCode.REFUND,
                    card_id=card_id,
                    merchant_name=merchant_name,
                    mcc=mcc,
                    category=category,
                    inbound_event_id=inbound_event_id,
                )
            ]

        # A settled fact: merchant, MCC and category describe it (see the module doc).
        request = {
            "op": "refund",
            "card": card_id,
            "amount": amount,
        }
        return self._post(request, build, source=source, key=key, effective_at=effective_at)

    # -- money out: decisions the council makes ------------------------------------------

    def clawback(
        self,
        budget_account_id: int,
        amount: int,
        *,
        source: str,
        key: str,
        fee: int = 0,
        reference: str | None = None,
        effective_at: datetime | None = None,
    ) -> list[TransferRecord]:
        """Recover surplus from a budget to the council, with the provider's unload fee if
        any, together or not at all. Never more than the budget has available.
        ``effective_at``: when the provider moved it (an unload it reports), else now."""
        _positive(amount)
        if fee < 0:
            raise InvalidAmount("a fee cannot be negative")

        def build() -> list[TransferSpec]:
            self._budget(budget_account_id)
            specs = [
                TransferSpec(
                    budget_account_id,
                    self._system(AccountKind.RECOVERIES),
                    amount,
                    TransferCode.CLAWBACK,
                    reference=reference,
                )
            ]
            if fee:
                specs.append(
                    TransferSpec(
                        budget_account_id,
                        self._system(AccountKind.FEES),
                        fee,
                        TransferCode.FEE,
                        reference=reference,
                    )
                )
            return specs

        request = {
            "op": "clawback",
            "account": budget_account_id,
            "amount": amount,
            "fee": fee,
            "reference": reference,
        }
        return self._post(request, build, source=source, key=key, effective_at=effective_at)

    def repay_arrears(
        self, budget_account_id: int, amount: int, *, source: str, key: str
    ) -> list[TransferRecord]:
        """Clear (part of) a budget's arrears from its available funds."""
        _positive(amount)

        def build() -> list[TransferSpec]:
            arrears_id = postings.arrears_account_id(self.session, budget_account_id)
            return [
                TransferSpec(budget_account_id, arrears_id, amount, TransferCode.ARREARS_REPAYMENT)
            ]

        request = {"op": "arrears_repayment", "account": budget_account_id, "amount": amount}
        return self._post(request, build, source=source, key=key, effective_at=None)

    def reverse(
        self, transfer_id: int, *, source: str, key: str, reference: str | None = None
    ) -> list[TransferRecord]:
        """Undo a posted transfer with a new, linked, opposite transfer. A transfer is
        reversed at most once; a hold is voided instead."""

        def build() -> list[TransferSpec]:
            original = transfers_repo.get(self.session, transfer_id)
            if original.phase is not Phase.POSTED or original.code is TransferCode.REVERSAL:
                raise NotReversible(
                    f"transfer {transfer_id} is a {original.phase.value} {original.code.value} "
                    "transfer; only single-phase postings can be reversed (void a hold instead)"
                )
            if transfers_repo.reversal_of(self.session, transfer_id) is not None:
                raise AlreadyReversed(f"transfer {transfer_id} has already been reversed")
            return [
                TransferSpec(
                    original.credit_account_id,
                    original.debit_account_id,
                    original.amount,
                    TransferCode.REVERSAL,
                    reverses_id=original.id,
                    card_id=original.card_id,
                    merchant_name=original.merchant_name,
                    mcc=original.mcc,
                    category=original.category,
                    reference=reference,
                )
            ]

        request = {"op": "reversal", "transfer": transfer_id, "reference": reference}
        return self._post(request, build, source=source, key=key, effective_at=None)

    # -- reading ---------------------------------------------------------------------

    def balances(self, account_id: int) -> Balances:
        account = accounts_repo.get(self.session, account_id)
        self.session.refresh(account)
        return Balances(
            account_id=account.id,
            posted=account.posted_balance,
            available=account.available_balance,
            pending_debits=account.debits_pending,
            pending_credits=account.credits_pending,
        )

    def statement(self, account_id: int, start: datetime, end: datetime) -> Statement:
        """Posted movements with effect in [start, end), with running balances."""
        if end <= start:
            raise InvalidRecord("a statement period must end after it starts")
        accounts_repo.get(self.session, account_id)
        opening = transfers_repo.posted_balance_before(self.session, account_id, start)
        balance = opening
        lines = []
        for t in transfers_repo.posted_between(self.session, account_id, start, end):
            money_in = t.amount if t.credit_account_id == account_id else 0
            money_out = t.amount if t.debit_account_id == account_id else 0
            balance += money_in - money_out
            lines.append(
                StatementLine(
                    t.id, t.effective_at, t.code, describe(t), money_in, money_out, balance
                )
            )
        return Statement(account_id, start, end, opening, balance, lines)


def describe(transfer: Transfer) -> str:
    """A line of a statement in plain words."""
    label = transfer.code.value.replace("_", " ").capitalize()
    detail = transfer.merchant_name or transfer.payee or transfer.reference
    return f"{label}: {detail}" if detail else label


def _positive(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidAmount("amounts are whole pence (int)", amount=amount)
    if amount <= 0:
        raise InvalidAmount("an amount must be more than zero", amount=amount)


def _with(spec: TransferSpec, **changes: Any) -> TransferSpec:
    return spec._replace(**changes)

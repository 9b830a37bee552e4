"""Card payments: real-time authorisation, holds and their resolution, clearings.

- ``authorise`` decides from the card's status and the funds of the account the card
  draws on (the pot, for a companion card); an approval places the hold in the same
  transaction. The decision is recorded under its idempotency key, so a retry gets the
  same answer: a declined payment stays declined.
- ``post_hold`` posts a hold fully, partly, or over it within the council's tolerance;
  ``void_hold`` and ``expire_hold`` release it. Each hold resolves at most once.
- ``record_clearing`` records a settlement the provider has made. It is a fact and is
  never refused: against its hold when there is one, as a force post when there is none
  (or the hold already resolved), with any shortfall debited to arrears.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, and_, bindparam, insert, select

from ledger import hot_sql, postings
from ledger.errors import (
    ExceedsHoldTolerance,
    HoldAlreadyResolved,
    HoldOfAnotherCard,
    IdempotencyConflict,
    NotAHold,
    UnknownRecord,
)
from ledger.models import Authorisation, Card, CardStatus, Phase, Transfer, TransferCode
from ledger.models.accounts import AccountKind, AuthorisationDecision
from ledger.postings import TransferRecord, TransferSpec
from ledger.repositories import transfers as transfers_repo
from ledger.service import Ledger, _positive

# The real-time decision's own statements, built once (a statement built per call costs
# more Python than the database spends on it). Read and written through the session's
# connection: the decision needs no ORM objects.
_AUTHORISATIONS = cast(Table, Authorisation.__table__)
_CARDS = cast(Table, Card.__table__)
_DECISION_COLUMNS = [
    _AUTHORISATIONS.c[name]
    for name in (
        "id", "card_id", "amount", "code", "merchant_name", "mcc", "category", "decision",
        "decline_reason", "hold_id",
    )
]  # fmt: skip
_SAME_KEY = and_(
    _AUTHORISATIONS.c.idempotency_source == bindparam("source"),
    _AUTHORISATIONS.c.idempotency_key == bindparam("key"),
)
_TRANSFERS = cast(Table, Transfer.__table__)
# Whether a transfer has the key (within its source): with no decision under it either,
# the key is free and the hold's posting need not look it up again.
_KEY_OF_A_TRANSFER = (
    select(_TRANSFERS.c.id)
    .where(
        _TRANSFERS.c.idempotency_source == bindparam("source"),
        _TRANSFERS.c.idempotency_key == bindparam("key"),
    )
    .exists()
    .label("key_of_a_transfer")
)
# The card, share-locked (a suspension waits for an in-flight decision; FOR SHARE OF
# cards: the decision's row, if any, is only read), the decision under the key, and
# whether a transfer has the key.
_CARD_AND_DECISION = (
    select(_CARDS.c.status, _CARDS.c.account_id, *_DECISION_COLUMNS, _KEY_OF_A_TRANSFER)
    .select_from(_CARDS.outerjoin(_AUTHORISATIONS, _SAME_KEY))
    .where(_CARDS.c.id == bindparam("card_id"))
    .with_for_update(read=True, of=_CARDS)
)
_DECISION_BY_KEY = select(*_DECISION_COLUMNS).where(_SAME_KEY)
_INSERT_DECISION = insert(_AUTHORISATIONS).returning(_AUTHORISATIONS.c.id)


@dataclass(frozen=True)
class AuthorisationResult:
    authorisation_id: int
    approved: bool
    decline_reason: str | None
    hold_id: int | None


class CardPayments(Ledger):
    """Card payment operations on the ledger (see the module docstring)."""

    def authorise(
        self,
        card_id: int,
        amount: int,
        *,
        source: str,
        key: str,
        merchant_name: str | None = None,
        mcc: str | None = None,
        category: str | None = None,
        code: TransferCode = TransferCode.CARD_SPEND,
        policy_decline: str | None = None,
        effective_at: datetime | None = None,
    ) -> AuthorisationResult:
        """Approve (placing a hold) or decline a card payment, once per key.

        ``policy_decline`` lets a caller that has already applied the council's rules
        (blocked categories, the plan's cash allowance) record its decline here, so the
        retry-stays-declined promise covers it too.

        The same key returns the recorded decision when it is about the same payment (card,
        amount, code, merchant, MCC, category), else ``IdempotencyConflict``. The caller's
        ``policy_decline`` is a verdict, not part of the payment: worked out again on a
        retry it may differ (the approved hold now counts against the cash allowance), and
        the decision recorded stands. Nor is the time asked.
        """
        if amount <= 0 or isinstance(amount, bool):
            from ledger.errors import InvalidAmount

            raise InvalidAmount("an authorisation amount must be more than zero")
        cache = postings.lock_head(self.session)
        # The card (share-locked, so a suspension waits for this decision) and any
        # decision already recorded under the key, in one statement.
        found = hot_sql.run_first(
            self.session, _CARD_AND_DECISION, {"card_id": card_id, "source": source, "key": key}
        )
        if found is None:
            previous = hot_sql.run_first(
                self.session, _DECISION_BY_KEY, {"source": source, "key": key}
            )
            if previous is None:
                raise UnknownRecord(f"card {card_id} does not exist", card_id=card_id)
        else:
            previous = found if found.id is not None else None
        asked = (card_id, amount, code, merchant_name, mcc, category)
        if previous is not None:
            if (
                previous.card_id,
                previous.amount,
                previous.code,
                previous.merchant_name,
                previous.mcc,
                previous.category,
            ) != asked:
                raise IdempotencyConflict(
                    f"authorisation key {key!r} was already used for a different payment"
                )
            return _result(previous)
        assert found is not None
        if not found.key_of_a_transfer:
            # Read under the head lock, in a statement that began after it was taken: no
            # transfer and no decision has the key, so neither the hold's posting nor a
            # decline's claim of the key looks it up again.
            postings.prefetch_keys_with(self.session, source, [key], lambda _keys: set())

        status, account_id = found.status, found.account_id
        # The card's account and the council's system accounts (the hold's other side),
        # with their totals, in one statement.
        postings.prefetch_cards(self.session, [card_id])
        state = postings.account_state(self.session, cache, account_id)
        reason: str | None = None
        if status is CardStatus.CLOSED:
            reason = "card_closed"
        elif status is CardStatus.SUSPENDED:
            reason = "card_suspended"
        elif state.closed:
            reason = "account_closed"
        elif policy_decline:
            reason = policy_decline
        elif state.available < amount:
            reason = "insufficient_funds"

        hold_id = None
        if reason is not None:
            # A decline writes no transfer, so the posting engine would not see its key
            # taken: within a source, a key names one request.
            postings.claim_key_for_decision(self.session, source, key)
        else:
            (hold,) = self._post(
                {
                    "op": "authorisation",
                    "card": card_id,
                    "amount": amount,
                    "code": code.value,
                    "merchant": merchant_name,
                    "mcc": mcc,
                    "category": category,
                },
                lambda: [
                    TransferSpec(
                        account_id,
                        self._system(AccountKind.MERCHANT_SPEND_CLEARING),
                        amount,
                        code,
                        phase=Phase.PENDING,
                        card_id=card_id,
                        merchant_name=merchant_name,
                        mcc=mcc,
                        category=category,
                    )
                ],
                source=source,
                key=key,
                effective_at=effective_at,
            )
            hold_id = hold.id
        decided = AuthorisationDecision.DECLINED if reason else AuthorisationDecision.APPROVED
        # A row written, never read back here: a Core insert (no ORM object, no flush). The
        # hold it names must be in the database first (a deferred block holds it back).
        postings.write_pending(self.session)
        (authorisation_id,) = hot_sql.run_first(
            self.session,
            _INSERT_DECISION,
            {
                "idempotency_source": source,
                "idempotency_key": key,
                "card_id": card_id,
                "amount": amount,
                "code": code,
                "merchant_name": merchant_name,
                "mcc": mcc,
                "category": category,
                "decision": decided,
                "decline_reason": reason,
                "hold_id": hold_id,
                "decided_at": self.clock.now(),
            },
        )
        return AuthorisationResult(
            authorisation_id=int(authorisation_id),
            approved=decided is AuthorisationDecision.APPROVED,
            decline_reason=reason,
            hold_id=hold_id,
        )

    def post_hold(
        self,
        hold_id: int,
        amount: int,
        *,
        source: str,
        key: str,
        effective_at: datetime | None = None,
    ) -> list[TransferRecord]:
        """Post a hold: fully, partly, or over it within the tolerance."""

        def build() -> list[TransferSpec]:
            hold = self._open_hold(hold_id)
            if amount > self._over_post_limit(hold):
                raise ExceedsHoldTolerance(
                    f"{amount}p is more than hold {hold_id} ({hold.amount}p) allows",
                    hold_id=hold_id,
                    limit=self._over_post_limit(hold),
                )
            return self._settle_hold(hold, amount)

        return self._post(
            {"op": "post_hold", "hold": hold_id, "amount": amount},
            build,
            source=source,
            key=key,
            effective_at=effective_at,
        )

    def void_hold(
        self, hold_id: int, *, source: str, key: str, effective_at: datetime | None = None
    ) -> list[TransferRecord]:
        """Release a hold without settling it (a reversal from the merchant)."""
        return self._release(
            hold_id, TransferCode.HOLD_VOID, source=source, key=key, effective_at=effective_at
        )

    def expire_hold(
        self, hold_id: int, *, source: str, key: str, effective_at: datetime | None = None
    ) -> list[TransferRecord]:
        """Release a hold that was never settled in time."""
        return self._release(
            hold_id, TransferCode.HOLD_EXPIRY, source=source, key=key, effective_at=effective_at
        )

    def record_clearing(
        self,
        card_id: int,
        amount: int,
        *,
        source: str,
        key: str,
        hold_id: int | None = None,
        merchant_name: str | None = None,
        mcc: str | None = None,
        category: str | None = None,
        code: TransferCode = TransferCode.CARD_SPEND,
        inbound_event_id: int | None = None,
        effective_at: datetime | None = None,
    ) -> list[TransferRecord]:
        """Record a settlement the provider has made. Never refused (see module doc)."""
        _positive(amount)

        def build() -> list[TransferSpec]:
            hold = self._hold_if_open(hold_id, card_id=card_id) if hold_id is not None else None
            if hold is not None:
                within = min(amount, self._over_post_limit(hold))
                specs = self._settle_hold(hold, within)
                if amount > within:
                    # The hold is posted in full, which leaves the available funds as they
                    # were; the excess within the tolerance may already have used them.
                    used = sum(
                        s.amount
                        for s in specs
                        if s.phase is Phase.POSTED and s.debit_account_id == hold.debit_account_id
                    )
                    specs += self.settled_debit_specs(
                        _spend(
                            hold.debit_account_id,
                            hold.credit_account_id,
                            amount - within,
                            code,
                            card_id,
                            merchant_name,
                            mcc,
                            category,
                            inbound_event_id,
                        ),
                        already=used,
                    )
                return specs
            account_id = postings.card_account_id(self.session, card_id)
            clearing = self._system(AccountKind.MERCHANT_SPEND_CLEARING)
            return self.settled_debit_specs(
                _spend(
                    account_id,
                    clearing,
                    amount,
                    code,
                    card_id,
                    merchant_name,
                    mcc,
                    category,
                    inbound_event_id,
                )
            )

        # A settled fact, reported by webhook (against its hold) and by statement line
        # (unlinked), its merchant spelt either way: the request is the money movement.
        request = {
            "op": "clearing",
            "card": card_id,
            "amount": amount,
            "code": code.value,
        }
        return self._post(request, build, source=source, key=key, effective_at=effective_at)

    # -- helpers -----------------------------------------------------------------------

    def _over_post_limit(self, hold: Transfer) -> int:
        return hold.amount + hold.amount * self.settings.over_post_tolerance_percent // 100

    def _hold_if_open(self, hold_id: int, *, card_id: int | None = None) -> Transfer | None:
        """The hold if it is still open, None if it was resolved; with ``card_id``, a hold
        placed for another card is refused (a clearing settles its own card's hold)."""
        hold = transfers_repo.get(self.session, hold_id)
        if hold.phase is not Phase.PENDING:
            raise NotAHold(f"transfer {hold_id} is not a hold")
        if card_id is not None and hold.card_id != card_id:
            raise HoldOfAnotherCard(
                f"hold {hold_id} was placed for card {hold.card_id}, not card {card_id}",
                hold_id=hold_id,
                card_id=card_id,
            )
        if transfers_repo.resolution_of(self.session, hold_id) is not None:
            return None
        return hold

    def _open_hold(self, hold_id: int) -> Transfer:
        hold = self._hold_if_open(hold_id)
        if hold is None:
            raise HoldAlreadyResolved(f"hold {hold_id} was already posted, voided or expired")
        return hold

    def _settle_hold(self, hold: Transfer, amount: int) -> list[TransferSpec]:
        """Post the hold for ``amount``; anything above the hold is a settled excess."""
        posted = min(amount, hold.amount)
        specs = [
            TransferSpec(
                hold.debit_account_id,
                hold.credit_account_id,
                posted,
                hold.code,
                phase=Phase.POST_PENDING,
                pending_id=hold.id,
                pending_amount=hold.amount,
                card_id=hold.card_id,
                merchant_name=hold.merchant_name,
                mcc=hold.mcc,
                category=hold.category,
            )
        ]
        if amount > hold.amount:
            specs += self.settled_debit_specs(
                _spend(
                    hold.debit_account_id,
                    hold.credit_account_id,
                    amount - hold.amount,
                    hold.code,
                    hold.card_id,
                    hold.merchant_name,
                    hold.mcc,
                    hold.category,
                    None,
                )
            )
        return specs

    def _release(
        self,
        hold_id: int,
        code: TransferCode,
        *,
        source: str,
        key: str,
        effective_at: datetime | None,
    ) -> list[TransferRecord]:
        def build() -> list[TransferSpec]:
            hold = self._open_hold(hold_id)
            return [
                TransferSpec(
                    hold.debit_account_id,
                    hold.credit_account_id,
                    hold.amount,
                    code,
                    phase=Phase.VOID_PENDING,
                    pending_id=hold.id,
                    pending_amount=hold.amount,
                    card_id=hold.card_id,
                    merchant_name=hold.merchant_name,
                    mcc=hold.mcc,
                    category=hold.category,
                )
            ]

        return self._post(
            {"op": code.value, "hold": hold_id},
            build,
            source=source,
            key=key,
            effective_at=effective_at,
        )


def _spend(
    debit: int,
    credit: int,
    amount: int,
    code: TransferCode,
    card_id: int | None,
    merchant_name: str | None,
    mcc: str | None,
    category: str | None,
    inbound_event_id: int | None,
) -> TransferSpec:
    return TransferSpec(
        debit,
        credit,
        amount,
        code,
        card_id=card_id,
        merchant_name=merchant_name,
        mcc=mcc,
        category=category,
        inbound_event_id=inbound_event_id,
    )


def _result(decision: Row[Any]) -> AuthorisationResult:
    """The result of a decision already recorded (a row of ``_DECISION_COLUMNS``)."""
    return AuthorisationResult(
        authorisation_id=int(decision.id),
        approved=decision.decision is AuthorisationDecision.APPROVED,
        decline_reason=decision.decline_reason,
        hold_id=decision.hold_id,
    )

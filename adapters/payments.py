"""Card payments whose events arrive in any order.

A card payment is known by the provider's authorisation id. Each event about it
(authorisation, increment, advice, reversal, expiry, clearing, refund) is recorded once as
a *part*, under a key that the same fact always gets, whichever event brings it. After
each part, the payment's ledger holds are brought to what all the parts so far say should
be held:

    held = 0                                   once any clearing, full reversal, expiry
                                               or decline by the provider
    held = authorised + increments - reversed  otherwise (never below 0)

and a clearing settles against the payment's open hold (the largest; any others are
voided first), or is a force post when none is open. So every arrival order ends in the
same balances: a clearing before its authorisation is a force post and the late
authorisation is recorded but not held; a reversal before its hold means the hold is never
placed (or is voided on arrival); a hold the ledger could not place for want of funds is
tried again after each later event.

The provider has the last word on a real-time decision: its decline of a payment we
approved (our answer came too late, say) ends the hold like a full reversal, and its
approval of one we declined (a stand-in) holds what it approved.

Where funds fall short the provider's settlement is still recorded (the ledger debits the
shortfall to arrears), and the split between the budget and arrears then depends on when a
refund lands; the net position does not.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from adapters import keys
from adapters import mcc as mcc_codes
from adapters.authorisation import AuthorisationPolicy, Decision, PaymentRequest, decide
from adapters.canonical import CanonicalEvent, ClearingKind, EventKind
from adapters.models import (
    CardPayment,
    CardPaymentHold,
    CardPaymentPart,
    InboxStatus,
    PaymentPartKind,
)
from adapters.repositories import payments as payments_repo
from adapters.repositories.cards import CardRef
from ledger import postings
from ledger import settings as ledger_settings
from ledger.card_payments import CardPayments
from ledger.clock import Clock
from ledger.errors import InvalidRecord
from ledger.models import TransferCode
from ledger.models.accounts import AuthorisationDecision
from ledger.postings import TransferRecord

AUTH_PART = "auth"
# The provider's verdict when it differs from ours.
PROVIDER_DECLINE_PART = "provider_decline"
PROVIDER_APPROVAL_PART = "provider_approval"


@dataclass(frozen=True)
class Outcome:
    """What applying one event did, in the inbox's words."""

    status: InboxStatus
    detail: str | None = None
    decision: Decision | None = None


def part_for(event: CanonicalEvent) -> tuple[str, PaymentPartKind]:
    """The part key and kind an event records: the same fact always gets the same key
    (one that fits its column: ``adapters.keys``)."""
    key, kind = _part_for(event)
    return keys.fit(key), kind


def _part_for(event: CanonicalEvent) -> tuple[str, PaymentPartKind]:
    kind = event.kind
    if kind is EventKind.AUTHORISATION_REQUEST:
        if event.increment:
            return f"incr:{event.event_id}", PaymentPartKind.INCREMENT
        return AUTH_PART, PaymentPartKind.AUTHORISATION
    if kind is EventKind.AUTHORISATION_ADVICE:
        if event.absolute:
            return f"advice:{event.event_id}", PaymentPartKind.ADVICE
        return AUTH_PART, PaymentPartKind.AUTHORISATION
    if kind is EventKind.DECLINE:
        return PROVIDER_DECLINE_PART, PaymentPartKind.PROVIDER_DECLINE
    if kind is EventKind.INCREMENTAL_AUTHORISATION:
        return f"incr:{event.event_id}", PaymentPartKind.INCREMENT
    if kind is EventKind.REVERSAL:
        if event.full:
            return "full_reversal", PaymentPartKind.FULL_REVERSAL
        if event.absolute:
            return f"revtotal:{event.event_id}", PaymentPartKind.REVERSAL_TOTAL
        return f"rev:{event.event_id}", PaymentPartKind.REVERSAL
    if kind is EventKind.EXPIRY:
        return "expiry", PaymentPartKind.EXPIRY
    if kind is EventKind.CLEARING:
        return f"clr:{event.event_id}", PaymentPartKind.CLEARING
    if kind is EventKind.REFUND:
        return f"ref:{event.event_id}", PaymentPartKind.REFUND
    raise InvalidRecord(f"a {kind} event is not about a card payment")


_ENDS_HOLDING = frozenset(
    {
        PaymentPartKind.CLEARING,
        PaymentPartKind.FULL_REVERSAL,
        PaymentPartKind.EXPIRY,
        PaymentPartKind.PROVIDER_DECLINE,
    }
)


def desired_hold(parts: list[CardPaymentPart]) -> int:
    """What the parts so far say should be held for the payment (see the module doc)."""
    if any(p.kind in _ENDS_HOLDING for p in parts):
        return 0
    advices = [p for p in parts if p.kind is PaymentPartKind.ADVICE]
    if advices:
        base = max(advices, key=lambda p: (p.occurred_at, p.part_key)).amount
    else:
        base = sum(p.amount for p in parts if p.kind is PaymentPartKind.AUTHORISATION)
    authorised = base + sum(p.amount for p in parts if p.kind is PaymentPartKind.INCREMENT)
    totals = [p.amount for p in parts if p.kind is PaymentPartKind.REVERSAL_TOTAL]
    reversed_ = sum(p.amount for p in parts if p.kind is PaymentPartKind.REVERSAL)
    reversed_ += max(totals, default=0)
    return max(0, authorised - reversed_)


class CardPaymentEvents:
    """Applies card-payment events for one provider (flushes, never commits)."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        *,
        provider: str,
        policy: AuthorisationPolicy | None = None,
    ) -> None:
        self.session = session
        self.clock = clock
        self.provider = provider
        self.policy = policy or AuthorisationPolicy()
        self.ledger = CardPayments(session, clock, ledger_settings.from_environment())

    def apply(
        self, card: CardRef, event: CanonicalEvent, *, inbound_event_id: int | None, live: bool
    ) -> Outcome:
        if event.kind is EventKind.AUTHORISATION_REQUEST and not live:
            return Outcome(
                InboxStatus.IGNORED,
                "a real-time request replayed after its deadline: the provider's own outcome "
                "arrives as its own event",
            )
        if event.payment_id is None:
            return self._unlinked(card, event, inbound_event_id)
        payment, first = self._payment(card, event)
        part_key, part_kind = part_for(event)
        ours = None if first else payments_repo.part_kind(self.session, payment.id, AUTH_PART)
        if ours is PaymentPartKind.DECLINE:
            if event.kind is EventKind.DECLINE:
                return Outcome(InboxStatus.DUPLICATE, "the provider's decline agrees with ours")
            if part_key == AUTH_PART and event.kind is EventKind.AUTHORISATION_ADVICE:
                part_key = PROVIDER_APPROVAL_PART  # approved after all: hold what it says
        if not first and payments_repo.has_part(self.session, payment.id, part_key):
            return Outcome(InboxStatus.DUPLICATE, f"{event.kind} already recorded for this payment")

        if event.kind is EventKind.AUTHORISATION_REQUEST:
            return self._request(card, payment, event, part_key, part_kind, inbound_event_id, first)

        amount = event.amount
        if part_kind is PaymentPartKind.PROVIDER_DECLINE and ours is None:
            self._record_provider_decline(card, payment, event)
        self._add_part(payment, part_key, part_kind, amount, event, inbound_event_id)
        if part_kind is PaymentPartKind.CLEARING:
            detail = self._settle(card, payment, event, inbound_event_id)
        elif part_kind is PaymentPartKind.REFUND:
            self.ledger.refund(
                card.card_id,
                amount,
                source=self.provider,
                key=keys.ledger_key(event.event_id),
                merchant_name=event.merchant_name or payment.merchant_name,
                mcc=event.mcc or payment.mcc,
                category=_category(event.mcc or payment.mcc),
                effective_at=event.occurred_at,
                inbound_event_id=inbound_event_id,
            )
            detail = "refund credited"
        else:
            detail = f"{event.kind} recorded"
        held = self._converge(card, payment, part_key)
        return Outcome(InboxStatus.APPLIED, f"{detail}; held now {held}p")

    # -- the real-time decision ----------------------------------------------------------

    def _request(
        self,
        card: CardRef,
        payment: CardPayment,
        event: CanonicalEvent,
        part_key: str,
        part_kind: PaymentPartKind,
        inbound_event_id: int | None,
        first: bool,
    ) -> Outcome:
        decision = decide(
            self.session,
            self.clock,
            card,
            PaymentRequest(
                key=self._ledger_key(payment, part_key),
                amount=event.amount,
                currency=event.currency,
                merchant_name=event.merchant_name,
                mcc=event.mcc,
                cash=payment.cash,
            ),
            source=self.provider,
            policy=self.policy,
        )
        if decision.approved:
            self._add_part(payment, part_key, part_kind, event.amount, event, inbound_event_id)
            assert decision.hold_id is not None
            payments_repo.insert_hold(
                self.session, payment_id=payment.id, hold_id=decision.hold_id, amount=event.amount
            )
        else:
            self._add_part(
                payment, part_key, PaymentPartKind.DECLINE, event.amount, event, inbound_event_id
            )
        if not first:  # a payment's first part holds exactly what it says
            self._converge(card, payment, part_key)
        verdict = "approved" if decision.approved else f"declined: {decision.reason}"
        return Outcome(InboxStatus.APPLIED, verdict, decision)

    def _record_provider_decline(
        self, card: CardRef, payment: CardPayment, event: CanonicalEvent
    ) -> None:
        """Record a decline the provider made on its own, so monitoring sees it."""
        if event.amount <= 0:
            return
        self.ledger.authorise(
            card.card_id,
            event.amount,
            source=self.provider,
            key=self._ledger_key(payment, AUTH_PART),
            merchant_name=payment.merchant_name,
            mcc=payment.mcc,
            category=_category(payment.mcc),
            code=_code(payment.cash),
            policy_decline=f"provider:{event.reason or 'declined'}"[:64],
        )

    # -- bringing the holds to what the parts say ----------------------------------------

    def _converge(self, card: CardRef, payment: CardPayment, part_key: str) -> int:
        parts = payments_repo.parts(self.session, payment.id)
        desired = desired_hold(parts)
        holds = payments_repo.open_holds(self.session, payment.id)
        held = sum(h.amount for h in holds)
        if desired < held:
            expired = any(p.kind is PaymentPartKind.EXPIRY for p in parts)
            for hold in holds:
                self._release(payment, hold, expired)
            held = 0
        if desired > held:
            held += self._hold(card, payment, desired - held, part_key)
        return held

    def _hold(self, card: CardRef, payment: CardPayment, amount: int, part_key: str) -> int:
        result = self.ledger.authorise(
            card.card_id,
            amount,
            source=self.provider,
            key=keys.ledger_key(f"{payment.provider_payment_id}:hold:{part_key}"),
            merchant_name=payment.merchant_name,
            mcc=payment.mcc,
            category=_category(payment.mcc),
            code=_code(payment.cash),
        )
        if not result.approved or result.hold_id is None:
            return 0
        if not payments_repo.hold_known(self.session, result.hold_id):
            payments_repo.insert_hold(
                self.session, payment_id=payment.id, hold_id=result.hold_id, amount=amount
            )
        return amount

    def _release(self, payment: CardPayment, hold: CardPaymentHold, expired: bool) -> None:
        key = keys.ledger_key(f"{payment.provider_payment_id}:release:{hold.hold_id}")
        if expired:
            self.ledger.expire_hold(hold.hold_id, source=self.provider, key=key)
        else:
            self.ledger.void_hold(hold.hold_id, source=self.provider, key=key)

    def _settle(
        self,
        card: CardRef,
        payment: CardPayment,
        event: CanonicalEvent,
        inbound_event_id: int | None,
    ) -> str:
        holds = payments_repo.open_holds(self.session, payment.id)
        for other in holds[1:]:
            self._release(payment, other, expired=False)
        against = holds[0] if holds else None
        self.ledger.record_clearing(
            card.card_id,
            event.amount,
            source=self.provider,
            key=keys.ledger_key(event.event_id),
            hold_id=against.hold_id if against else None,
            merchant_name=event.merchant_name or payment.merchant_name,
            mcc=event.mcc or payment.mcc,
            category=_category(event.mcc or payment.mcc),
            code=_code(payment.cash),
            inbound_event_id=inbound_event_id,
            effective_at=event.occurred_at,
        )
        if against is None:
            kind = ClearingKind.FORCE_POST
        elif event.amount == against.amount:
            kind = ClearingKind.FULL
        elif event.amount < against.amount:
            kind = ClearingKind.PARTIAL
        else:
            kind = ClearingKind.OVER
        hold_text = f" of a {against.amount}p hold" if against else ""
        return f"clearing ({kind}) {event.amount}p{hold_text}"

    # -- without an authorisation --------------------------------------------------------

    def _unlinked(
        self, card: CardRef, event: CanonicalEvent, inbound_event_id: int | None
    ) -> Outcome:
        """A clearing or refund the provider did not link to an authorisation."""
        before = postings.lock_head(self.session).head_id
        records: list[TransferRecord]
        if event.kind is EventKind.CLEARING:
            records = self.ledger.record_clearing(
                card.card_id,
                event.amount,
                source=self.provider,
                key=keys.ledger_key(event.event_id),
                merchant_name=event.merchant_name,
                mcc=event.mcc,
                category=_category(event.mcc),
                code=_code(event.cash or mcc_codes.is_cash(event.mcc)),
                inbound_event_id=inbound_event_id,
                effective_at=event.occurred_at,
            )
            detail = f"clearing ({ClearingKind.FORCE_POST}) {event.amount}p"
        elif event.kind is EventKind.REFUND:
            records = self.ledger.refund(
                card.card_id,
                event.amount,
                source=self.provider,
                key=keys.ledger_key(event.event_id),
                merchant_name=event.merchant_name,
                mcc=event.mcc,
                category=_category(event.mcc),
                effective_at=event.occurred_at,
                inbound_event_id=inbound_event_id,
            )
            detail = f"refund {event.amount}p"
        else:
            raise InvalidRecord(f"a {event.kind} needs the payment_id of its authorisation")
        if all(r.id <= before for r in records):
            return Outcome(InboxStatus.DUPLICATE, f"{detail} was already recorded")
        return Outcome(InboxStatus.APPLIED, detail)

    # -- records -------------------------------------------------------------------------

    def _payment(self, card: CardRef, event: CanonicalEvent) -> tuple[CardPayment, bool]:
        """The payment the event is about, and whether this event is its first."""
        assert event.payment_id is not None
        payment_id = keys.fit(event.payment_id)
        # A real-time request that is not an increment is almost always a payment's first
        # event: try the insert first (one statement; a known payment costs one more).
        first_likely = event.kind is EventKind.AUTHORISATION_REQUEST and not event.increment
        payment = (
            None if first_likely else payments_repo.find(self.session, self.provider, payment_id)
        )
        if payment is None:
            created = payments_repo.insert_payment(
                self.session,
                {
                    "provider": self.provider,
                    "provider_payment_id": payment_id,
                    "card_id": card.card_id,
                    "cash": event.cash or mcc_codes.is_cash(event.mcc),
                    "merchant_name": event.merchant_name,
                    "mcc": event.mcc,
                    "merchant_amount": event.merchant_amount,
                    "merchant_currency": event.merchant_currency,
                    "created_at": self.clock.now(),
                },
            )
            if created is not None:
                return created, True  # written from this event: nothing to update
            # Stored already (by another worker, that we waited for, or before).
            payment = payments_repo.find(self.session, self.provider, payment_id)
            assert payment is not None
        if payment.card_id != card.card_id:
            raise InvalidRecord(
                f"payment {event.payment_id} belongs to another card",
                payment_id=event.payment_id,
            )
        if payment.merchant_name is None and event.merchant_name:
            payment.merchant_name = event.merchant_name
        if payment.mcc is None and event.mcc:
            payment.mcc = event.mcc
            payment.cash = payment.cash or mcc_codes.is_cash(event.mcc)
        # What the merchant finally charged (a clearing) replaces what it asked for; money
        # back (a refund) is not the payment's figure.
        if (
            event.merchant_amount is not None
            and event.merchant_currency
            and event.kind is not EventKind.REFUND
            and (payment.merchant_amount is None or event.kind is EventKind.CLEARING)
        ):
            payment.merchant_amount = event.merchant_amount
            payment.merchant_currency = event.merchant_currency
        return payment, False

    def _add_part(
        self,
        payment: CardPayment,
        part_key: str,
        kind: PaymentPartKind,
        amount: int,
        event: CanonicalEvent,
        inbound_event_id: int | None,
    ) -> None:
        payments_repo.insert_part(
            self.session,
            payment_id=payment.id,
            part_key=part_key,
            kind=kind,
            amount=amount,
            occurred_at=event.occurred_at,
            inbound_event_id=inbound_event_id,
        )

    @staticmethod
    def _ledger_key(payment: CardPayment, part_key: str) -> str:
        if part_key == AUTH_PART:
            return keys.ledger_key(payment.provider_payment_id)
        return keys.ledger_key(f"{payment.provider_payment_id}:{part_key}")


def recorded_decision(session: Session, provider: str, event: CanonicalEvent) -> Decision | None:
    """The decision recorded for a real-time request, whichever delivery made it; None
    when none was made (the request was not decided, or was found too late)."""
    if event.kind is not EventKind.AUTHORISATION_REQUEST or event.payment_id is None:
        return None
    payment = payments_repo.find(session, provider, keys.fit(event.payment_id))
    if payment is None:
        return None
    key = CardPaymentEvents._ledger_key(payment, part_for(event)[0])
    found = payments_repo.authorisation(session, provider, key)
    if found is None:
        return None
    return Decision(
        approved=found.decision is AuthorisationDecision.APPROVED,
        amount=found.amount,
        reason=found.decline_reason,
        hold_id=found.hold_id,
        authorisation_id=found.id,
    )


def _category(mcc: str | None) -> str | None:
    category = mcc_codes.plan_category(mcc)
    return category.value if category is not None else None


def _code(cash: bool) -> TransferCode:
    return TransferCode.CASH_WITHDRAWAL if cash else TransferCode.CARD_SPEND

"""Applying a canonical event to the ledger, through the ledger's service API.

Idempotency: the source is the provider, the key the provider's id for the thing the event
reports (fitted to the ledger's key column, ``adapters.keys.ledger_key``), so the same
fact arriving twice (another delivery, another event type, a statement line) has one
effect. Outcomes: applied, duplicate (its effect was already there), ignored (nothing for
us to do, recorded with why). What cannot be applied raises a ``DomainError``; the inbox
parks the event with it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from adapters import keys
from adapters.authorisation import AuthorisationPolicy
from adapters.canonical import (
    BANK_PAYMENT_CODES,
    CARD_PAYMENT_KINDS,
    CanonicalEvent,
    EventKind,
    check_event,
)
from adapters.errors import (
    CardStatusMismatch,
    CurrencyNotSupported,
    MalformedPayload,
    NotSupported,
    UnknownCard,
)
from adapters.models import InboxStatus
from adapters.payments import CardPaymentEvents, Outcome
from adapters.repositories import cards as cards_repo
from adapters.repositories import commands as commands_repo
from adapters.repositories.cards import CardRef
from ledger import postings
from ledger import settings as ledger_settings
from ledger.card_payments import CardPayments
from ledger.clock import Clock
from ledger.ports import CardCommand
from ledger.postings import TransferRecord

CardResolver = Callable[[str], CardRef | None]

# Events that decide or report rather than move settled money: a foreign billing
# currency is answered (declined) or recorded, not refused.
_CURRENCY_FREE = frozenset(
    {EventKind.AUTHORISATION_REQUEST, EventKind.DECLINE, EventKind.CARD_STATUS}
)

# A provider's load or unload may echo one of our commands (its reference is our key).
_ECHO_COMMANDS = {EventKind.LOAD: CardCommand.LOAD, EventKind.UNLOAD: CardCommand.UNLOAD}


class EventApplier:
    """Applies canonical events from one provider. Flushes, never commits."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        *,
        provider: str,
        policy: AuthorisationPolicy | None = None,
        cards: CardResolver | None = None,
    ) -> None:
        self.session = session
        self.clock = clock
        self.provider = provider
        self.ledger = CardPayments(session, clock, ledger_settings.from_environment())
        self.payments = CardPaymentEvents(session, clock, provider=provider, policy=policy)
        self._resolve = cards or (lambda token: cards_repo.card_ref(session, provider, token))
        # (card id, command, reference) that ``prepare`` found are not echoes of ours.
        self._not_ours: set[tuple[int, str, str]] = set()

    def prepare(self, events: Sequence[CanonicalEvent]) -> None:
        """Read ahead, in a few statements, what applying these events would otherwise
        read one at a time: the accounts of their cards (with arrears and the council's
        accounts), whether their idempotency keys are used, and whether their loads and
        unloads echo our own commands. Applying them afterwards (in this transaction, in
        any order, any of them) gives the same outcomes, with fewer statements.
        """
        cards = {}
        for event in events:
            card = self._resolve(event.card_token)
            if card is not None:
                cards[card.card_id] = card
        if not cards:
            return
        postings.prefetch_cards(self.session, sorted(cards))
        budgets = sorted({card.budget_account_id for card in cards.values()})
        postings.prefetch_accounts(self.session, budgets)
        postings.prefetch_arrears(self.session, budgets)
        postings.prefetch_keys(
            self.session, self.provider, [keys.ledger_key(e.event_id) for e in events]
        )
        echoes = set()
        for event in events:
            card = self._resolve(event.card_token)
            if card is not None and event.reference and event.kind in _ECHO_COMMANDS:
                echoes.add((card.card_id, _ECHO_COMMANDS[event.kind].value, event.reference))
        if echoes:
            self._not_ours |= echoes - commands_repo.sent_among(self.session, echoes)

    def apply(
        self, event: CanonicalEvent, *, inbound_event_id: int | None = None, live: bool = False
    ) -> Outcome:
        """Apply ``event``. ``live`` is true only while the provider waits for a real-time
        answer; a request applied later is recorded as ignored (its deadline has passed)."""
        problems = check_event(event)
        if problems:
            raise MalformedPayload("; ".join(problems))
        card = self._resolve(event.card_token)
        if card is None:
            raise UnknownCard(
                f"no {self.provider} card with token {event.card_token!r}",
                token=event.card_token,
            )
        if event.currency != "GBP" and event.kind not in _CURRENCY_FREE:
            raise CurrencyNotSupported(
                f"the card account is billed in {event.currency}; only GBP accounts are kept"
            )
        if event.kind in CARD_PAYMENT_KINDS:
            return self.payments.apply(card, event, inbound_event_id=inbound_event_id, live=live)
        if event.kind is EventKind.CARD_STATUS:
            return self._card_status(card, event)
        if event.kind in (EventKind.LOAD, EventKind.UNLOAD):
            confirmed = self._confirms_our_command(card, event, inbound_event_id)
            if confirmed is not None:
                return confirmed
        return self._money(card, event, inbound_event_id)

    def _money(self, card: CardRef, event: CanonicalEvent, inbound_event_id: int | None) -> Outcome:
        before = postings.lock_head(self.session).head_id
        common: dict[str, str] = {"source": self.provider, "key": keys.ledger_key(event.event_id)}
        records: list[TransferRecord]
        if event.kind is EventKind.LOAD:
            records = self._load(card, event, inbound_event_id)
        elif event.kind is EventKind.CONTRIBUTION:
            records = self.ledger.receive_contribution(
                card.budget_account_id,
                event.amount,
                reference=event.reference,
                effective_at=event.occurred_at,
                inbound_event_id=inbound_event_id,
                **common,
            )
        elif event.kind in BANK_PAYMENT_CODES:
            assert event.payee is not None
            records = self.ledger.record_bank_payment(
                card.account_id,
                event.amount,
                method=BANK_PAYMENT_CODES[event.kind],
                payee=event.payee,
                reference=event.reference,
                effective_at=event.occurred_at,
                inbound_event_id=inbound_event_id,
                **common,
            )
        elif event.kind is EventKind.FEE:
            records = self.ledger.charge_fee(
                card.account_id,
                event.amount,
                reference=event.reference,
                effective_at=event.occurred_at,
                inbound_event_id=inbound_event_id,
                **common,
            )
        elif event.kind is EventKind.UNLOAD:
            if card.pot_id is not None:
                raise NotSupported(
                    "an unload from a companion card: release the pot to the budget first"
                )
            records = self.ledger.clawback(
                card.budget_account_id,
                event.amount,
                source=self.provider,
                key=common["key"],
                reference=event.reference,
                effective_at=event.occurred_at,
            )
        else:
            raise NotSupported(f"{event.kind} events are not applied to the ledger")
        if all(r.id <= before for r in records):
            return Outcome(InboxStatus.DUPLICATE, f"{event.kind} was already recorded")
        return Outcome(InboxStatus.APPLIED, f"{event.kind} {event.amount}p")

    def _load(
        self, card: CardRef, event: CanonicalEvent, inbound_event_id: int | None
    ) -> list[TransferRecord]:
        top_ups = {card.pot_id: event.amount} if card.pot_id is not None else None
        return self.ledger.load(
            card.budget_account_id,
            event.amount,
            source=self.provider,
            key=keys.ledger_key(event.event_id),
            emergency=event.emergency,
            pot_top_ups=top_ups,
            reference=event.reference,
            effective_at=event.occurred_at,
            inbound_event_id=inbound_event_id,
        )

    def _confirms_our_command(
        self, card: CardRef, event: CanonicalEvent, inbound_event_id: int | None
    ) -> Outcome | None:
        """A load or unload we asked for, echoed by the provider: already in the ledger."""
        if not event.reference:
            return None
        command = _ECHO_COMMANDS[event.kind]
        if (card.card_id, command.value, event.reference) in self._not_ours:
            return None
        sent = commands_repo.sent_for_card(
            self.session, card.card_id, command.value, event.reference
        )
        if sent is None:
            return None
        if sent.confirmed_by_event_id is None:
            sent.confirmed_by_event_id = inbound_event_id
        return Outcome(
            InboxStatus.DUPLICATE, f"confirms our {command} command {sent.idempotency_key!r}"
        )

    def _card_status(self, card: CardRef, event: CanonicalEvent) -> Outcome:
        assert event.card_status is not None
        if event.card_status is card.status:
            return Outcome(InboxStatus.APPLIED, f"card status {card.status} agrees")
        raise CardStatusMismatch(
            f"the provider reports the card {event.card_status}; the ledger has it "
            f"{card.status}: an officer should act (or ask the provider)",
            provider_status=event.card_status.value,
            ledger_status=card.status.value,
        )

"""Provider events as the generator plans them: canonical events (what a card provider
reports) with their effect on the provider's balances. Ids come from one counter, so the
same population gets the same ids."""

from __future__ import annotations

from datetime import datetime, timedelta

from adapters.canonical import CanonicalEvent, EventKind
from portal.population.book import Effect, Planned
from portal.population.catalogue import Merchant
from portal.population.enrol import BudgetSim
from portal.population.roster import CardDraft


class Events:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix.lower()
        self.seq = 0

    def _id(self) -> tuple[int, str]:
        self.seq += 1
        return self.seq, f"{self.prefix}-{self.seq:09d}"

    def _planned(
        self,
        sim: BudgetSim,
        at: datetime,
        kind: EventKind,
        card: CardDraft,
        account: int,
        effect: Effect,
        amount: int,
        plant: str | None = None,
        **fields: object,
    ) -> Planned:
        seq, event_id = self._id()
        event = CanonicalEvent(
            kind=kind,
            event_id=event_id,
            occurred_at=at,
            card_token=card.token,
            amount=amount,
            **fields,  # type: ignore[arg-type]
        )
        return Planned(at, seq, event, account, effect, sim.case.index, plant)

    def spend(
        self,
        sim: BudgetSim,
        card: CardDraft,
        at: datetime,
        merchant: Merchant,
        amount: int,
        plant: str | None = None,
    ) -> Planned:
        """A card payment (or cash) the provider settled and reports."""
        return self._planned(
            sim,
            at,
            EventKind.CLEARING,
            card,
            sim.account_of(card),
            Effect.DEBIT,
            amount,
            plant,
            merchant_name=merchant.name,
            mcc=merchant.mcc,
            cash=merchant.mcc in ("6010", "6011"),
        )

    def held_spend(
        self,
        sim: BudgetSim,
        card: CardDraft,
        at: datetime,
        merchant: Merchant,
        amount: int,
        *,
        reversed_: bool,
    ) -> list[Planned]:
        """An authorisation (the provider's advice) and, later, its clearing or reversal."""
        _, payment_id = self._id()
        account = sim.account_of(card)
        common = {"merchant_name": merchant.name, "mcc": merchant.mcc, "payment_id": payment_id}
        advice = self._planned(
            sim, at, EventKind.AUTHORISATION_ADVICE, card, account, Effect.HOLD, amount, **common
        )
        if reversed_:
            later = self._planned(
                sim,
                at + timedelta(hours=3),
                EventKind.REVERSAL,
                card,
                account,
                Effect.RELEASE,
                amount,
                full=True,
                **common,
            )
        else:
            later = self._planned(
                sim,
                at + timedelta(days=1, hours=2),
                EventKind.CLEARING,
                card,
                account,
                Effect.SETTLE,
                amount,
                **common,
            )
        return [advice, later]

    def bank(
        self,
        sim: BudgetSim,
        at: datetime,
        kind: EventKind,
        payee: str,
        amount: int,
        reference: str,
        plant: str | None = None,
    ) -> Planned:
        return self._planned(
            sim,
            at,
            kind,
            sim.card,
            sim.budget,
            Effect.DEBIT,
            amount,
            plant,
            payee=payee,
            reference=reference,
        )

    def contribution(self, sim: BudgetSim, at: datetime, amount: int) -> Planned:
        return self._planned(
            sim,
            at,
            EventKind.CONTRIBUTION,
            sim.card,
            sim.budget,
            Effect.CREDIT,
            amount,
            reference="Client contribution",
        )

    def refund(
        self, sim: BudgetSim, card: CardDraft, at: datetime, merchant: Merchant, amount: int
    ) -> Planned:
        return self._planned(
            sim,
            at,
            EventKind.REFUND,
            card,
            sim.account_of(card),
            Effect.CREDIT,
            amount,
            merchant_name=merchant.name,
            mcc=merchant.mcc,
        )

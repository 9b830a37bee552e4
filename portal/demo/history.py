"""Ten weeks of the case studies' money, through the ledger's services: three 4-weekly
loads (with John's pot topped up from Vivian's), contributions, direct debits, standing
orders and Faster Payments to agencies, the care support worker, HMRC and an insurer,
card spending, John's cash withdrawals (the last four at around two in the morning), a
refund, Paul's holiday break, Greg's replacement care while Paul is away, Harry's organ
and headphones, and one payment still waiting to settle."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from ledger.card_payments import CardPayments
from ledger.clock import FixedClock
from ledger.models import TransferCode
from monitoring.dates import LONDON
from portal.demo.story import HAVEN, INSURER, Story

SOURCE = "demo"


class History:
    def __init__(self, ledger: CardPayments, clock: FixedClock, story: Story) -> None:
        self.ledger, self.clock, self.story = ledger, clock, story

    def spend(
        self,
        who: str,
        amount: int,
        merchant: str,
        mcc: str,
        key: str,
        code: TransferCode = TransferCode.CARD_SPEND,
    ) -> None:
        """A card payment approved in real time and settled."""
        result = self.ledger.authorise(
            self.story.cards[who].id,
            amount,
            source=SOURCE,
            key=f"auth-{key}",
            merchant_name=merchant,
            mcc=mcc,
            code=code,
        )
        if result.approved and result.hold_id is not None:
            self.ledger.post_hold(result.hold_id, amount, source=SOURCE, key=f"clear-{key}")

    def pay(
        self, who: str, amount: int, method: TransferCode, payee: str, key: str, **ref: str
    ) -> None:
        self.ledger.record_bank_payment(
            self.story.budgets[who].id,
            amount,
            method=method,
            payee=payee,
            source=SOURCE,
            key=key,
            **ref,  # type: ignore[arg-type]
        )


def play(ledger: CardPayments, clock: FixedClock, story: Story, start: datetime) -> None:
    """The ten weeks from ``start`` (midnight UTC on the plans' first day)."""
    h = History(ledger, clock, story)
    budgets, pot = story.budgets, story.pot
    for period in range(3):
        clock.current = start.replace(hour=6) + timedelta(weeks=4 * period)
        for key, budget in budgets.items():
            ledger.load(
                budget.id,
                story.per_period[key],
                source=SOURCE,
                key=f"load-{budget.id}-{period}",
                pot_top_ups={pot.id: 10000} if key == "vivian" else None,
                reference=f"4-weekly load {period + 1}",
            )
        clock.advance(days=2)
        for key, amount in (("greg", 8000), ("margaret", 12000)):
            ledger.receive_contribution(
                budgets[key].id, amount, source=SOURCE, key=f"contribution-{key}-{period}"
            )
        clock.advance(days=3)
        h.pay(
            "margaret",
            165000,
            TransferCode.DIRECT_DEBIT,
            "Brightwell Homecare Ltd",
            f"dd-margaret-{period}",
        )
        h.pay(
            "greg", 70000, TransferCode.STANDING_ORDER, "Oakfield Care Agency", f"so-greg-{period}"
        )
        breaks = "Visits while Barbara has a break"
        h.pay(
            "eleanor",
            48000,
            TransferCode.FASTER_PAYMENT,
            "Sarah Cole (PA)",
            f"fp-eleanor-{period}",
            reference=breaks,
        )
        h.pay(
            "eleanor",
            6400,
            TransferCode.FASTER_PAYMENT,
            "HMRC PAYE",
            f"paye-eleanor-{period}",
            reference="PAYE for Sarah Cole",
        )
        if period == 0:
            h.pay(
                "eleanor",
                9600,
                TransferCode.DIRECT_DEBIT,
                INSURER,
                "insurance-eleanor",
                reference="Employer's liability",
            )
        if period == 2:
            _john_at_night(h, clock, start.date() + timedelta(weeks=8))
        clock.advance(days=4)
        h.spend("vivian", 4500, "Riverside Day Centre", "8351", f"vivian-day-{period}")
        h.spend("vivian", 1850, "Town Taxis", "4121", f"vivian-taxi-{period}")
        h.spend("john", 3200, "Greenway Garden Centre", "5261", f"john-garden-{period}")
        if period < 2:
            h.spend(
                "john",
                4000,
                "Cash machine",
                "6011",
                f"john-cash-{period}",
                TransferCode.CASH_WITHDRAWAL,
            )
        h.spend("greg", 2499, "Boots Pharmacy", "5912", f"greg-pharmacy-{period}")
        h.spend("eleanor", 1575, "Wellbeing Hairdressers", "7230", f"eleanor-hair-{period}")

    clock.advance(days=2)
    h.spend("harry", 35999, "Music Makers", "5733", "harry-organ")
    h.spend("harry", 3000, "Music Makers", "5733", "harry-headphones")
    h.spend("paul", 27500, "Coast Breaks", "4722", "paul-holiday")
    away = clock.now().date() + timedelta(days=1)
    h.pay(
        "greg",
        18000,
        TransferCode.FASTER_PAYMENT,
        HAVEN,
        "replacement-care-greg",
        reference=f"While Paul is away, {away:%d %b} to {away + timedelta(days=3):%d %b}",
    )
    ledger.refund(
        story.cards["greg"].id,
        2499,
        source=SOURCE,
        key="refund-greg-pharmacy",
        merchant_name="Boots Pharmacy",
        mcc="5912",
    )
    # A payment still waiting to settle: a hold on Margaret's card.
    ledger.authorise(
        story.cards["margaret"].id,
        1250,
        source=SOURCE,
        key="auth-margaret-chemist",
        merchant_name="Lloyds Pharmacy",
        mcc="5912",
    )


def _john_at_night(h: History, clock: FixedClock, period_start: date) -> None:
    """John's cash this period: four withdrawals of £10 at around 2am, night after night
    (the same £40 a period as before, now at hours that raise a possible-abuse flag)."""
    resume = clock.current
    for night in range(4):
        day = period_start + timedelta(days=3 + night)
        clock.current = datetime.combine(day, time(2, 5 + 11 * night), LONDON).astimezone(UTC)
        h.spend(
            "john",
            1000,
            "Cash machine",
            "6011",
            f"john-night-cash-{night}",
            TransferCode.CASH_WITHDRAWAL,
        )
    clock.current = resume

"""A small demo population, built through the real services (never by writing rows).

Four carers and the people they care for, after the case studies in the national
guidance on carers: plans with lines, primary, carer's and companion cards, and ten
weeks of history (three 4-weekly loads, contributions, card spend, a direct debit, a
refund, a hold), so today falls in the middle of a plan period. Sign-ins for a holder,
a carer, a budget owner with a companion pot, a companion, two officers and an admin,
all with the same demo-only password.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.card_payments import CardPayments
from ledger.clock import FixedClock
from ledger.enrolment import Enrolment, PlanLineSpec
from ledger.models import Account, CardKind, Person, PlanCategory, PlanKind, TransferCode
from portal.auth import passwords
from portal.auth.users import create_user
from portal.models import Role

SOURCE = "demo"
# For the demo database only: printed by `dpledger demo load` and `make demo`.
DEMO_PASSWORD = "demo-only-password"  # noqa: S105
DEMO_SIGN_INS: tuple[tuple[str, Role, str | None, str], ...] = (
    ("margaret.hughes@example.org", Role.HOLDER, "DEMO-0003", "holder: Margaret's card"),
    ("harry.hughes@example.org", Role.HOLDER, "DEMO-0004", "carer: Harry's carer's card"),
    ("vivian.shaw@example.org", Role.HOLDER, "DEMO-0007", "holder: sees John's companion pot"),
    ("john.shaw@example.org", Role.HOLDER, "DEMO-0008", "companion: John's card and pot only"),
    ("officer@example.org", Role.OFFICER, None, "monitoring officer"),
    ("senior.officer@example.org", Role.SENIOR_OFFICER, None, "senior officer (approves)"),
    ("admin@example.org", Role.ADMIN, None, "admin: sign-in accounts"),
)


def demo_exists(session: Session) -> bool:
    return session.execute(select(Person.id).limit(1)).first() is not None


def load_demo(
    session: Session, today: date, *, password_hasher: PasswordHasher | None = None
) -> list[str]:
    """Create the demo people, their history up to ``today`` and their sign-ins.
    Returns a summary, sign-ins and the demo password included."""
    start = datetime.combine(today - timedelta(weeks=10), datetime.min.time(), UTC)
    clock = FixedClock(start.replace(hour=9))
    people = Enrolment(session, clock)
    ledger = CardPayments(session, clock)
    cards = 0

    def person(ref: str, name: str, born: date) -> Person:
        return people.register_person(ref, name, date_of_birth=born)

    def plan(
        who: Person,
        kind: PlanKind,
        budget: int,
        lines: list[PlanLineSpec],
        contribution: int = 0,
        cash: int = 0,
    ) -> Account:
        account = people.open_personal_budget(who)
        people.agree_plan(
            who,
            account,
            kind=kind,
            budget_per_period=budget,
            client_contribution_per_period=contribution,
            cash_allowance_per_period=cash,
            starts_on=start.date(),
            review_date=today + timedelta(weeks=26),
            lines=lines,
        )
        return account

    # Greg and his son Paul, a student carer.
    greg = person("DEMO-0001", "Greg Adams", date(1961, 3, 14))
    paul = person("DEMO-0002", "Paul Adams", date(2005, 6, 2))
    people.record_caring(paul, greg, "son", shares_household=True)
    greg_budget = plan(
        greg,
        PlanKind.CARE_AND_SUPPORT,
        96000,
        [
            PlanLineSpec(
                PlanCategory.AGENCY_CARE,
                "Homecare visits",
                72000,
                agreed_payees=("Oakfield Care Agency",),
            ),
            PlanLineSpec(
                PlanCategory.REPLACEMENT_CARE, "Replacement care while Paul is away", 24000
            ),
        ],
        contribution=8000,
    )
    paul_budget = plan(
        paul,
        PlanKind.CARER_SUPPORT,
        30000,
        [
            PlanLineSpec(
                PlanCategory.SHORT_BREAK,
                "A holiday break with friends",
                30000,
                merchant_categories=("4722",),
            ),
        ],
    )
    greg_card = people.issue_card(
        greg,
        kind=CardKind.PRIMARY,
        provider="simulated",
        provider_card_token="sim_greg",
        last4="4301",
        budget=greg_budget,
    )
    paul_card = people.issue_card(
        paul,
        kind=CardKind.CARER,
        provider="simulated",
        provider_card_token="sim_paul",
        last4="4302",
        budget=paul_budget,
    )

    # Margaret, who has dementia, and her husband Harry.
    margaret = person("DEMO-0003", "Margaret Hughes", date(1948, 11, 2))
    harry = person("DEMO-0004", "Harry Hughes", date(1946, 1, 20))
    people.record_caring(harry, margaret, "husband", shares_household=True)
    margaret_budget = plan(
        margaret,
        PlanKind.CARE_AND_SUPPORT,
        180000,
        [
            PlanLineSpec(
                PlanCategory.AGENCY_CARE,
                "Homecare three times a day",
                180000,
                agreed_payees=("Brightwell Homecare Ltd",),
            ),
        ],
        contribution=12000,
    )
    harry_budget = plan(
        harry,
        PlanKind.CARER_SUPPORT,
        40000,
        [
            PlanLineSpec(
                PlanCategory.WELLBEING,
                "An organ and headphones",
                40000,
                one_off=True,
                merchant_categories=("5733",),
            ),
        ],
    )
    margaret_card = people.issue_card(
        margaret,
        kind=CardKind.PRIMARY,
        provider="simulated",
        provider_card_token="sim_margaret",
        last4="4303",
        budget=margaret_budget,
    )
    harry_card = people.issue_card(
        harry,
        kind=CardKind.CARER,
        provider="simulated",
        provider_card_token="sim_harry",
        last4="4304",
        budget=harry_budget,
    )

    # Eleanor (93) and her daughter Barbara.
    eleanor = person("DEMO-0005", "Eleanor Price", date(1933, 2, 8))
    barbara = person("DEMO-0006", "Barbara Price", date(1957, 7, 30))
    people.record_caring(barbara, eleanor, "daughter", shares_household=False)
    eleanor_budget = plan(
        eleanor,
        PlanKind.CARE_AND_SUPPORT,
        64000,
        [
            PlanLineSpec(
                PlanCategory.PA_WAGES,
                "Care support worker for Barbara's breaks",
                56000,
                agreed_payees=("Sarah Cole (PA)",),
            ),
            PlanLineSpec(PlanCategory.HMRC_PAYE, "PAYE for the care support worker", 8000),
        ],
    )
    eleanor_card = people.issue_card(
        eleanor,
        kind=CardKind.PRIMARY,
        provider="simulated",
        provider_card_token="sim_eleanor",
        last4="4305",
        budget=eleanor_budget,
    )

    # Vivian (73) and her son John, who holds a companion card on her budget.
    vivian = person("DEMO-0007", "Vivian Shaw", date(1953, 9, 9))
    john = person("DEMO-0008", "John Shaw", date(1976, 4, 18))
    people.record_caring(john, vivian, "son", shares_household=True)
    vivian_budget = plan(
        vivian,
        PlanKind.CARE_AND_SUPPORT,
        88000,
        [
            PlanLineSpec(
                PlanCategory.DAY_ACTIVITY, "Day centre", 48000, merchant_categories=("8351",)
            ),
            PlanLineSpec(
                PlanCategory.TRANSPORT,
                "Taxis to the day centre",
                20000,
                merchant_categories=("4121",),
            ),
            PlanLineSpec(
                PlanCategory.WELLBEING,
                "Shopping and outings with John",
                20000,
                merchant_categories=("5261",),
            ),
        ],
        cash=5000,
    )
    pot = people.open_companion_pot(vivian, vivian_budget, john, "John's companion pot")
    vivian_card = people.issue_card(
        vivian,
        kind=CardKind.PRIMARY,
        provider="simulated",
        provider_card_token="sim_vivian",
        last4="4307",
        budget=vivian_budget,
    )
    john_card = people.issue_card(
        john,
        kind=CardKind.COMPANION,
        provider="simulated",
        provider_card_token="sim_john",
        last4="4308",
        pot=pot,
    )
    cards = 7

    budgets = [
        (greg_budget, 96000),
        (paul_budget, 30000),
        (margaret_budget, 180000),
        (harry_budget, 40000),
        (eleanor_budget, 64000),
        (vivian_budget, 88000),
    ]

    def spend(
        card_id: int,
        amount: int,
        merchant: str,
        mcc: str,
        key: str,
        code: TransferCode = TransferCode.CARD_SPEND,
    ) -> None:
        result = ledger.authorise(
            card_id,
            amount,
            source=SOURCE,
            key=f"auth-{key}",
            merchant_name=merchant,
            mcc=mcc,
            code=code,
        )
        if result.approved and result.hold_id is not None:
            ledger.post_hold(result.hold_id, amount, source=SOURCE, key=f"clear-{key}")

    for period in range(3):
        clock.current = start.replace(hour=6) + timedelta(weeks=4 * period)
        for budget, amount in budgets:
            top_ups = {pot.id: 10000} if budget.id == vivian_budget.id else None
            ledger.load(
                budget.id,
                amount,
                source=SOURCE,
                key=f"load-{budget.id}-{period}",
                pot_top_ups=top_ups,
                reference=f"4-weekly load {period + 1}",
            )
        clock.advance(days=2)
        ledger.receive_contribution(
            greg_budget.id, 8000, source=SOURCE, key=f"contribution-greg-{period}"
        )
        ledger.receive_contribution(
            margaret_budget.id, 12000, source=SOURCE, key=f"contribution-margaret-{period}"
        )
        clock.advance(days=3)
        ledger.record_bank_payment(
            margaret_budget.id,
            165000,
            method=TransferCode.DIRECT_DEBIT,
            payee="Brightwell Homecare Ltd",
            source=SOURCE,
            key=f"dd-margaret-{period}",
        )
        ledger.record_bank_payment(
            greg_budget.id,
            70000,
            method=TransferCode.STANDING_ORDER,
            payee="Oakfield Care Agency",
            source=SOURCE,
            key=f"so-greg-{period}",
        )
        ledger.record_bank_payment(
            eleanor_budget.id,
            52000,
            method=TransferCode.FASTER_PAYMENT,
            payee="Sarah Cole (PA)",
            source=SOURCE,
            key=f"fp-eleanor-{period}",
        )
        clock.advance(days=4)
        spend(vivian_card.id, 4500, "Riverside Day Centre", "8351", f"vivian-day-{period}")
        spend(vivian_card.id, 1850, "Town Taxis", "4121", f"vivian-taxi-{period}")
        spend(john_card.id, 3200, "Greenway Garden Centre", "5261", f"john-garden-{period}")
        spend(
            john_card.id,
            4000,
            "Cash machine",
            "6011",
            f"john-cash-{period}",
            TransferCode.CASH_WITHDRAWAL,
        )
        spend(greg_card.id, 2499, "Boots Pharmacy", "5912", f"greg-pharmacy-{period}")
        spend(eleanor_card.id, 1575, "Wellbeing Hairdressers", "7230", f"eleanor-hair-{period}")

    clock.advance(days=2)
    spend(harry_card.id, 38999, "Music Makers", "5733", "harry-organ")
    spend(paul_card.id, 27500, "Coast Breaks", "4722", "paul-holiday")
    ledger.refund(
        greg_card.id,
        2499,
        source=SOURCE,
        key="refund-greg-pharmacy",
        merchant_name="Boots Pharmacy",
        mcc="5912",
    )
    # A payment still waiting to settle: a hold on Margaret's card.
    ledger.authorise(
        margaret_card.id,
        1250,
        source=SOURCE,
        key="auth-margaret-chemist",
        merchant_name="Lloyds Pharmacy",
        mcc="5912",
    )
    hasher = password_hasher or passwords.hasher()
    summary = [f"{cards} cards for 8 people, with 10 weeks of history"]
    summary.append(f"sign-ins (password for all, demo only: {DEMO_PASSWORD}):")
    for email, role, person_ref, note in DEMO_SIGN_INS:
        create_user(
            session,
            clock,
            hasher,
            email=email,
            role=role,
            password=DEMO_PASSWORD,
            person_ref=person_ref,
        )
        summary.append(f"  {email:<29} {note}")
    return summary

"""The four case studies of the national guidance on carers, as named people with plans
and cards, built through the real services (never by writing rows):

- Paul (21, a student) cares for his father Greg. Paul's carer's budget pays for a
  holiday break with friends; Greg's plan includes replacement care while Paul is away.
- Harry cares for his wife Margaret, who has dementia and homecare three times a day.
  Harry's carer's budget buys an organ and headphones (a one-off wellbeing line).
- Barbara (69) cares for her mother Eleanor (93, dementia): a care support worker, whom
  Eleanor employs, visits so that Barbara can take short breaks.
- John (50) cares for his mother Vivian (73, dementia) and holds a companion card on a
  pot of her budget. His cash withdrawals late at night are for an officer to look at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ledger.enrolment import Enrolment, PlanLineSpec
from ledger.models import Account, Card, CardKind, CompanionPot, Person, PlanCategory, PlanKind

_C = PlanCategory
HAVEN = "Haven Replacement Care"
INSURER = "Markel Insurance"


@dataclass
class Story:
    """The case studies' budgets and cards, by the names the history uses."""

    budgets: dict[str, Account]  # "greg", "paul", "margaret", "harry", "eleanor", "vivian"
    cards: dict[str, Card]  # the same, and "john"
    pot: CompanionPot  # John's, on Vivian's budget
    per_period: dict[str, int]  # each budget's 4-weekly amount


def enrol_story(people: Enrolment, starts_on: date, review_on: date) -> Story:
    budgets: dict[str, Account] = {}
    cards: dict[str, Card] = {}
    per_period: dict[str, int] = {}

    def person(ref: str, name: str, born: date) -> Person:
        # Each has an email address on file, for the council's notices (the same address
        # as their demo sign-in, where they have one).
        email = name.lower().replace(" ", ".") + "@example.org"
        return people.register_person(ref, name, date_of_birth=born, email=email)

    def plan(
        key: str,
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
            starts_on=starts_on,
            review_date=review_on,
            lines=lines,
        )
        budgets[key], per_period[key] = account, budget
        return account

    def card(key: str, who: Person, kind: CardKind, last4: str, **on: object) -> None:
        cards[key] = people.issue_card(
            who,
            kind=kind,
            provider="simulated",
            provider_card_token=f"sim_{key}",
            last4=last4,
            **on,  # type: ignore[arg-type]
        )

    # Greg and his son Paul, a student carer.
    greg = person("DEMO-0001", "Greg Adams", date(1961, 3, 14))
    paul = person("DEMO-0002", "Paul Adams", date(2005, 6, 2))
    people.record_caring(paul, greg, "son", shares_household=True)
    homecare = PlanLineSpec(
        _C.AGENCY_CARE, "Homecare visits", 72000, agreed_payees=("Oakfield Care Agency",)
    )
    away = PlanLineSpec(
        _C.REPLACEMENT_CARE, "Replacement care while Paul is away", 24000, agreed_payees=(HAVEN,)
    )
    plan("greg", greg, PlanKind.CARE_AND_SUPPORT, 96000, [homecare, away], contribution=8000)
    holiday = PlanLineSpec(
        _C.SHORT_BREAK, "A holiday break with friends", 30000, merchant_categories=("4722",)
    )
    plan("paul", paul, PlanKind.CARER_SUPPORT, 30000, [holiday])
    card("greg", greg, CardKind.PRIMARY, "4301", budget=budgets["greg"])
    card("paul", paul, CardKind.CARER, "4302", budget=budgets["paul"])

    # Margaret, who has dementia, and her husband Harry.
    margaret = person("DEMO-0003", "Margaret Hughes", date(1948, 11, 2))
    harry = person("DEMO-0004", "Harry Hughes", date(1946, 1, 20))
    people.record_caring(harry, margaret, "husband", shares_household=True)
    visits = PlanLineSpec(
        _C.AGENCY_CARE,
        "Homecare three times a day",
        180000,
        agreed_payees=("Brightwell Homecare Ltd",),
    )
    plan("margaret", margaret, PlanKind.CARE_AND_SUPPORT, 180000, [visits], contribution=12000)
    organ = PlanLineSpec(
        _C.WELLBEING, "An organ and headphones", 40000, one_off=True, merchant_categories=("5733",)
    )
    plan("harry", harry, PlanKind.CARER_SUPPORT, 40000, [organ])
    card("margaret", margaret, CardKind.PRIMARY, "4303", budget=budgets["margaret"])
    card("harry", harry, CardKind.CARER, "4304", budget=budgets["harry"])

    # Eleanor (93) and her daughter Barbara, who does not live with her.
    eleanor = person("DEMO-0005", "Eleanor Price", date(1933, 2, 8))
    barbara = person("DEMO-0006", "Barbara Price", date(1957, 7, 30))
    people.record_caring(barbara, eleanor, "daughter", shares_household=False)
    worker = PlanLineSpec(
        _C.PA_WAGES,
        "Care support worker for Barbara's breaks",
        56000,
        agreed_payees=("Sarah Cole (PA)",),
    )
    paye = PlanLineSpec(
        _C.HMRC_PAYE, "PAYE for the care support worker", 8000, agreed_payees=("HMRC PAYE",)
    )
    insurance = PlanLineSpec(
        _C.EMPLOYERS_LIABILITY_INSURANCE,
        "Employer's liability insurance (yearly)",
        12000,
        one_off=True,
        agreed_payees=(INSURER,),
    )
    plan("eleanor", eleanor, PlanKind.CARE_AND_SUPPORT, 64000, [worker, paye, insurance])
    card("eleanor", eleanor, CardKind.PRIMARY, "4305", budget=budgets["eleanor"])

    # Vivian (73) and her son John, who holds a companion card on her budget.
    vivian = person("DEMO-0007", "Vivian Shaw", date(1953, 9, 9))
    john = person("DEMO-0008", "John Shaw", date(1976, 4, 18))
    people.record_caring(john, vivian, "son", shares_household=True)
    lines = [
        PlanLineSpec(_C.DAY_ACTIVITY, "Day centre", 48000, merchant_categories=("8351",)),
        PlanLineSpec(_C.TRANSPORT, "Taxis to the day centre", 20000, merchant_categories=("4121",)),
        PlanLineSpec(
            _C.WELLBEING,
            "Shopping and outings with John",
            20000,
            merchant_categories=("5261",),
        ),
    ]
    plan("vivian", vivian, PlanKind.CARE_AND_SUPPORT, 88000, lines, cash=5000)
    pot = people.open_companion_pot(vivian, budgets["vivian"], john, "John's companion pot")
    card("vivian", vivian, CardKind.PRIMARY, "4307", budget=budgets["vivian"])
    card("john", john, CardKind.COMPANION, "4308", pot=pot)
    return Story(budgets, cards, pot, per_period)


def story_dates(today: date) -> tuple[date, date]:
    """The plans start ten weeks before ``today`` (so today is in the middle of the
    third period) and are reviewed in half a year."""
    return today - timedelta(weeks=10), today + timedelta(weeks=26)

"""The demo tells the four case studies' stories, and the real monitors raise John's
late-night cash for an officer; ``dpledger demo load`` adds generated people and runs the
monitors once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.clock import FixedClock
from ledger.models import (
    Card,
    Person,
    Phase,
    Plan,
    PlanCategory,
    PlanLine,
    Transfer,
    TransferCode,
)
from monitoring.dates import LONDON
from monitoring.models import Flag, Severity
from monitoring.runner import run_all
from portal.auth import passwords
from portal.cli import main
from portal.config import TestConfig as WebConfig
from portal.demo import DEMO_SIGN_INS, load_demo, load_full_demo

NOW = datetime(2026, 4, 20, 10, 0, tzinfo=UTC)


@pytest.fixture()
def demo(session: Session) -> Session:
    load_demo(session, NOW.date(), password_hasher=passwords.hasher(WebConfig.ARGON2_PROFILE))
    session.flush()
    return session


def person(session: Session, ref: str) -> Person:
    return session.execute(select(Person).where(Person.council_reference == ref)).scalar_one()


def card(session: Session, last4: str) -> Card:
    return session.execute(select(Card).where(Card.last4 == last4)).scalar_one()


def paid_from(session: Session, account_id: int) -> list[Transfer]:
    """Settled payments from the account (a card payment's hold left out)."""
    return list(
        session.execute(
            select(Transfer)
            .where(
                Transfer.debit_account_id == account_id,
                Transfer.phase.in_([Phase.POSTED, Phase.POST_PENDING]),
            )
            .order_by(Transfer.id)
        ).scalars()
    )


def test_johns_late_night_cash_raises_a_possible_abuse_flag(demo: Session) -> None:
    run_all(demo, FixedClock(NOW), runner="test")
    john = card(demo, "4308")
    flags = demo.execute(select(Flag).where(Flag.monitor == "unusual_hours_cash")).scalars().all()
    assert [(f.subject_type, f.subject_id) for f in flags] == [("card", john.id)]
    flag = flags[0]
    assert flag.severity is Severity.HIGH
    assert flag.person_id == person(demo, "DEMO-0007").id  # on Vivian's budget
    assert "4 cash withdrawals" in flag.title
    night = [
        t
        for t in paid_from(demo, john.account_id)
        if t.code is TransferCode.CASH_WITHDRAWAL and t.effective_at.astimezone(LONDON).hour < 5
    ]
    assert len(night) == 4 and sum(t.amount for t in night) == 4000


def test_only_john_is_flagged_for_possible_abuse(demo: Session) -> None:
    results = run_all(demo, FixedClock(NOW), runner="test")
    abuse = {"rapid_drain", "household_payee", "pattern_change", "companion_share"}
    assert [r.monitor for r in results if r.monitor in abuse and r.hits] == []
    assert "employer_duties" not in {r.monitor for r in results if r.hits}  # Eleanor pays


def test_harrys_carers_budget_bought_an_organ_and_headphones(demo: Session) -> None:
    harry = card(demo, "4304")
    line = demo.execute(
        select(PlanLine).join(Plan).where(Plan.budget_account_id == harry.account_id)
    ).scalar_one()
    assert (line.category, line.one_off, line.description) == (
        PlanCategory.WELLBEING,
        True,
        "An organ and headphones",
    )
    bought = [(t.merchant_name, t.amount) for t in paid_from(demo, harry.account_id)]
    assert bought == [("Music Makers", 35999), ("Music Makers", 3000)]


def test_pauls_holiday_and_gregs_replacement_care_while_he_is_away(demo: Session) -> None:
    paul, greg = card(demo, "4302"), card(demo, "4301")
    holiday = [t for t in paid_from(demo, paul.account_id) if t.mcc == "4722"]
    assert [(t.merchant_name, t.amount) for t in holiday] == [("Coast Breaks", 27500)]
    lines = demo.execute(
        select(PlanLine).join(Plan).where(Plan.budget_account_id == greg.account_id)
    ).scalars()
    replacement = next(line for line in lines if line.category is PlanCategory.REPLACEMENT_CARE)
    cover = [t for t in paid_from(demo, greg.account_id) if t.payee in replacement.agreed_payees]
    assert len(cover) == 1 and cover[0].code is TransferCode.FASTER_PAYMENT
    assert cover[0].reference is not None and "Paul is away" in cover[0].reference
    assert cover[0].effective_at >= holiday[0].effective_at


def test_barbaras_breaks_while_the_care_support_worker_visits(demo: Session) -> None:
    eleanor = card(demo, "4305")
    worker = [t for t in paid_from(demo, eleanor.account_id) if t.payee == "Sarah Cole (PA)"]
    assert len(worker) == 3
    assert {t.reference for t in worker} == {"Visits while Barbara has a break"}
    barbara = person(demo, "DEMO-0006")
    assert demo.execute(select(Card).where(Card.holder_id == barbara.id)).first() is None


def test_the_full_demo_adds_generated_people_and_flags(
    engine: Engine, committed: sessionmaker[Session]
) -> None:
    lines = load_full_demo(
        committed,
        NOW.date(),
        people=12,
        seed=7,
        clock=FixedClock(NOW),
        password_hasher=passwords.hasher(WebConfig.ARGON2_PROFILE),
    )
    text = "\n".join(lines)
    assert "generated people and carers" in text and "the monitors ran once" in text
    assert all(email in text for email, *_ in DEMO_SIGN_INS)
    with committed() as session:
        generated = session.execute(
            select(func.count()).select_from(Person).where(Person.council_reference.like("GEN-%"))
        ).scalar_one()
        john = card(session, "4308")
        monitors = set(session.execute(select(Flag.monitor).distinct()).scalars())
        raised_on_john = session.execute(
            select(Flag.id).where(Flag.monitor == "unusual_hours_cash", Flag.subject_id == john.id)
        ).first()
    assert generated >= 12
    assert raised_on_john is not None
    assert len(monitors) > 8  # the generated people's planted cases too


def test_demo_load_from_the_command_line(
    engine: Engine, committed: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    result = CliRunner().invoke(main, ["demo", "load", "--people", "0"])
    assert result.exit_code == 0, result.output
    assert "demo-only-password" in result.output and "john.shaw@example.org" in result.output
    again = CliRunner().invoke(main, ["demo", "load", "--if-empty"])
    assert again.exit_code == 0 and "left as it is" in again.output
    refused = CliRunner().invoke(main, ["demo", "load"])
    assert refused.exit_code != 0 and "already has people" in refused.output

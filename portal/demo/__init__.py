"""The demo: four case studies from the national guidance on carers as named people
(``portal.demo.story``), ten weeks of their money (``portal.demo.history``), sign-ins for
each kind of user (``portal.demo.sign_ins``), and, for ``dpledger demo load``, a few
hundred generated people (``portal.population``) with the monitors run once, so the
officers' pages have a queue.

``load_demo`` builds the case studies alone, in the caller's transaction (the portal's
tests use it); ``load_full_demo`` builds everything, committing as it goes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger.card_payments import CardPayments
from ledger.clock import Clock, FixedClock, SystemClock
from ledger.db import unit_of_work
from ledger.enrolment import Enrolment
from ledger.models import Person
from monitoring.runner import run_all
from monitoring.settings import set_setting
from portal.demo.history import play
from portal.demo.sign_ins import DEMO_PASSWORD, DEMO_SIGN_INS, create_sign_ins
from portal.demo.story import enrol_story, story_dates
from portal.population import PopulationSpec, generate

__all__ = ["DEMO_PASSWORD", "DEMO_SIGN_INS", "demo_exists", "load_demo", "load_full_demo"]


def demo_exists(session: Session) -> bool:
    return session.execute(select(Person.id).limit(1)).first() is not None


DEMO_OFFICERS_MAILBOX = "monitoring.team@example.org"


def load_demo(
    session: Session, today: date, *, password_hasher: PasswordHasher | None = None
) -> list[str]:
    """Create the case studies, their history up to ``today`` and the sign-ins.
    Returns a summary, sign-ins and the demo password included."""
    starts_on, review_on = story_dates(today)
    start = datetime.combine(starts_on, datetime.min.time(), UTC)
    clock = FixedClock(start.replace(hour=9))
    story = enrol_story(Enrolment(session, clock), starts_on, review_on)
    play(CardPayments(session, clock), clock, story, start)
    # Officers' notifications (new flags, safeguarding) go to the team's mailbox.
    set_setting(
        session,
        clock,
        "officer_email",
        DEMO_OFFICERS_MAILBOX,
        officer="demo",
        reason="The demo council's monitoring team mailbox",
    )
    summary = [f"{len(story.cards)} cards for 8 people, with 10 weeks of history"]
    return summary + create_sign_ins(session, clock, password_hasher)


def load_full_demo(
    factory: sessionmaker[Session],
    today: date,
    *,
    people: int = 250,
    seed: int = 2026,
    clock: Clock | None = None,
    password_hasher: PasswordHasher | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[str]:
    """The case studies (one transaction), ``people`` generated people (a transaction a
    simulated day), and every monitor run once (one transaction) with ``clock``."""
    with unit_of_work(factory) as session:
        summary = load_demo(session, today, password_hasher=password_hasher)
    if people:
        spec = PopulationSpec(people=people, today=today, seed=seed)
        made = generate(factory, spec, progress=progress)
        summary.insert(
            1,
            f"{made.people:,} generated people and carers with {made.cards:,} cards and "
            f"{made.events:,} payments over {spec.months} months (seed {seed})",
        )
    with unit_of_work(factory) as session:
        results = run_all(session, clock or SystemClock(), runner="demo load")
    flags = sum(result.raised.new_flags for result in results)
    summary.insert(-len(DEMO_SIGN_INS) - 1, f"the monitors ran once and raised {flags:,} flags")
    return summary

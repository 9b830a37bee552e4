"""Flags: one open flag per subject and rule, severity only rises, triage with history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ledger.errors import InvalidRecord
from monitoring.errors import FlagClosed
from monitoring.flags import Hit, Triage, precision_by_monitor, raise_flags
from monitoring.models import (
    DismissReason,
    Disposition,
    Flag,
    FlagHistory,
    FlagStatus,
    Severity,
)
from monitoring.settings import MonitoringSettings

SETTINGS = MonitoringSettings()


def hit(key: str, severity: Severity = Severity.LOW, subject: int = 1, rule: str = "m.rule") -> Hit:
    return Hit(
        rule=rule,
        subject_type="plan",
        subject_id=subject,
        evidence_key=key,
        severity=severity,
        title=f"Hit {key}",
        explanation=f"Explanation {key}",
    )


def raise_(session, clock, *hits, monitor="m"):
    return raise_flags(session, clock, SETTINGS, monitor, list(hits))


def open_flags(session):
    return session.execute(select(Flag).where(Flag.open_key.is_not(None))).scalars().all()


def test_new_hits_on_an_open_flag_add_evidence_and_severity_never_falls(session, clock):
    first = raise_(session, clock, hit("a", Severity.MEDIUM))
    (flag,) = open_flags(session)
    due = flag.sla_due_at
    assert (first.new_flags, first.new_evidence) == (1, 1)
    clock.advance(hours=1)
    second = raise_(session, clock, hit("b", Severity.LOW), hit("c", Severity.CRITICAL))
    assert (second.new_flags, second.new_evidence, second.severity_raised) == (0, 2, 1)
    raise_(session, clock, hit("d", Severity.LOW))
    session.refresh(flag)
    assert flag.severity is Severity.CRITICAL and flag.hits == 4
    assert flag.sla_due_at < due  # a critical hit shortens the time to act
    assert raise_(session, clock, hit("a"), hit("d")).new_evidence == 0


def test_the_database_refuses_a_second_open_flag_for_the_same_subject_and_rule(session, clock):
    raise_(session, clock, hit("a"))
    (flag,) = open_flags(session)
    twin = Flag(**{c.key: getattr(flag, c.key) for c in Flag.__table__.columns if c.key != "id"})
    session.add(twin)
    with pytest.raises(IntegrityError), session.begin_nested():
        session.flush()


def test_after_a_flag_is_closed_old_evidence_stays_closed_and_new_evidence_opens_a_new_flag(
    session, clock
):
    raise_(session, clock, hit("a"))
    (flag,) = open_flags(session)
    Triage(session, clock).dismiss(
        flag.id, officer="o1", reason=DismissReason.EXPLAINED_BY_HOLDER, detail="Receipt seen"
    )
    assert raise_(session, clock, hit("a")).new_flags == 0
    assert raise_(session, clock, hit("b")).new_flags == 1
    assert len(open_flags(session)) == 1


def test_triage_steps_need_reasons_and_are_recorded_with_before_and_after(session, clock):
    raise_(session, clock, hit("a"))
    (flag,) = open_flags(session)
    triage = Triage(session, clock)
    with pytest.raises(InvalidRecord):
        triage.assign(flag.id, officer="o1", assignee="o2", reason=" ")
    triage.assign(flag.id, officer="o1", assignee="o2", reason="Knows the family")
    triage.start_review(flag.id, officer="o2", reason="Looking at statements")
    triage.add_note(flag.id, officer="o2", text="Called the holder")
    triage.mark_actioned(flag.id, officer="o2", reason="Holder agreed to repay")
    history = (
        session.execute(
            select(FlagHistory).where(FlagHistory.flag_id == flag.id).order_by(FlagHistory.id)
        )
        .scalars()
        .all()
    )
    assert [h.action for h in history] == [
        "raised",
        "assigned",
        "review_started",
        "note_added",
        "actioned",
    ]
    assert history[1].before == {"assignee": None} and history[1].after == {"assignee": "o2"}
    assert history[2].after == {"status": "in_review"}
    assert history[4].actor == "o2" and history[4].reason == "Holder agreed to repay"
    assert flag.status is FlagStatus.ACTIONED and flag.disposition is Disposition.CONFIRMED
    assert flag.open_key is None and flag.closed_by == "o2"
    with pytest.raises(FlagClosed):
        triage.assign(flag.id, officer="o1", assignee="o3", reason="Too late")


def test_a_snoozed_flag_leaves_the_queue_until_it_wakes(session, clock):
    raise_(session, clock, hit("a"), hit("b", subject=2))
    triage = Triage(session, clock)
    flag = open_flags(session)[0]
    with pytest.raises(InvalidRecord):
        triage.snooze(flag.id, officer="o1", until=clock.now(), reason="Past")
    triage.snooze(flag.id, officer="o1", until=clock.now() + timedelta(days=7), reason="Away")
    assert flag.id not in [f.id for f in triage.queue()]
    clock.advance(days=8)
    assert flag.id in [f.id for f in triage.queue()]


def test_the_queue_puts_the_most_severe_first(session, clock):
    raise_(session, clock, hit("a", Severity.LOW, 1), hit("b", Severity.CRITICAL, 2))
    raise_(session, clock, hit("c", Severity.MEDIUM, 3))
    assert [f.severity for f in Triage(session, clock).queue()] == [
        Severity.CRITICAL,
        Severity.MEDIUM,
        Severity.LOW,
    ]


def test_dismissal_needs_detail_and_feeds_precision_per_monitor(session, clock):
    raise_(session, clock, hit("a", subject=1), hit("b", subject=2), hit("c", subject=3))
    triage = Triage(session, clock)
    one, two, three = open_flags(session)
    with pytest.raises(InvalidRecord):
        triage.dismiss(one.id, officer="o1", reason=DismissReason.OTHER, detail="")
    triage.dismiss(one.id, officer="o1", reason=DismissReason.AGREED_IN_PLAN, detail="Line 2")
    triage.dismiss(two.id, officer="o1", reason=DismissReason.DUPLICATE, detail="Same as 3")
    triage.mark_actioned(three.id, officer="o1", reason="Repaid")
    (report,) = precision_by_monitor(session)
    assert (report.monitor, report.confirmed, report.not_confirmed) == ("m", 1, 1)
    assert report.precision == 0.5


def test_precision_can_be_counted_for_flags_closed_in_a_window(session, clock):
    raise_(session, clock, hit("a", subject=1), hit("b", subject=2), hit("c", subject=3))
    triage = Triage(session, clock)
    one, two, three = open_flags(session)
    triage.dismiss(one.id, officer="o1", reason=DismissReason.AGREED_IN_PLAN, detail="Line 2")
    clock.advance(days=3)
    window_start = clock.now()
    triage.mark_actioned(two.id, officer="o1", reason="Repaid")
    clock.advance(days=1)
    triage.mark_actioned(three.id, officer="o1", reason="Repaid")
    clock.advance(days=1)
    (inside,) = precision_by_monitor(
        session, closed_from=window_start, closed_before=window_start + timedelta(days=1)
    )
    assert (inside.confirmed, inside.not_confirmed) == (1, 0)
    (before,) = precision_by_monitor(session, closed_before=window_start)
    assert (before.confirmed, before.not_confirmed) == (0, 1)
    (everything,) = precision_by_monitor(session)
    assert (everything.confirmed, everything.not_confirmed) == (2, 1)


def test_keys_are_looked_up_across_chunks(session, clock, monkeypatch):
    from monitoring.repositories import flags as flags_repo

    monkeypatch.setattr(flags_repo, "CHUNK", 3)
    monkeypatch.setattr(flags_repo, "ARRAY_CHUNK", 3)
    first = raise_(session, clock, *(hit("a", subject=n) for n in range(10)))
    assert (first.new_flags, first.new_evidence) == (10, 10)
    again = raise_(session, clock, *(hit(k, subject=n) for n in range(10) for k in ("a", "b")))
    assert (again.new_flags, again.new_evidence) == (0, 10)  # only the "b" hits are new
    assert {f.hits for f in open_flags(session)} == {2}

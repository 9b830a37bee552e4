"""The notification outbox and its dispatcher; council settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from ledger.clock import FixedClock
from ledger.errors import InvalidRecord
from monitoring import advocacy
from monitoring.clawback import Clawbacks
from monitoring.models import (
    AuditEntry,
    ClawbackStatus,
    CouncilSetting,
    Notification,
    NotificationStatus,
)
from monitoring.notifications import MAX_ATTEMPTS, LogSender, Message, dispatch, enqueue
from monitoring.runner import run_monitor
from monitoring.scheduler import JobRunner, Lease, default_jobs
from monitoring.settings import load_settings, set_setting
from tests.monitoring.builders import START, World, at
from tests.monitoring.fakes import RecordingProvider, RecordingSender

TTL = timedelta(seconds=30)


def message(key="k", person_id=None, to=None):
    return Message(
        dedupe_key=key,
        audience="holder",
        subject="Subject",
        body="Body",
        cause="test",
        person_id=person_id,
        to_address=to,
    )


def outbox(session):
    return session.execute(select(Notification).order_by(Notification.id)).scalars().all()


def test_the_outbox_is_written_in_the_callers_transaction(session, clock):
    savepoint = session.begin_nested()
    enqueue(session, clock, [message(to="a@example.org")], officer_email=None)
    assert len(outbox(session)) == 1
    savepoint.rollback()
    assert outbox(session) == []


def test_a_message_is_queued_once_per_key(session, clock):
    enqueue(session, clock, [message(to="a@example.org")] * 2, officer_email=None)
    enqueue(session, clock, [message(to="a@example.org")], officer_email=None)
    assert len(outbox(session)) == 1


def test_dispatch_sends_retries_with_back_off_then_gives_up(session, clock):
    enqueue(session, clock, [message("a", to="a@example.org")], officer_email=None)
    sender = RecordingSender(fail_times=2)
    assert dispatch(session, clock, sender).retrying == 1
    (queued,) = outbox(session)
    assert queued.next_attempt_at == clock.now() + timedelta(minutes=1)
    assert dispatch(session, clock, sender).retrying == 0  # not due yet
    clock.advance(minutes=1)
    dispatch(session, clock, sender)
    clock.advance(minutes=2)
    assert dispatch(session, clock, sender).sent == 1
    assert queued.status is NotificationStatus.SENT and sender.sent[0][0] == "a@example.org"
    enqueue(session, clock, [message("b", to="b@example.org")], officer_email=None)
    always = RecordingSender(fail_times=100)
    for _ in range(MAX_ATTEMPTS):
        dispatch(session, clock, always)
        clock.advance(hours=2)
    assert outbox(session)[1].status is NotificationStatus.FAILED


def test_without_smtp_or_an_address_messages_are_logged(session, clock):
    enqueue(session, clock, [message("a", to="a@example.org"), message("b")], officer_email=None)
    result = dispatch(session, clock, LogSender())
    assert result.logged == 2
    assert {n.status for n in outbox(session)} == {NotificationStatus.LOGGED}


def test_a_council_setting_changes_a_threshold_and_is_audited(session, clock):
    world = World(session, clock)
    world.case(budget=40000, load=90000)
    clock.current = at(START + timedelta(days=1))
    assert run_monitor(session, clock, "surplus").hits == []  # 90000 - 20000 < 80000 kept
    settings = set_setting(session, clock, "surplus_weeks", 4, officer="lead", reason="Sefton")
    assert settings.surplus_weeks == 4 and load_settings(session).surplus_weeks == 4
    assert len(run_monitor(session, clock, "surplus").hits) == 1
    entry = session.execute(select(AuditEntry)).scalar_one()
    assert entry.after == {"key": "surplus_weeks", "value": 4} and entry.actor == "lead"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("no_such_setting", 1),
        ("surplus_weeks", "8"),
        ("surplus_weeks", -1),
        ("blocked_categories", "x"),
    ],
)
def test_settings_refuse_unknown_keys_and_wrong_types(session, clock, key, value):
    with pytest.raises(InvalidRecord):
        set_setting(session, clock, key, value, officer="lead", reason="r")


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("pattern_change_history_periods", 0, "must be from 1 to 26, not 0"),
        ("pattern_change_factor", 1, "must be from 2 to 100"),
        ("under_spend_percent", 150, "must be from 1 to 100"),
        ("unusual_hours_start", 24, "must be from 0 to 23"),
        ("unusual_hours_end", 0, "must start and end at different hours"),
        ("surplus_weeks", 0, "must be from 1 to 52"),
        ("clawback_response_days", 0, "must be from 1 to 90"),
        ("blocked_categories", ["gambling", "betting"], "betting is not a spend category"),
        ("blocked_categories", ["cash machines"], "cash machines is not a spend category"),
        ("sla_hours", {"urgent": 4}, "urgent is not a severity"),
        ("officer_email", "the team", "must be an email address"),
    ],
)
def test_settings_refuse_values_the_monitors_cannot_work_with(session, clock, key, value, says):
    with pytest.raises(InvalidRecord, match=says):
        set_setting(session, clock, key, value, officer="lead", reason="r")
    assert session.execute(select(AuditEntry)).first() is None  # nothing changed


def test_an_unsafe_value_stored_before_it_was_checked_is_ignored(session, clock):
    session.add(
        CouncilSetting(
            key="pattern_change_history_periods", value=0, updated_by="old", updated_at=clock.now()
        )
    )
    session.flush()
    assert load_settings(session).pattern_change_history_periods == 3
    assert run_monitor(session, clock, "pattern_change").hits == []


def test_an_unusual_hours_window_may_pass_midnight(session, clock):
    world = World(session, clock)
    case = world.case(load=100000, cash=100000)
    set_setting(session, clock, "unusual_hours_start", 22, officer="lead", reason="r")
    # 21:00 (not unusual), then 23:00, 00:00 and 04:00 London time (BST)
    for day, hour in ((1, 20), (2, 22), (3, 23), (4, 3)):
        world.cash(case.card, 1000, at(START + timedelta(days=day), hour))
    (hit,) = run_monitor(session, clock, "unusual_hours_cash").hits
    assert hit.figures["withdrawals"] == 3 and len(hit.transfer_ids) == 3


def test_real_time_blocks_may_be_named_too(session, clock):
    names = ["gambling", "cash", "quasi_cash"]  # the authorisation policy blocks these by MCC
    set_setting(session, clock, "blocked_categories", names, officer="lead", reason="r")
    assert load_settings(session).blocked_categories == tuple(names)


def test_blocked_categories_are_a_council_setting(session, clock):
    set_setting(session, clock, "blocked_categories", ["gambling"], officer="lead", reason="r")
    assert load_settings(session).blocked_categories == ("gambling",)


def test_under_the_scheduler_sent_messages_are_committed_every_few(committed):
    """A rollback later in the run (here: the lease lost) does not undo the status of the
    messages sent before the last commit point, so they are not sent again."""
    clock = FixedClock(datetime(2026, 4, 6, 9, 0, tzinfo=UTC))
    with committed() as session, session.begin():
        enqueue(
            session,
            clock,
            [message(f"m{n:02d}", to=f"p{n:02d}@example.org") for n in range(15)],
            officer_email=None,
        )
    a, b = (
        Lease(committed, clock, "A", TTL, database_time=False),
        Lease(committed, clock, "B", TTL, database_time=False),
    )
    assert a.renew()

    class StallingSender(RecordingSender):
        def send(self, to_address, subject, body):
            super().send(to_address, subject, body)
            if len(self.sent) == 13:  # A stalls past its lease (B takes over after)
                clock.advance(seconds=45)

    sender = StallingSender()
    (job,) = [
        j for j in default_jobs(lambda s: RecordingProvider(), sender) if j.name == "notifications"
    ]
    outcome = JobRunner(committed, clock, a).run(job)
    assert not outcome.ran and "rolled back" in outcome.detail
    assert b.renew()
    assert JobRunner(committed, clock, b).run(job).ran
    addresses = [to for to, _subject, _body in sender.sent]
    # The first ten were committed as sent: never sent again. The rest went at least once.
    assert [addresses.count(f"p{n:02d}@example.org") for n in range(10)] == [1] * 10
    assert all(addresses.count(f"p{n:02d}@example.org") >= 1 for n in range(10, 15))
    with committed() as session:
        assert {n.status for n in outbox(session)} == {NotificationStatus.SENT}


def test_the_notifications_job_opens_clawback_response_windows(session, clock):
    world = World(session, clock)
    case = world.case(budget=40000, load=200000, email="holder@example.org")
    claw = Clawbacks(session, clock, RecordingProvider())
    proposal = claw.propose(plan_id=case.plan.id, officer="o1", reason="Surplus")
    advocacy.record_need(
        session,
        clock,
        person_id=proposal.person_id,
        decision=f"clawback:{proposal.id}",
        substantial_difficulty=False,
        appropriate_person=True,
        officer="o1",
        reason="Manages their own affairs",
    )
    claw.approve(proposal.id, officer="o2", reason="OK")
    (job,) = [
        j
        for j in default_jobs(lambda s: RecordingProvider(), RecordingSender())
        if j.name == "notifications"
    ]
    assert job.work(session, clock).endswith("1 clawback response windows opened")
    assert proposal.status is ClawbackStatus.HOLDER_NOTIFIED and proposal.respond_by is not None

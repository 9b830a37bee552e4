"""Bulk inserts (COPY on PostgreSQL) store rows exactly as an ORM insert would: enums as
their stored strings, JSON documents (JSON null included), UTC times, NULLs."""

from __future__ import annotations

from sqlalchemy import select, text

from monitoring.flags import Hit, raise_flags
from monitoring.models import (
    Flag,
    FlagEvidence,
    FlagHistory,
    Notification,
    NotificationStatus,
    Severity,
)
from monitoring.repositories import bulk
from monitoring.settings import MonitoringSettings


def test_rows_read_back_as_the_orm_would_store_them(session, clock):
    hits = [
        Hit(
            rule="m.rule",
            subject_type="plan",
            subject_id=n,
            evidence_key=f"period:{n}",
            severity=Severity.HIGH,
            title=f"Hit «{n}» £1,000.00",
            explanation="Tab\tnew line\nback\\slash",
            figures={"surplus": 123_45, "nested": {"a": [1, None]}},
            transfer_ids=(7, 8),
        )
        for n in range(3)
    ]
    orm = raise_flags(session, clock, MonitoringSettings(), "m", hits[:1])  # one row
    copied = raise_flags(session, clock, MonitoringSettings(), "m", hits[1:])  # bulk either way
    session.expire_all()
    flags = session.execute(select(Flag).order_by(Flag.subject_id)).scalars().all()
    assert [f.severity for f in flags] == [Severity.HIGH] * 3
    assert flags[2].title == "Hit «2» £1,000.00"
    assert flags[2].sla_due_at == flags[0].sla_due_at  # same clock, same severity
    assert flags[2].raised_at.tzinfo is not None
    evidence = session.execute(select(FlagEvidence).order_by(FlagEvidence.id)).scalars().all()
    assert [e.figures for e in evidence] == [{"surplus": 123_45, "nested": {"a": [1, None]}}] * 3
    assert [e.transfer_ids for e in evidence] == [[7, 8]] * 3
    assert evidence[2].explanation == "Tab\tnew line\nback\\slash"
    assert evidence[2].plan_line_id is None
    history = session.execute(select(FlagHistory).order_by(FlagHistory.id)).scalars().all()
    assert history[0].after == history[2].after and history[2].after["status"] == "open"
    assert orm.new_flags == 1 and copied.new_flags == 2
    stored = session.execute(text("SELECT DISTINCT severity FROM flags")).scalars().all()
    assert stored == [Severity.HIGH.value]


def test_json_null_and_sql_null_are_kept_apart(session, clock):
    bulk.insert_rows(
        session,
        Notification,
        [
            {
                "dedupe_key": "k",
                "audience": "officer",
                "person_id": None,
                "to_address": None,
                "subject": "s",
                "body": "b",
                "cause": "c",
                "status": NotificationStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": clock.now(),
                "created_at": clock.now(),
            }
        ],
    )
    (row,) = session.execute(select(Notification)).scalars().all()
    assert row.to_address is None and row.person_id is None
    assert row.status is NotificationStatus.PENDING and row.next_attempt_at == clock.now()
    flag_id = raise_flags(
        session,
        clock,
        MonitoringSettings(),
        "m",
        [Hit("r", "plan", 1, "e", Severity.LOW, "t", "x")],
    ).flag_ids[0]
    bulk.insert_rows(
        session,
        FlagHistory,
        [
            {
                "flag_id": flag_id,
                "at": clock.now(),
                "actor": "a",
                "action": "x",
                "reason": None,
                "before": None,
                "after": {},
            }
        ],
    )
    entry = session.execute(select(FlagHistory).where(FlagHistory.action == "x")).scalar_one()
    assert entry.reason is None and entry.before is None and entry.after == {}


def test_what_the_session_holds_is_written_first(session, clock):
    from ledger.models import Person

    with session.no_autoflush:
        session.add(
            Person(id=987_654, council_reference="M-BULK", full_name="P", created_at=clock.now())
        )
        bulk.insert_rows(
            session,
            Notification,
            [
                {
                    "dedupe_key": "held",
                    "audience": "holder",
                    "person_id": 987_654,  # refers to the person not yet written
                    "to_address": None,
                    "subject": "s",
                    "body": "b",
                    "cause": "c",
                    "status": NotificationStatus.PENDING,
                    "attempts": 0,
                    "next_attempt_at": clock.now(),
                    "created_at": clock.now(),
                }
            ],
        )
    (row,) = session.execute(select(Notification)).scalars().all()
    assert row.person_id == 987_654

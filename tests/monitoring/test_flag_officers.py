"""Officers on flags are named by their sign-in email, up to 254 characters: assigned,
acting, writing notes and closing; and a dismissal's history keeps the reason chosen
from the list as well as the detail."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ledger.clock import FixedClock
from ledger.migrate import alembic_config
from monitoring.flags import Hit, Triage, raise_flags
from monitoring.models import DismissReason, Flag, FlagHistory, FlagNote, FlagStatus, Severity
from monitoring.settings import MonitoringSettings

# The longest address a sign-in may have (254 characters).
LONG_EMAIL = "o" * 64 + "@" + ("d" * 63 + ".") * 2 + "d" * 58 + ".uk"


def _flag(session: Session, clock: FixedClock, key: str = "a") -> int:
    hit = Hit(
        rule="m.rule", subject_type="plan", subject_id=1, evidence_key=key,
        severity=Severity.LOW, title="A hit", explanation="Why",
    )  # fmt: skip
    (flag_id,) = raise_flags(session, clock, MonitoringSettings(), "m", [hit]).flag_ids
    return flag_id


def test_the_columns_naming_officers_hold_a_whole_sign_in_email(engine: Engine) -> None:
    assert len(LONG_EMAIL) == 254
    columns = inspect(engine)
    widths = {
        (table, column["name"]): getattr(column["type"], "length", None)
        for table in ("flags", "flag_history", "flag_notes")
        for column in columns.get_columns(table)
    }
    assert widths[("flags", "assignee")] == 254
    assert widths[("flags", "closed_by")] == 254
    assert widths[("flag_history", "actor")] == 254
    assert widths[("flag_notes", "author")] == 254


def test_an_officer_with_a_long_email_triages_a_flag(session: Session, clock: FixedClock) -> None:
    flag_id = _flag(session, clock)
    triage = Triage(session, clock)
    triage.assign(flag_id, officer=LONG_EMAIL, assignee=LONG_EMAIL, reason="Mine")
    triage.start_review(flag_id, officer=LONG_EMAIL, reason="Looking")
    triage.add_note(flag_id, officer=LONG_EMAIL, text="Rang the holder")
    triage.dismiss(flag_id, officer=LONG_EMAIL, reason=DismissReason.OTHER, detail="Explained")
    session.expire_all()
    flag = session.get(Flag, flag_id)
    assert flag is not None
    assert (flag.assignee, flag.closed_by, flag.status) == (
        LONG_EMAIL, LONG_EMAIL, FlagStatus.DISMISSED,
    )  # fmt: skip
    actors = session.execute(
        select(FlagHistory.actor).where(FlagHistory.flag_id == flag_id, FlagHistory.id > 0)
    ).scalars()
    assert LONG_EMAIL in set(actors)
    (author,) = session.execute(select(FlagNote.author).where(FlagNote.flag_id == flag_id))
    assert author[0] == LONG_EMAIL


def test_a_dismissal_records_the_reason_from_the_list_and_the_detail(
    session: Session, clock: FixedClock
) -> None:
    flag_id = _flag(session, clock)
    Triage(session, clock).dismiss(
        flag_id, officer="o1", reason=DismissReason.AGREED_IN_PLAN, detail=" Line 2 covers it "
    )
    entry = session.execute(
        select(FlagHistory).where(FlagHistory.flag_id == flag_id, FlagHistory.action == "dismissed")
    ).scalar_one()
    assert entry.reason == "Line 2 covers it"  # the detail, as before
    assert entry.after["dismiss_reason"] == "agreed_in_plan"
    assert entry.before["dismiss_reason"] is None
    assert entry.after["status"] == "dismissed"
    flag = session.get(Flag, flag_id)
    assert flag is not None
    assert (flag.dismiss_reason, flag.dismiss_detail) == (
        DismissReason.AGREED_IN_PLAN, "Line 2 covers it",
    )  # fmt: skip


def test_other_steps_record_no_dismiss_reason(session: Session, clock: FixedClock) -> None:
    flag_id = _flag(session, clock)
    Triage(session, clock).mark_actioned(flag_id, officer="o1", reason="Repaid")
    entries = session.execute(select(FlagHistory).where(FlagHistory.flag_id == flag_id)).scalars()
    assert all(
        "dismiss_reason" not in e.after and "dismiss_reason" not in e.before for e in entries
    )


def _migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_migration_0018_keeps_flags_their_history_and_its_triggers(
    engine: Engine, committed: sessionmaker[Session]
) -> None:
    """From 0017 with a flag that other tables point at (its history and a note), to the
    head: on SQLite ``flags`` is not rebuilt (dropping it would orphan them), and the
    rebuilt ``flag_history`` refuses changes again."""
    _migrate(engine, "0017", down=True)
    try:
        clock = FixedClock()
        with committed() as session:
            flag_id = _flag(session, clock)
            triage = Triage(session, clock)
            triage.assign(flag_id, officer="o1", assignee="o2", reason="Yours")
            triage.add_note(flag_id, officer="o2", text="Noted")
            session.commit()
    finally:
        _migrate(engine, "head")
    with committed() as session:
        flag = session.get(Flag, flag_id)
        assert flag is not None and flag.assignee == "o2"
        assert len(session.execute(select(FlagHistory)).all()) == 3  # raised, assigned, note
        assert session.execute(select(FlagNote.author)).scalar_one() == "o2"
        with pytest.raises(IntegrityError, match="append-only"), session.begin_nested():
            session.execute(text("DELETE FROM flag_history"))
        if engine.dialect.name == "sqlite":
            assert session.execute(text("PRAGMA foreign_key_check")).all() == []
            indexes = {
                r[0]: r[1]
                for r in session.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'flags'")
                )
            }
            assert "WHERE open_key IS NOT NULL" in indexes["ix_flags_open_assignee_sla"]
            assert "ix_flags_status_assignee_sla" in indexes

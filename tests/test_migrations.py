"""Migrations: one line of history, a schema that is exactly what the models say, and the
append-only tables' triggers (which Alembic's comparison does not see)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger.card_payments import CardPayments
from ledger.clock import FixedClock
from ledger.db import Base
from ledger.migrate import alembic_config
from ledger.registry import load_all_models
from monitoring.audit import record_action
from monitoring.flags import Hit, Triage, raise_flags
from monitoring.models import Severity
from monitoring.settings import MonitoringSettings
from tests import factories
from tests.conftest import APPEND_ONLY_TABLES


def test_migrations_have_a_single_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"several heads, merge them: {sorted(heads)}"


def test_migrations_start_from_a_single_base() -> None:
    bases = ScriptDirectory.from_config(alembic_config()).get_bases()
    assert len(bases) == 1, f"several first revisions: {sorted(bases)}"


def test_migrated_database_matches_the_models(engine: Engine) -> None:
    """The test database was migrated to the head(s) by the ``engine`` fixture; the models
    and that schema agree column by column, type by type, index by index."""
    load_all_models()
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "compare_server_default": False},
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "\n".join(str(d) for d in differences)


# Migration 0012: the database refuses UPDATE and DELETE on the append-only tables.
APPEND_ONLY_TRIGGERS = {
    "postgresql": {f"{t}_{k}" for t in APPEND_ONLY_TABLES for k in ("append_only", "no_truncate")},
    "sqlite": {f"{t}_no_{k}" for t in APPEND_ONLY_TABLES for k in ("update", "delete")},
}


def test_the_append_only_triggers_are_there_at_the_head(engine: Engine) -> None:
    """A later batch migration that rebuilds one of these tables on SQLite drops its
    triggers: it must create them again, or this fails."""
    if engine.dialect.name == "postgresql":
        sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    with engine.connect() as connection:
        present = set(connection.execute(text(sql)).scalars())
    assert APPEND_ONLY_TRIGGERS[engine.dialect.name] <= present


def _append_only_row(session: Session, clock: FixedClock, table: str) -> int:
    """A row of the table, written the way the code writes it."""
    if table == "transfers":
        _, budget, _ = factories.budget_with_card(session, clock)
        (load,) = CardPayments(session, clock).load(budget.id, 500, source="t", key="k")
        return load.id
    if table == "audit_entries":
        entry = record_action(
            session, clock, actor="officer", action="note", subject_type="card",
            subject_id=1, reason="checking",
        )  # fmt: skip
        return entry.id
    hit = Hit(
        rule="m.rule", subject_type="card", subject_id=1, evidence_key="e",
        severity=Severity.LOW, title="A hit", explanation="Why",
    )  # fmt: skip
    (flag_id,) = raise_flags(session, clock, MonitoringSettings(), "m", [hit]).flag_ids
    Triage(session, clock).assign(flag_id, officer="officer", assignee="officer", reason="mine")
    return session.execute(
        text("SELECT max(id) FROM flag_history WHERE flag_id = :f"), {"f": flag_id}
    ).scalar_one()


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
@pytest.mark.parametrize(
    "change",
    [
        "UPDATE {table} SET id = id + 1000000 WHERE id = :id",
        "DELETE FROM {table} WHERE id = :id",
    ],
    ids=["update", "delete"],
)
def test_the_database_refuses_to_change_an_append_only_row(
    session: Session, clock: FixedClock, table: str, change: str
) -> None:
    row_id = _append_only_row(session, clock, table)
    with pytest.raises(IntegrityError, match="append-only"), session.begin_nested():
        session.execute(text(change.format(table=table)), {"id": row_id})
    found = session.execute(text(f"SELECT count(*) FROM {table} WHERE id = :id"), {"id": row_id})
    assert found.scalar_one() == 1

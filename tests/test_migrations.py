"""Migrations: one line of history, and a schema that is exactly what the models say."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from ledger.db import Base
from ledger.migrate import alembic_config
from ledger.registry import load_all_models


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

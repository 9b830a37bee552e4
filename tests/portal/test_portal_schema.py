"""The portal's models and its migration (0004) agree."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from ledger.db import Base

PORTAL_TABLES = {
    "users",
    "sign_in_attempts",
    "password_reset_tokens",
    "record_views",
    "api_clients",
    "api_idempotency_keys",
}


def test_the_portal_tables_are_the_portal_models() -> None:
    tables = {
        mapper.class_.__tablename__
        for mapper in Base.registry.mappers
        if mapper.class_.__module__ == "portal.models"
    }
    assert tables == PORTAL_TABLES


def test_portal_models_and_migration_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert [d for d in differences if PORTAL_TABLES & _names(d)] == []


def _names(difference: object) -> set[str]:
    found: set[str] = set()
    stack = [difference]
    while stack:
        item = stack.pop()
        if isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, str):
            found.add(item)
        else:
            table = getattr(item, "table", None)
            for name in (getattr(table, "name", None), getattr(item, "name", None)):
                if isinstance(name, str):
                    found.add(name)
    return found

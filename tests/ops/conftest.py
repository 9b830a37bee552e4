"""An app on the test's own connection (each test rolled back), with a clock tests set,
and logging put back as it was afterwards."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ledger import log_context
from ledger.clock import FixedClock
from portal.app import create_app
from portal.config import TestConfig


@dataclass
class Ops:
    app: Flask
    clock: FixedClock
    sessions: sessionmaker[Session]

    def client(self) -> FlaskClient:
        return self.app.test_client()


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Logging as it was afterwards; no command's run id (one an earlier test's
    ``dpledger`` left behind) on this test's lines."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    fields = log_context.current_fields()
    log_context.set_process_fields()
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        log_context.set_process_fields(**fields)


@pytest.fixture()
def ops(engine: Engine) -> Iterator[Ops]:
    connection = engine.connect()
    outer = connection.begin()
    sessions = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    clock = FixedClock()
    app = create_app(TestConfig(), sessions=sessions, clock=clock)
    try:
        yield Ops(app, clock, sessions)
    finally:
        outer.rollback()
        connection.close()

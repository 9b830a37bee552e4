"""The database keeps the ledger's invariants itself: each CHECK and UNIQUE constraint
refuses a row that breaks it, written directly in SQL past the services.

Alembic's comparison of models and migrations (tests/test_migrations.py) does not look at
CHECK constraints, so this is what shows they were created, on both databases.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger.card_payments import CardPayments
from ledger.clock import FixedClock
from ledger.models import Account, AccountKind, Plan, PlanLine, Transfer
from tests import factories


@dataclass
class World:
    budget_id: int
    funding_id: int
    person_id: int
    card_id: int
    companion_card_id: int
    plan_id: int
    line_id: int
    load_id: int
    resolution_id: int
    reversal_id: int


@pytest.fixture()
def world(session: Session, clock: FixedClock) -> Iterator[World]:
    h = factories.household(session, clock, loaded=10_000)
    ledger = CardPayments(session, clock)
    (load,) = ledger.load(h.budget.id, 500, source="test", key="load")
    hold = ledger.authorise(h.card.id, 300, source="test", key="auth").hold_id
    assert hold is not None
    (resolution,) = ledger.post_hold(hold, 300, source="test", key="post")
    (reversal,) = ledger.reverse(load.id, source="test", key="undo")
    funding = session.execute(
        select(Account.id).where(Account.kind == AccountKind.COUNCIL_FUNDING)
    ).scalar_one()
    plan = session.execute(select(Plan).where(Plan.person_id == h.person.id)).scalar_one()
    line = session.execute(select(PlanLine).where(PlanLine.plan_id == plan.id)).scalars().first()
    assert line is not None
    yield World(
        budget_id=h.budget.id,
        funding_id=funding,
        person_id=h.person.id,
        card_id=h.card.id,
        companion_card_id=h.companion_card.id,
        plan_id=plan.id,
        line_id=line.id,
        load_id=load.id,
        resolution_id=resolution.id,
        reversal_id=reversal.id,
    )


def refused(session: Session, name: str, sqlite_names: str, sql: Any, **params: Any) -> None:
    """The statement is refused, naming the constraint (SQLite names a UNIQUE constraint
    by its columns)."""
    expected = name if session.get_bind().dialect.name == "postgresql" else sqlite_names
    with pytest.raises(IntegrityError, match=expected), session.begin_nested():
        session.execute(text(sql) if isinstance(sql, str) else sql, params)


def transfer_copy(session: Session, transfer_id: int, **changes: Any) -> Any:
    """An INSERT of a copy of a transfer under a new id and key, with ``changes``."""
    row = dict(
        session.execute(select(Transfer.__table__).where(Transfer.id == transfer_id)).one()._mapping
    )
    last = session.execute(select(func.max(Transfer.id))).scalar_one()
    row.update(id=last + 1, idempotency_key=f"copy-of-{transfer_id}", link_group=None)
    row.update(changes)
    return insert(Transfer.__table__).values(**row)


def test_a_no_overdraft_account_cannot_go_below_zero(session: Session, world: World) -> None:
    refused(
        session,
        "ck_accounts_no_overdraft",
        "ck_accounts_no_overdraft",
        "UPDATE accounts SET debits_posted = credits_posted - debits_pending + 1 WHERE id = :id",
        id=world.budget_id,
    )


@pytest.mark.parametrize(
    "total", ["debits_pending", "debits_posted", "credits_pending", "credits_posted"]
)
def test_an_accounts_totals_cannot_be_negative(session: Session, world: World, total: str) -> None:
    refused(
        session,
        "ck_accounts_totals_not_negative",
        "ck_accounts_totals_not_negative",
        f"UPDATE accounts SET {total} = -1 WHERE id = :id",  # funding: no overdraft rule
        id=world.funding_id,
    )


def test_the_chain_head_is_one_row(session: Session, world: World) -> None:
    refused(
        session,
        "ck_ledger_head_single_row",
        "ck_ledger_head_single_row",
        "INSERT INTO ledger_head (id, last_transfer_id, last_hash) VALUES (2, 0, :h)",
        h="0" * 64,
    )


def test_a_transfer_moves_more_than_nothing(session: Session, world: World) -> None:
    for amount in (0, -100):
        statement = transfer_copy(session, world.load_id, amount=amount)
        refused(session, "ck_transfers_amount_positive", "ck_transfers_amount_positive", statement)


def test_a_transfer_needs_two_accounts(session: Session, world: World) -> None:
    statement = transfer_copy(session, world.load_id, credit_account_id=world.funding_id)
    refused(session, "ck_transfers_two_accounts", "ck_transfers_two_accounts", statement)


def test_a_hold_resolves_at_most_once(session: Session, world: World) -> None:
    statement = transfer_copy(session, world.resolution_id)  # the same pending_id again
    refused(session, "uq_transfers_pending_id", "transfers.pending_id", statement)


def test_a_transfer_is_reversed_at_most_once(session: Session, world: World) -> None:
    statement = transfer_copy(session, world.reversal_id)  # the same reverses_id again
    refused(session, "uq_transfers_reverses_id", "transfers.reverses_id", statement)


def test_an_idempotency_key_is_used_once_per_source(session: Session, world: World) -> None:
    statement = transfer_copy(session, world.load_id, idempotency_key="load")
    refused(
        session,
        "uq_transfers_idempotency_source",
        "transfers.idempotency_source, transfers.idempotency_key",
        statement,
    )


def test_a_card_keeps_exactly_four_digits(session: Session, world: World) -> None:
    refused(
        session,
        "ck_cards_last4_length",
        "ck_cards_last4_length",
        "UPDATE cards SET last4 = '123' WHERE id = :id",
        id=world.card_id,
    )


def test_a_companion_card_has_a_pot_and_no_other_card_does(session: Session, world: World) -> None:
    for sql, card_id in (
        ("UPDATE cards SET pot_id = NULL WHERE id = :id", world.companion_card_id),
        (
            "UPDATE cards SET pot_id = (SELECT pot_id FROM cards WHERE id = :other) WHERE id = :id",
            world.card_id,
        ),
    ):
        refused(
            session,
            "ck_cards_companion_has_pot",
            "ck_cards_companion_has_pot",
            sql,
            id=card_id,
            other=world.companion_card_id,
        )


@pytest.mark.parametrize(
    ("column", "value", "name"),
    [
        ("budget_per_period", -1, "ck_plans_budget_not_negative"),
        ("client_contribution_per_period", -1, "ck_plans_contribution_not_negative"),
        ("period_weeks", 0, "ck_plans_period_positive"),
    ],
)
def test_a_plans_figures_cannot_be_negative(
    session: Session, world: World, column: str, value: int, name: str
) -> None:
    refused(
        session,
        name,
        name,
        f"UPDATE plans SET {column} = :v WHERE id = :id",
        v=value,
        id=world.plan_id,
    )


def test_a_plan_lines_amount_cannot_be_negative(session: Session, world: World) -> None:
    refused(
        session,
        "ck_plan_lines_amount_not_negative",
        "ck_plan_lines_amount_not_negative",
        "UPDATE plan_lines SET amount_per_period = -1 WHERE id = :id",
        id=world.line_id,
    )


def test_no_one_is_their_own_carer(session: Session, world: World) -> None:
    refused(
        session,
        "ck_caring_relationships_not_self",
        "ck_caring_relationships_not_self",
        "INSERT INTO caring_relationships (carer_id, cared_for_id, relationship, "
        "shares_household) VALUES (:p, :p, 'self', :no)",
        p=world.person_id,
        no=False,
    )

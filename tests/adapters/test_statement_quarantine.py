"""Quarantined statement lines tried again once the cause is fixed, each applied once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from adapters.apply import EventApplier
from adapters.canonical import CanonicalEvent
from adapters.models import ImportStatus, QuarantinedLine, QuarantineStatus, StatementImport
from adapters.statement_file import HEADER, import_statement, parse_line
from adapters.statement_quarantine import ImportNotRetryable, retry_quarantined
from ledger.chain import verify_chain
from ledger.checks import check_balances
from ledger.clock import FixedClock
from ledger.enrolment import Enrolment
from ledger.errors import UnknownRecord
from ledger.models import Card, CardKind, ReconciliationBreak, Transfer
from ledger.service import Ledger
from tests import factories


def _factory(session: Session) -> sessionmaker[Session]:
    return sessionmaker(
        bind=session.connection(),
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
    )


def _write(tmp_path: Path, lines: list[str], name: str = "statement.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def _enrol(session: Session, clock: FixedClock, token: str) -> Card:
    """A person with a budget and a card with this token, enrolled now."""
    who = factories.person(session, clock)
    enrol = Enrolment(session, clock)
    budget = enrol.open_personal_budget(who)
    return enrol.issue_card(
        who,
        kind=CardKind.PRIMARY,
        provider="simulated",
        provider_card_token=token,
        last4="4321",
        budget=budget,
    )


def _lines(session: Session, import_id: int) -> list[tuple[int, QuarantineStatus, int, str]]:
    return [
        (q.line_number, q.status, q.attempts, q.reason)
        for q in session.scalars(
            select(QuarantinedLine)
            .where(QuarantinedLine.import_id == import_id)
            .order_by(QuarantinedLine.line_number)
        )
    ]


def test_lines_for_a_card_enrolled_later_apply_once_and_others_stay(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    _, budget, card = factories.budget_with_card(session, clock, loaded=100_000)
    t = card.provider_card_token
    path = _write(
        tmp_path,
        [
            f"CARD_PAYMENT,q1,{t},2026-04-06T08:00:00Z,1.00,GBP,Shop,5411,,,,,",  # line 2
            "LOAD,q2,late_card,2026-04-06T06:00:00Z,50.00,GBP,,,Council,L-q2,,,",
            "CARD_PAYMENT,q3,late_card,2026-04-06T09:00:00Z,12.00,GBP,Shop,5411,,,,,",
            f"CARD_PAYMENT,q4,{t},2026-04-06T08:00:00Z,1.001,GBP,Shop,5411,,,,,",  # sub-penny
            "CLOSING_BALANCE,,late_card,2026-04-06,38.00,GBP,,,,,,,",  # line 6
            "FEE,q6,never_card,2026-04-06T10:00:00Z,1.00,GBP,,,,F,,,",  # line 7
        ],
    )
    clock.current = datetime(2026, 4, 6, 22, 0, tzinfo=UTC)
    first = import_statement(_factory(session), path, clock, provider="simulated")
    assert (first.applied, first.quarantined) == (1, 5)

    late = _enrol(session, clock, "late_card")
    session.flush()
    report = retry_quarantined(_factory(session), clock, first.import_id)
    assert (report.lines, report.applied, report.duplicate) == (5, 2, 0)
    assert (report.balances_checked, report.breaks, report.quarantined) == (1, 0, 2)
    assert [n for n, _ in report.problems] == [5, 7]
    assert "fraction of a penny" in report.problems[0][1]
    assert "unknown_card" in report.problems[1][1]
    assert Ledger(session, clock).balances(late.account_id).posted == 5_000 - 1_200
    assert Ledger(session, clock).balances(budget.id).posted == 100_000 - 100

    lines = _lines(session, first.import_id)
    assert [(n, status, tries) for n, status, tries, _ in lines] == [
        (3, QuarantineStatus.APPLIED, 2),
        (4, QuarantineStatus.APPLIED, 2),
        (5, QuarantineStatus.QUARANTINED, 2),
        (6, QuarantineStatus.APPLIED, 2),
        (7, QuarantineStatus.QUARANTINED, 2),
    ]
    assert "unknown_card" in lines[4][3]
    record = session.get(StatementImport, first.import_id)
    assert record is not None
    assert (record.lines_applied, record.lines_quarantined, record.balances_checked) == (3, 2, 1)

    # Tried again: only the two still quarantined, and nothing moves twice.
    transfers = session.scalar(select(func.count()).select_from(Transfer))
    again = retry_quarantined(_factory(session), clock, first.import_id)
    assert (again.lines, again.applied, again.quarantined) == (2, 0, 2)
    assert session.scalar(select(func.count()).select_from(Transfer)) == transfers
    assert [tries for _, _, tries, _ in _lines(session, first.import_id)] == [2, 2, 3, 2, 3]
    assert verify_chain(session).ok
    assert check_balances(session).ok


def test_a_line_brought_meanwhile_by_a_webhook_is_a_duplicate(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    _, _budget, card = factories.budget_with_card(session, clock, loaded=100_000)
    line = "CARD_PAYMENT,d1,dup_card,2026-04-06T08:00:00Z,3.00,GBP,Shop,5411,,,,,"
    known = (
        f"CARD_PAYMENT,d0,{card.provider_card_token},2026-04-06T08:00:00Z,1.00,GBP,Shop,5411,,,,,"
    )
    path = _write(tmp_path, [known, line])
    first = import_statement(_factory(session), path, clock, provider="simulated")
    assert first.quarantined == 1
    late = _enrol(session, clock, "dup_card")
    session.commit()  # this session's ledger cache predates the import's postings
    event = parse_line(line.split(","))
    assert isinstance(event, CanonicalEvent)
    EventApplier(session, clock, provider="simulated").apply(event)  # the webhook's
    session.flush()
    report = retry_quarantined(_factory(session), clock, first.import_id)
    assert (report.applied, report.duplicate, report.quarantined) == (0, 1, 0)
    assert [status for _, status, _, _ in _lines(session, first.import_id)] == [
        QuarantineStatus.DUPLICATE
    ]
    # Once: the webhook's (a payment beyond the new card's funds, so into arrears).
    moved = session.execute(
        select(Transfer.amount, Transfer.card_id).where(Transfer.idempotency_key == "d1")
    ).all()
    assert [tuple(row) for row in moved] == [(300, late.id)]
    record = session.get(StatementImport, first.import_id)
    assert record is not None and (record.lines_duplicate, record.lines_quarantined) == (1, 0)


def test_a_closing_balance_tried_again_records_its_break_once(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    _, _budget, card = factories.budget_with_card(session, clock, loaded=100_000)
    known = f"CLOSING_BALANCE,,{card.provider_card_token},2026-04-06,1000.00,GBP,,,,,,,"
    path = _write(tmp_path, [known, "CLOSING_BALANCE,,brk_card,2026-04-06,5.00,GBP,,,,,,,"])
    clock.current = datetime(2026, 4, 6, 22, 0, tzinfo=UTC)
    first = import_statement(_factory(session), path, clock, provider="simulated")
    assert (first.balances_checked, first.quarantined) == (1, 1)
    late = _enrol(session, clock, "brk_card")
    session.flush()
    report = retry_quarantined(_factory(session), clock, first.import_id)
    assert (report.balances_checked, report.breaks, report.quarantined) == (1, 1, 0)
    found = session.execute(select(ReconciliationBreak.card_id, ReconciliationBreak.as_of)).all()
    assert [tuple(row) for row in found] == [(late.id, date(2026, 4, 6))]
    again = retry_quarantined(_factory(session), clock, first.import_id)
    assert again.lines == 0
    assert session.scalar(select(func.count()).select_from(ReconciliationBreak)) == 1


def test_a_line_that_is_not_utf8_stays_quarantined_as_it_was(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    """Its bad bytes are kept replaced, which would read as a good line: never applied."""
    _, budget, card = factories.budget_with_card(session, clock, loaded=100_000)
    t = card.provider_card_token
    path = tmp_path / "bytes.csv"
    path.write_bytes(
        f"{HEADER}\nCARD_PAYMENT,b1,{t},2026-04-06T08:00:00Z,1.00,GBP,Caf".encode()
        + b"\xe9,5812,,,,,\n"
    )
    first = import_statement(_factory(session), path, clock, provider="simulated")
    assert first.quarantined == 1
    report = retry_quarantined(_factory(session), clock, first.import_id)
    assert (report.applied, report.quarantined) == (0, 1)
    assert report.problems == [(2, "the line is not UTF-8")]
    assert Ledger(session, clock).balances(budget.id).posted == 100_000


def test_only_a_finished_import_is_tried_again(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    rejected = tmp_path / "x.csv"
    rejected.write_text("not,a,statement\n")
    report = import_statement(_factory(session), rejected, clock, provider="simulated")
    with pytest.raises(ImportNotRetryable, match="rejected"):
        retry_quarantined(_factory(session), clock, report.import_id)
    record = session.get(StatementImport, report.import_id)
    assert record is not None
    record.status = ImportStatus.IN_PROGRESS  # as an import that was interrupted
    session.flush()
    with pytest.raises(ImportNotRetryable, match="not finished"):
        retry_quarantined(_factory(session), clock, report.import_id)
    with pytest.raises(UnknownRecord):
        retry_quarantined(_factory(session), clock, report.import_id + 1000)

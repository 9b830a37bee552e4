"""Which transfers stand behind a spend flag: a bounded list of their ids, so an officer
sees the payments themselves, not only the latest.

The period totals and unplanned spend keep sums, not lists. When a flag is raised, the
transfers are found again from the few rows that hit: for unplanned spend by one join on
the card, the spend key and the time span of each row; for a plan line over its
allowance from the plan's spend in the period, attributed to lines as the batch does
(``attribution``: the lowest line whose category is what the MCC map says the spend is
for, whose merchant categories list the MCC, or whose agreed payees name the payee or
merchant).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from ledger.models import Account, Plan, PlanLine, Transfer, TransferCode
from monitoring import mcc
from monitoring.models import UnplannedSpend
from monitoring.repositories.spend import POSTED_PHASES, SPEND_CODES, budget_of

LIMIT = 20  # transfer ids kept with a piece of evidence: the latest
CHUNK = 200


def unplanned_transfer_ids(session: Session, row_ids: Sequence[int]) -> dict[int, list[int]]:
    """For unplanned-spend rows: their card payments' ids (the latest ``LIMIT``, oldest
    first), by row id."""
    u = aliased(UnplannedSpend, name="u")
    t = aliased(Transfer, name="t")
    found: dict[int, list[int]] = {}
    ids = sorted(set(row_ids))
    for start in range(0, len(ids), CHUNK):
        ranked = (
            select(
                u.id.label("row_id"),
                t.id.label("transfer_id"),
                func.row_number().over(partition_by=u.id, order_by=t.id.desc()).label("n"),
            )
            .join(
                t,
                and_(
                    t.card_id == u.card_id,
                    t.effective_at >= u.first_at,
                    t.effective_at <= u.last_at,
                    t.id <= u.last_transfer_id,
                ),
            )
            .where(
                u.id.in_(ids[start : start + CHUNK]),
                t.code == TransferCode.CARD_SPEND,
                t.phase.in_(POSTED_PHASES),
                func.coalesce(t.mcc, "") == u.mcc,
                func.coalesce(t.category, "") == u.category,
                func.coalesce(t.payee, "") == u.payee,
                func.coalesce(t.merchant_name, "") == u.merchant,
            )
            .subquery("ranked")
        )
        rows = session.execute(
            select(ranked.c.row_id, ranked.c.transfer_id)
            .where(ranked.c.n <= LIMIT)
            .order_by(ranked.c.row_id, ranked.c.transfer_id)
        ).all()
        for row_id, transfer_id in rows:
            found.setdefault(row_id, []).append(transfer_id)
    return found


@dataclass(frozen=True)
class LineWindow:
    """A plan line's spend between ``start`` and ``end`` up to transfer ``upto``."""

    plan_line_id: int
    plan_id: int
    start: datetime | None  # None: from the plan's start (a one-off line)
    end: datetime | None
    upto: int


def line_transfer_ids(
    session: Session, windows: Sequence[LineWindow], *, scan: int = 2000
) -> dict[tuple[int, datetime | None], list[int]]:
    """For each window: the ids of the spend its plan line covers (the latest ``LIMIT``,
    oldest first), keyed by (plan line, start). Looks at most ``scan`` transfers back in
    each chunk of windows."""
    out: dict[tuple[int, datetime | None], list[int]] = {}
    for start in range(0, len(windows), CHUNK):
        chunk = windows[start : start + CHUNK]
        lines = _lines_of(session, {w.plan_id for w in chunk})
        for w, transfer_ids in _covered(session, chunk, lines, scan).items():
            out[(w.plan_line_id, w.start)] = sorted(transfer_ids[:LIMIT])
    return out


def _covered(
    session: Session, windows: Sequence[LineWindow], lines: dict[int, list[Any]], scan: int
) -> dict[LineWindow, list[int]]:
    t = aliased(Transfer, name="t")
    payer = aliased(Account, name="payer")
    plan = aliased(Plan, name="p")
    clauses = []
    for w in windows:
        clause = [plan.id == w.plan_id, t.id <= w.upto]
        if w.start is not None:
            clause.append(t.effective_at >= w.start)
        if w.end is not None:
            clause.append(t.effective_at < w.end)
        clauses.append(and_(*clause))
    # Implied by the windows, and what lets the transfers be read by the index on
    # (debit account, effective time) rather than by scanning the whole log once per
    # chunk of windows: the accounts the chunk's plans pay from, and the earliest start.
    bounds = [
        t.debit_account_id.in_(_paying_accounts(session, {w.plan_id for w in windows})),
        t.id <= max(w.upto for w in windows),
    ]
    starts = [w.start for w in windows]
    if all(start is not None for start in starts):
        bounds.append(t.effective_at >= min(start for start in starts if start is not None))
    rows = session.execute(
        select(
            t.id,
            t.effective_at,
            plan.id.label("plan_id"),
            func.coalesce(t.mcc, "").label("mcc"),
            func.coalesce(t.category, "").label("category"),
            func.coalesce(t.payee, "").label("payee"),
            func.coalesce(t.merchant_name, "").label("merchant"),
        )
        .select_from(plan)
        .join(payer, budget_of(payer) == plan.budget_account_id)
        .join(t, t.debit_account_id == payer.id)
        .where(*bounds, t.code.in_(SPEND_CODES), t.phase.in_(POSTED_PHASES), or_(*clauses))
        .order_by(t.id.desc())
        .limit(scan)
    ).all()
    out: dict[LineWindow, list[int]] = {w: [] for w in windows}
    by_plan: dict[int, list[LineWindow]] = {}
    for w in windows:
        by_plan.setdefault(w.plan_id, []).append(w)
    for row in rows:
        line_id = covering_line(lines.get(row.plan_id, []), row)
        for w in by_plan.get(row.plan_id, []):
            if w.plan_line_id == line_id and _within(w, row.id, row.effective_at):
                out[w].append(row.id)
    return out


def _paying_accounts(session: Session, plan_ids: set[int]) -> list[int]:
    """The accounts these plans' budgets pay from: each budget, its companion pots and
    its arrears account (by the primary key and the parent index)."""
    budgets = list(
        session.execute(
            select(Plan.budget_account_id).where(Plan.id.in_(sorted(plan_ids)))
        ).scalars()
    )
    # Two index lookups, not one OR over two subqueries (which PostgreSQL ran as a scan
    # of every account: 74 ms a chunk of plans at 100,000 cards).
    pots_and_arrears = session.execute(
        select(Account.id).where(Account.parent_id.in_(budgets))
    ).scalars()
    return sorted({*budgets, *pots_and_arrears})


def _within(w: LineWindow, transfer_id: int, at: datetime) -> bool:
    return (
        transfer_id <= w.upto
        and (w.start is None or at >= w.start)
        and (w.end is None or at < w.end)
    )


def _lines_of(session: Session, plan_ids: Iterable[int]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    for line in session.execute(
        select(PlanLine).where(PlanLine.plan_id.in_(sorted(plan_ids))).order_by(PlanLine.id)
    ).scalars():
        found.setdefault(line.plan_id, []).append(line)
    return found


def covering_line(lines: Sequence[Any], key: Any) -> int | None:
    """The line that covers a transfer's spend key (``attribution.covering_lines`` in
    Python, for the few transfers behind a flag): the lowest line id among those whose
    category is what the spend is for, whose merchant categories list the MCC, or whose
    agreed payees name the payee or the merchant."""
    spend_category = mcc.category_of(key.mcc, key.category)
    for line in lines:  # in id order
        if (
            (spend_category is not None and line.category == spend_category)
            or key.mcc in (line.merchant_categories or [])
            or key.payee in (line.agreed_payees or [])
            or key.merchant in (line.agreed_payees or [])
        ):
            return int(line.id)
    return None

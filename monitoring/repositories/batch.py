"""The batch of new transfers, counted once: one pass over the transfers the period
totals have not seen, grouped into a temporary table, from which the plan totals, the
plan-line totals and the unplanned spend are derived.

The grouping key is (plan, period, code, paying account kind, card, MCC, category,
payee, merchant). One scan of the transfer log per refresh, whatever the number of
monitors; every later step reads the (much smaller) batch.
"""

from __future__ import annotations

import os
from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.ddl import CreateTableAs

from ledger.models import Account, AccountKind, Plan, PlanStatus, Transfer, TransferCode
from ledger.models.transfers import BANK_PAYMENT_CODES
from monitoring import mcc
from monitoring.models import LinePeriodTotal, PlanPeriodTotal, UnplannedSpend
from monitoring.repositories import attribution
from monitoring.repositories.sql import greatest, london_date, period_index
from monitoring.repositories.upsert import upsert

POSTED_PHASES = ("posted", "post_pending")
SPEND_CODES = (
    TransferCode.CARD_SPEND,
    TransferCode.CASH_WITHDRAWAL,
    TransferCode.DIRECT_DEBIT,
    TransferCode.STANDING_ORDER,
    TransferCode.FASTER_PAYMENT,
)
CASH_MCCS = ("6010", "6011")
WORK_MEM = os.environ.get("DPLEDGER_MONITOR_WORK_MEM", "256MB")
ANALYSE_AFTER = 50_000  # batch rows

# Not part of the application's metadata: per-connection scratch tables, emptied (the
# batch dropped) after each use. Indexed, because SQLite joins by nested loops over
# indexes. The batch is made by CREATE TABLE AS; this declaration names its columns.
SCRATCH = MetaData()
BATCH = Table(
    "monitor_batch",
    SCRATCH,
    Column("plan_id", Integer, nullable=False),
    Column("period_index", Integer, nullable=False),
    Column("code", String(32), nullable=False),
    Column("payer_kind", String(32), nullable=False),
    Column("card_id", Integer, nullable=False),  # 0 when no card (bank payments)
    Column("mcc", String(4), nullable=False),
    Column("category", String(32), nullable=False),
    Column("payee", String(200), nullable=False),
    Column("merchant", String(200), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("transfers", Integer, nullable=False),
    Column("first_at", DateTime(timezone=True)),  # of money going out: None for refunds only
    Column("last_at", DateTime(timezone=True)),
    Column("last_transfer_id", BigInteger, nullable=False),
    prefixes=["TEMPORARY"],
)
# Every element of the JSON lists of the plan lines of the plans in the batch.
LINE_VALUES = Table(
    "monitor_line_values",
    SCRATCH,
    Column("plan_id", Integer, nullable=False),
    Column("line_id", Integer, nullable=False),
    Column("kind", String(8), nullable=False),  # "mcc" or "payee"
    Column("value", String(200), nullable=False),
    Index("ix_monitor_line_values_key", "plan_id", "kind", "value"),
    prefixes=["TEMPORARY"],
)
# The covering line of each distinct (plan, spend key) in the batch that has one.
KEY_LINES = Table(
    "monitor_key_lines",
    SCRATCH,
    Column("plan_id", Integer, nullable=False),
    Column("mcc", String(4), nullable=False),
    Column("category", String(32), nullable=False),
    Column("payee", String(200), nullable=False),
    Column("merchant", String(200), nullable=False),
    Column("line_id", Integer, nullable=False),
    Index("ix_monitor_key_lines_key", "plan_id", "mcc", "category", "payee", "merchant"),
    prefixes=["TEMPORARY"],
)


def without_jit(session: Session) -> None:
    """PostgreSQL: no JIT compilation for the rest of the monitors' transaction.

    The monitors' statements have correlated subqueries and joins whose estimated cost
    passes the JIT thresholds although they run in milliseconds; compiling them took
    0.5 to 2.5 s each (rapid_drain's drained loads: 2.3 s of JIT, 50 ms of work), and
    the one long statement, the batch's scan, ran no faster with it."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL jit = off")


def fill(session: Session, window: Any, period_from: date | None = None) -> None:
    """Group the window's posted spend and contributions into the batch table."""
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        # Room to group in memory rather than sort on disk, for this transaction only.
        connection.exec_driver_sql(f"SET LOCAL work_mem = '{WORK_MEM}'")
    BATCH.drop(connection, checkfirst=True)
    for table in (LINE_VALUES, KEY_LINES):
        table.create(connection, checkfirst=True)
        connection.execute(delete(table))
    # CREATE TABLE AS, not INSERT … SELECT: PostgreSQL may run it in parallel.
    connection.execute(CreateTableAs(batch_select(window, period_from), BATCH.name, temporary=True))
    if dialect == "postgresql":
        # Temporary tables are never analysed automatically; the joins below need it.
        connection.exec_driver_sql("ANALYZE monitor_batch")
    connection.execute(
        LINE_VALUES.insert().from_select(
            ["plan_id", "line_id", "kind", "value"], attribution.line_values(dialect, BATCH)
        )
    )
    spend = select(BATCH).where(BATCH.c.code.in_(SPEND_CODES)).subquery("spend")
    connection.execute(
        KEY_LINES.insert().from_select(
            ["plan_id", *attribution.KEYS, "line_id"],
            attribution.covering_lines(spend, LINE_VALUES),
        )
    )
    if dialect == "postgresql":
        connection.exec_driver_sql("ANALYZE monitor_key_lines")


def batch_select(window: Any, period_from: date | None = None) -> Any:
    """The window's posted spend and contributions, grouped by the batch key.

    Money coming back is netted from the spend it undoes: a merchant's refund counts as
    negative card spend (same MCC and merchant), and a reversal of a spend transfer (a
    bank payment returned, say) as negative spend of the original's kind and payee. So
    a refunded purchase is not unplanned spend, and allowances, patterns and under-spend
    see what was really spent.

    The transfers come in two parts: everything but reversals, which needs nothing but
    its own row, and reversals joined to what they reverse (few, found by the unique
    index on ``reverses_id``). No correlated subquery runs per transfer, so PostgreSQL
    can hash the joins and scan the log in parallel."""
    moved = _moved(window).subquery("moved")
    account = aliased(Account, name="a")
    plan = aliased(Plan, name="p")
    day = london_date(moved.c.effective_at)
    k = period_index(plan.starts_on, plan.period_weeks, day)
    money_back = moved.c.money_back == 1
    keys: list[Any] = [
        plan.id.label("plan_id"),
        k.label("period_index"),
        moved.c.code.label("code"),
        cast(account.kind, String(32)).label("payer_kind"),
        func.coalesce(moved.c.card_id, 0).label("card_id"),
        func.coalesce(moved.c.mcc, "").label("mcc"),
        func.coalesce(moved.c.category, "").label("category"),
        func.coalesce(moved.c.payee, "").label("payee"),
        func.coalesce(moved.c.merchant, "").label("merchant"),
    ]
    where = [day >= plan.starts_on]
    if period_from is not None:
        where.append(
            k >= period_index(plan.starts_on, plan.period_weeks, literal(period_from, Date()))
        )
    # Times and counts are of money going out; a group of refunds alone has no times.
    out_at = case((money_back, None), else_=moved.c.effective_at)
    return (
        select(
            *keys,
            func.sum(case((money_back, -moved.c.amount), else_=moved.c.amount)).label("amount"),
            func.sum(case((money_back, 0), else_=1)).label("transfers"),
            func.min(out_at).label("first_at"),
            func.max(out_at).label("last_at"),
            func.max(moved.c.id).label("last_transfer_id"),
        )
        .select_from(moved)
        .join(account, account.id == moved.c.side)
        .join(
            plan,
            and_(
                plan.budget_account_id == func.coalesce(account.parent_id, account.id),
                plan.status == PlanStatus.ACTIVE,
            ),
        )
        .where(*where)
        .group_by(*(key.element for key in keys))
    )


def _moved(window: Any) -> Any:
    """One row per posted transfer of the window the batch counts: the account it moved
    money on (the payer; the budget for contributions and money back), the code and
    payee it counts as, and whether it is money back (1) or not (0)."""
    t = aliased(Transfer, name="t")
    original = aliased(Transfer, name="original")
    posted = [*window.clauses(t), t.phase.in_(POSTED_PHASES)]
    own = select(
        t.id,
        t.amount,
        t.effective_at,
        case(
            (t.code == TransferCode.REFUND, literal(TransferCode.CARD_SPEND.value, String(32))),
            else_=cast(t.code, String(32)),
        ).label("code"),
        case(
            (t.code.in_((TransferCode.CONTRIBUTION, TransferCode.REFUND)), t.credit_account_id),
            else_=t.debit_account_id,
        ).label("side"),
        t.card_id,
        t.mcc,
        t.category,
        t.payee,
        t.merchant_name.label("merchant"),
        case((t.code == TransferCode.REFUND, 1), else_=0).label("money_back"),
    ).where(*posted, t.code.in_((*SPEND_CODES, TransferCode.CONTRIBUTION, TransferCode.REFUND)))
    reversals = (
        select(
            t.id,
            t.amount,
            t.effective_at,
            cast(original.code, String(32)),
            t.credit_account_id,
            t.card_id,
            t.mcc,
            t.category,
            func.coalesce(t.payee, original.payee),
            t.merchant_name,
            literal(1),
        )
        .select_from(t)
        .join(original, original.id == t.reverses_id)
        .where(
            *posted,
            t.code == TransferCode.REVERSAL,
            t.reverses_id.is_not(None),
            original.code.in_(SPEND_CODES),
        )
    )
    return union_all(own, reversals)


def clear(session: Session) -> None:
    connection = session.connection()
    BATCH.drop(connection, checkfirst=True)
    for table in (LINE_VALUES, KEY_LINES):
        connection.execute(delete(table))


def add_plan_totals(session: Session, hi: int) -> None:
    b = BATCH.c
    is_spend = b.code.in_(SPEND_CODES)

    def total(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, b.amount), else_=0)), 0)

    query = select(
        b.plan_id,
        b.period_index,
        total(is_spend),
        func.coalesce(func.sum(case((is_spend, b.transfers), else_=0)), 0),
        total(and_(is_spend, b.payer_kind == AccountKind.COMPANION_POT.value)),
        total(and_(is_spend, or_(b.code == TransferCode.CASH_WITHDRAWAL, b.mcc.in_(CASH_MCCS)))),
        total(b.code.in_(BANK_PAYMENT_CODES)),
        total(b.code == TransferCode.CONTRIBUTION),
        func.max(case((is_spend, b.last_at))),
        func.max(b.last_transfer_id),
        literal(hi),
    ).group_by(b.plan_id, b.period_index)
    # In primary-key order, as add_line_totals.
    query = query.order_by(b.plan_id, b.period_index)
    c = PlanPeriodTotal
    columns = [
        "plan_id",
        "period_index",
        "spend",
        "spend_count",
        "companion_spend",
        "cash",
        "regular_payments",
        "contributions",
        "last_spend_at",
        "last_transfer_id",
        "updated_upto",
    ]
    insert = upsert(session, PlanPeriodTotal).from_select(columns, query)
    new = insert.excluded
    summed = (
        "spend",
        "spend_count",
        "companion_spend",
        "cash",
        "regular_payments",
        "contributions",
    )
    values: dict[str, Any] = {name: getattr(c, name) + getattr(new, name) for name in summed}
    values["last_spend_at"] = func.coalesce(
        greatest(c.last_spend_at, new.last_spend_at), c.last_spend_at, new.last_spend_at
    )
    values["last_transfer_id"] = greatest(c.last_transfer_id, new.last_transfer_id)
    values["updated_upto"] = new.updated_upto
    session.execute(
        insert.on_conflict_do_update(index_elements=["plan_id", "period_index"], set_=values)
    )


def _spend_rows(codes: tuple[Any, ...]) -> Any:
    return select(BATCH).where(BATCH.c.code.in_(codes)).subquery("spend")


def add_line_totals(session: Session, hi: int) -> None:
    spend = _spend_rows(SPEND_CODES)
    covered = KEY_LINES
    query = (
        select(
            covered.c.line_id,
            spend.c.plan_id,
            spend.c.period_index,
            func.sum(spend.c.amount),
            func.sum(spend.c.transfers),
            func.max(spend.c.last_transfer_id),
            literal(hi),
        )
        .select_from(spend)
        .join(covered, attribution.same_key(spend, covered))
        .group_by(covered.c.line_id, spend.c.plan_id, spend.c.period_index)
        # In primary-key order: the upsert then walks its index in order rather than
        # at random (about a quarter less CPU on 280,000 rows, and less of the index
        # read back from disk when it is larger than the cache).
        .order_by(covered.c.line_id, spend.c.period_index)
    )
    c = LinePeriodTotal
    columns = ["plan_line_id", "plan_id", "period_index", "amount", "transfers"]
    columns += ["last_transfer_id", "updated_upto"]
    insert = upsert(session, LinePeriodTotal).from_select(columns, query)
    new = insert.excluded
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["plan_line_id", "period_index"],
            set_={
                "amount": c.amount + new.amount,
                "transfers": c.transfers + new.transfers,
                "last_transfer_id": greatest(c.last_transfer_id, new.last_transfer_id),
                "updated_upto": new.updated_upto,
            },
        )
    )


def add_unplanned(session: Session, hi: int) -> None:
    """Card spend in the batch, net of refunds, that no plan line covers, with a category
    the MCC map knows (council-blocked ones included, cash left to the cash monitor)."""
    spend = _spend_rows((TransferCode.CARD_SPEND,))
    covered = KEY_LINES
    # The (few) rows no line covers first, materialised, so the MCC map's long CASE runs
    # on them alone rather than being pushed down to every row of the batch.
    uncovered = (
        select(spend)
        .outerjoin(covered, attribution.same_key(spend, covered))
        .where(covered.c.line_id.is_(None), spend.c.amount > 0, spend.c.card_id != 0)
        .cte("uncovered")
        .prefix_with("MATERIALIZED")
    )
    u = uncovered.c
    category = mcc.category_sql(u.mcc, u.category)
    query = (
        select(
            u.plan_id,
            u.card_id,
            u.period_index,
            *(u[key] for key in attribution.KEYS),
            category,
            u.amount,
            u.transfers,
            u.first_at,
            u.last_at,
            u.last_transfer_id,
            literal(hi),
        )
        .where(category.is_not(None), category != mcc.CASH)
        # Ids in key order, so a card's rows are raised oldest period first (the first
        # becomes its flag's title and the officer's message), whatever the join's order.
        .order_by(
            u.plan_id,
            u.period_index,
            u.payer_kind,
            u.card_id,
            *(u[key] for key in attribution.KEYS),
        )
    )
    columns = ["plan_id", "card_id", "period_index", *attribution.KEYS, "spend_category"]
    columns += ["amount", "transfers", "first_at", "last_at", "last_transfer_id", "found_upto"]
    session.execute(insert(UnplannedSpend).from_select(columns, query))


def analyse_if_large(session: Session, rows_counted: int) -> None:
    """After counting a large batch (a first run, a --since recount), refresh PostgreSQL's
    statistics of the derived tables, so the plan-level monitors' lookups use their
    indexes. Autovacuum does this later for committed data; the monitors run now."""
    if rows_counted < ANALYSE_AFTER or session.get_bind().dialect.name != "postgresql":
        return
    connection = session.connection()
    for table in ("plan_period_totals", "line_period_totals", "unplanned_spend"):
        connection.exec_driver_sql(f"ANALYZE {table}")


def batch_rows(session: Session) -> int:
    return int(session.connection().execute(select(func.count()).select_from(BATCH)).scalar_one())


def forget_from(session: Session, since: date) -> None:
    """Delete the totals and unplanned spend of every plan period ending after ``since``,
    so they can be counted again from the transfers (``monitors run --since``)."""
    for table in (PlanPeriodTotal, LinePeriodTotal, UnplannedSpend):
        first_period = (
            select(period_index(Plan.starts_on, Plan.period_weeks, literal(since, Date())))
            .where(Plan.id == table.plan_id)
            .scalar_subquery()
        )
        session.execute(
            delete(table)
            .where(table.period_index >= first_period)
            .execution_options(synchronize_session=False)
        )

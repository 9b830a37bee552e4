"""Which plan line covers a group of transfers, worked out set-wise.

Coverage does not depend on when money was spent, only on the plan and on what the
transfer says (MCC, category, payee, merchant). New transfers are grouped by plan, period
and those fields (``repositories.batch``, one scan); each distinct key is then matched to
the plan's lines with equality joins against the lines' JSON lists unnested once
(``json_each`` on SQLite, ``json_array_elements_text`` on PostgreSQL). The covering line
is the lowest line id among the matches. No query runs per transfer, and no JSON is
parsed per transfer.

A line covers a key when its category is what the MCC map says the spend is for, its
merchant categories list the MCC, or its agreed payees name the payee or the merchant.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, and_, cast, func, literal, select, union_all
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import ColumnElement

from ledger.models import PlanLine
from monitoring import mcc

KEYS = ("mcc", "category", "payee", "merchant")


def _elements(dialect: str, column: Any) -> Any:
    name = "json_array_elements_text" if dialect == "postgresql" else "json_each"
    return getattr(func, name)(column).table_valued("value", joins_implicitly=True)


def line_values(dialect: str, batch: Any) -> Any:
    """(plan_id, line_id, kind, value) for every element of the merchant-category and
    agreed-payee lists of the lines of the plans in ``batch``."""
    parts = []
    for field, kind in (("merchant_categories", "mcc"), ("agreed_payees", "payee")):
        line = aliased(PlanLine, name=f"{kind}_line")
        values = _elements(dialect, getattr(line, field))
        column = getattr(line, field)
        parts.append(
            select(line.plan_id, line.id, literal(kind), values.c.value)
            .select_from(line)
            .join(values, literal(True))
            .where(
                line.plan_id.in_(select(batch.c.plan_id).distinct()),
                # Most lists are empty: skip them before unnesting anything.
                cast(column, String) != "[]",
            )
        )
    return union_all(*parts)


def covering_lines(grouped: Any, values: Any) -> Any:
    """For each distinct (plan, spend key) in ``grouped``: the lowest covering line id,
    using ``values`` (see ``line_values``). Keys no line covers are absent."""
    distinct = (
        select(grouped.c.plan_id, *(grouped.c[key] for key in KEYS)).distinct().cte("spend_keys")
    )
    key_cols = [distinct.c.plan_id, *(distinct.c[key] for key in KEYS)]
    category = mcc.category_sql(distinct.c.mcc, distinct.c.category)
    line = aliased(PlanLine, name="cat_line")

    def by_value(kind: str, key: str) -> Any:
        v = values.alias(f"{kind}_{key}")
        return select(*key_cols, v.c.line_id).join(
            v,
            and_(v.c.plan_id == distinct.c.plan_id, v.c.kind == kind, v.c.value == distinct.c[key]),
        )

    candidates = union_all(
        select(*key_cols, line.id.label("line_id")).join(
            line, and_(line.plan_id == distinct.c.plan_id, line.category == category)
        ),
        by_value("mcc", "mcc"),
        by_value("payee", "payee"),
        by_value("payee", "merchant"),
    ).subquery("candidates")
    return select(
        candidates.c.plan_id,
        *(candidates.c[key] for key in KEYS),
        func.min(candidates.c.line_id),
    ).group_by(candidates.c.plan_id, *(candidates.c[key] for key in KEYS))


def same_key(left: Any, right: Any) -> ColumnElement[bool]:
    """Two (plan, spend key) selectables name the same key."""
    return and_(left.c.plan_id == right.c.plan_id, *(left.c[key] == right.c[key] for key in KEYS))

"""Queries for the possible-financial-abuse monitors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from ledger.models import (
    Account,
    AccountKind,
    CaringRelationship,
    Person,
    Plan,
    PlanLine,
    PlanStatus,
    Transfer,
    TransferCode,
)
from ledger.models.transfers import BANK_PAYMENT_CODES
from monitoring.models import LifeEvent, LifeEventKind, MonitorRun
from monitoring.repositories.spend import (
    CASH_MCCS,
    POSTED_PHASES,
    SPEND_CODES,
    Window,
    budget_of,
)
from monitoring.repositories.sql import (
    add_hours,
    days_between,
    json_array_contains,
    london_date,
    london_hour,
    total,
)

LOAD_CODES = (TransferCode.LOAD, TransferCode.EMERGENCY_LOAD)
CARD_CODES = (TransferCode.CARD_SPEND, TransferCode.CASH_WITHDRAWAL)


def _agreed_payee(plan_id: Any, t: Any) -> Any:
    line = aliased(PlanLine)
    return exists().where(
        line.plan_id == plan_id,
        or_(
            json_array_contains(line.agreed_payees, t.payee),
            json_array_contains(line.agreed_payees, t.merchant_name),
        ),
    )


def transfer_id_floor(session: Session, monitor: str, since: datetime) -> int | None:
    """The watermark this monitor had at its earliest run since ``since``: every transfer
    written after that moment has a higher id (None when it has not run since)."""
    return session.execute(
        select(func.min(MonitorRun.from_transfer_id)).where(
            MonitorRun.monitor == monitor, MonitorRun.started_at >= since, ~MonitorRun.dry_run
        )
    ).scalar_one_or_none()


def drained_loads(
    session: Session,
    loaded_from: datetime,
    now: datetime,
    hours: int,
    percent: int,
    *,
    id_floor: int = 0,
) -> list[Any]:
    """Loads since ``loaded_from`` after which more than ``percent`` of the amount left the
    account within ``hours`` (card spend, cash, and bank payments to payees the plan does
    not agree: paying the agreed care agency the day after a load is normal), net of
    refunds and returned payments in the same hours."""
    load = aliased(Transfer, name="load")
    account = aliased(Account, name="a")
    plan = aliased(Plan, name="p")
    t = aliased(Transfer, name="t")
    window_end = add_hours(load.effective_at, hours)
    paid_out = (
        select(total(t.amount))
        .where(
            t.debit_account_id == load.credit_account_id,
            t.effective_at >= load.effective_at,
            t.effective_at <= window_end,
            t.phase.in_(POSTED_PHASES),
            t.code.in_(SPEND_CODES),
            ~and_(t.code.in_(BANK_PAYMENT_CODES), _agreed_payee(plan.id, t)),
        )
        .scalar_subquery()
    )
    # Money that came back in the window (a refund, a returned payment) was not drained.
    back = aliased(Transfer, name="back")
    undone = aliased(Transfer, name="undone")
    came_back = (
        select(total(back.amount))
        .where(
            back.credit_account_id == load.credit_account_id,
            back.effective_at >= load.effective_at,
            back.effective_at <= window_end,
            back.phase.in_(POSTED_PHASES),
            or_(
                back.code == TransferCode.REFUND,
                and_(
                    back.code == TransferCode.REVERSAL,
                    exists().where(undone.id == back.reverses_id, undone.code.in_(SPEND_CODES)),
                ),
            ),
        )
        .scalar_subquery()
    )
    drained = paid_out - came_back
    return list(
        session.execute(
            select(
                load.id.label("load_id"),
                load.amount,
                load.effective_at,
                load.credit_account_id.label("account_id"),
                plan.id.label("plan_id"),
                plan.person_id,
                drained.label("drained"),
            )
            .join(account, account.id == load.credit_account_id)
            .join(
                plan,
                and_(
                    plan.budget_account_id == budget_of(account),
                    plan.status == PlanStatus.ACTIVE,
                ),
            )
            .where(
                load.id > id_floor,  # keeps the search to recent ids (the primary key)
                load.code.in_(LOAD_CODES),
                load.phase.in_(POSTED_PHASES),
                account.kind.in_([AccountKind.PERSONAL_BUDGET, AccountKind.COMPANION_POT]),
                load.effective_at >= loaded_from,
                load.effective_at <= now,
                drained * 100 > load.amount * percent,
            )
        ).all()
    )


def spend_after_death_or_in_hospital(
    session: Session, window: Window, grace_days: int, *, rescan_people: Sequence[int] = ()
) -> list[Any]:
    """Card spend, cash and bank payments after the person's death, and card spend or cash
    during a hospital stay more than ``grace_days`` after admission: the window's new
    transfers, and every transfer up to the window's top of ``rescan_people`` (people
    whose death or admission was recorded since the last run, after the fact). Driven
    from the (few) people with a recorded death or hospital stay, so it does not classify
    every new transfer."""
    concerned = union_all(
        select(Person.id).where(Person.date_of_death.is_not(None)),
        select(LifeEvent.person_id).where(LifeEvent.kind == LifeEventKind.HOSPITAL_STAY),
    )
    if session.execute(select(concerned.subquery().c[0]).limit(1)).first() is None:
        return []  # nobody has died or been in hospital: no transfer to look at
    found = {
        row.transfer_id: row
        for row in _life_event_spend(session, grace_days, window.clauses, concerned)
    }
    people = sorted(set(rescan_people))
    if people:
        for row in _life_event_spend(session, grace_days, lambda t: [t.id <= window.hi], people):
            found.setdefault(row.transfer_id, row)
    return [found[key] for key in sorted(found) if _concerning(found[key])]


def _concerning(row: Any) -> bool:
    if row.date_of_death is not None and row.day > row.date_of_death:
        return True
    return row.admitted_on is not None and row.code in CARD_CODES


def _life_event_spend(
    session: Session, grace_days: int, transfers: Callable[[Any], list[Any]], people: Any
) -> list[Any]:
    t = aliased(Transfer, name="t")
    payer = aliased(Account, name="payer")
    plan = aliased(Plan, name="p")
    person = aliased(Person, name="person")
    stay = aliased(LifeEvent, name="stay")
    day = london_date(t.effective_at)
    in_hospital = (
        select(func.min(stay.starts_on))
        .where(
            stay.person_id == person.id,
            stay.kind == LifeEventKind.HOSPITAL_STAY,
            days_between(stay.starts_on, day) > grace_days,
            or_(stay.ends_on.is_(None), stay.ends_on >= day),
        )
        .scalar_subquery()
    )
    return list(
        session.execute(
            select(
                t.id.label("transfer_id"),
                t.amount,
                t.code,
                t.card_id,
                t.merchant_name,
                t.payee,
                day.label("day"),
                plan.id.label("plan_id"),
                plan.person_id,
                plan.budget_account_id,
                person.date_of_death,
                in_hospital.label("admitted_on"),
            )
            .select_from(person)
            .join(plan, and_(plan.person_id == person.id, plan.status == PlanStatus.ACTIVE))
            .join(payer, budget_of(payer) == plan.budget_account_id)
            .join(t, t.debit_account_id == payer.id)
            .where(
                person.id.in_(people),
                *transfers(t),
                t.phase.in_(POSTED_PHASES),
                t.code.in_((*CARD_CODES, *BANK_PAYMENT_CODES)),
                day >= plan.starts_on,
            )
            .order_by(t.id)
        ).all()
    )


def life_events_recorded_after(session: Session, record_id: int) -> list[Any]:
    """Deaths and hospital admissions recorded after the life event ``record_id``."""
    return list(
        session.execute(
            select(LifeEvent.id, LifeEvent.person_id)
            .where(
                LifeEvent.id > record_id,
                LifeEvent.kind.in_([LifeEventKind.DEATH, LifeEventKind.HOSPITAL_STAY]),
            )
            .order_by(LifeEvent.id)
        ).all()
    )


def payments_to_household(session: Session, window: Window) -> list[Any]:
    """New payments to someone recorded as a carer sharing the person's household, with
    no plan line agreeing that payee. Driven from the caring relationships."""
    t = aliased(Transfer, name="t")
    payer = aliased(Account, name="payer")
    plan = aliased(Plan, name="p")
    carer = aliased(Person, name="carer")
    rel = aliased(CaringRelationship, name="rel")
    name = func.lower(func.trim(carer.full_name))
    households = select(CaringRelationship.id).where(CaringRelationship.shares_household.is_(True))
    if session.execute(households.limit(1)).first() is None:
        return []  # no carer recorded as sharing a household
    return list(
        session.execute(
            select(
                t.id.label("transfer_id"),
                t.amount,
                london_date(t.effective_at).label("day"),
                plan.id.label("plan_id"),
                plan.person_id,
                carer.full_name.label("carer_name"),
                rel.relationship,
            )
            .select_from(rel)
            .join(carer, carer.id == rel.carer_id)
            .join(plan, and_(plan.person_id == rel.cared_for_id, plan.status == PlanStatus.ACTIVE))
            .join(payer, budget_of(payer) == plan.budget_account_id)
            .join(t, t.debit_account_id == payer.id)
            .where(
                rel.shares_household.is_(True),
                *window.clauses(t),
                t.phase.in_(POSTED_PHASES),
                t.code.in_(SPEND_CODES),
                or_(
                    func.lower(func.trim(t.payee)) == name,
                    func.lower(func.trim(t.merchant_name)) == name,
                ),
                ~_agreed_payee(plan.id, t),
            )
            .order_by(t.id)
        ).all()
    )


def _unusual_cash(t: Any, start_hour: int, end_hour: int) -> list[Any]:
    """Cash between ``start_hour`` and ``end_hour`` (London time); a window that passes
    midnight (22 to 5) wraps."""
    hour = london_hour(t.effective_at)
    if start_hour < end_hour:
        in_hours = and_(hour >= start_hour, hour < end_hour)
    else:
        in_hours = or_(hour >= start_hour, hour < end_hour)
    return [
        t.phase.in_(POSTED_PHASES),
        or_(t.code == TransferCode.CASH_WITHDRAWAL, t.mcc.in_(CASH_MCCS)),
        t.card_id.is_not(None),
        in_hours,
    ]


def cards_with_new_unusual_cash(
    session: Session, window: Window, start_hour: int, end_hour: int
) -> list[int]:
    t = aliased(Transfer, name="t")
    found = session.execute(
        select(t.card_id)
        .where(*window.clauses(t), *_unusual_cash(t, start_hour, end_hour))
        .distinct()
    ).scalars()
    return [card_id for card_id in found if card_id is not None]


def unusual_cash_since(
    session: Session, card_ids: list[int], since: datetime, start_hour: int, end_hour: int
) -> list[Any]:
    """Unusual-hours cash on these cards since ``since``, with each card's person."""
    if not card_ids:
        return []
    t = aliased(Transfer, name="t")
    account = aliased(Account, name="a")
    plan = aliased(Plan, name="p")
    return list(
        session.execute(
            select(t.id, t.card_id, t.amount, t.effective_at, plan.person_id)
            .join(account, account.id == t.debit_account_id)
            .join(
                plan,
                and_(
                    plan.budget_account_id == budget_of(account),
                    plan.status == PlanStatus.ACTIVE,
                ),
            )
            .where(
                t.card_id.in_(card_ids),
                t.effective_at >= since,
                *_unusual_cash(t, start_hour, end_hour),
            )
            .order_by(t.card_id, t.id)
        ).all()
    )

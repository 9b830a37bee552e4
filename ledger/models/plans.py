"""Care and support plans, carers' support plans, and their plan lines."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.db import Base
from ledger.models.types import str_enum


class PlanKind(StrEnum):
    CARE_AND_SUPPORT = "care_and_support"
    CARER_SUPPORT = "carer_support"


class PlanStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ENDED = "ended"


class PlanCategory(StrEnum):
    """What a part of the budget is for."""

    PA_WAGES = "pa_wages"
    AGENCY_CARE = "agency_care"
    REPLACEMENT_CARE = "replacement_care"
    DAY_ACTIVITY = "day_activity"
    EQUIPMENT = "equipment"
    TRANSPORT = "transport"
    WELLBEING = "wellbeing"
    SHORT_BREAK = "short_break"
    HMRC_PAYE = "hmrc_paye"
    EMPLOYERS_LIABILITY_INSURANCE = "employers_liability_insurance"
    PAYROLL_SERVICE = "payroll_service"
    CASH = "cash"


class Plan(Base):
    """A person's care and support plan, or a carer's support plan.

    Joint plans link a carer's plan and the cared-for person's plan.
    """

    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint("budget_per_period >= 0", name="budget_not_negative"),
        CheckConstraint("client_contribution_per_period >= 0", name="contribution_not_negative"),
        CheckConstraint("period_weeks > 0", name="period_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[PlanKind] = mapped_column(str_enum(PlanKind))
    status: Mapped[PlanStatus] = mapped_column(str_enum(PlanStatus))
    budget_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    period_weeks: Mapped[int]
    budget_per_period: Mapped[int]
    client_contribution_per_period: Mapped[int]
    cash_allowance_per_period: Mapped[int] = mapped_column(default=0)
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    review_date: Mapped[date]
    joint_with_plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))

    lines: Mapped[list[PlanLine]] = relationship(
        back_populates="plan", order_by="PlanLine.id", cascade="all, delete-orphan"
    )


class PlanLine(Base):
    """One part of a plan's budget: its category, allowance, agreed payees and MCCs."""

    __tablename__ = "plan_lines"
    __table_args__ = (CheckConstraint("amount_per_period >= 0", name="amount_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    category: Mapped[PlanCategory] = mapped_column(str_enum(PlanCategory))
    description: Mapped[str] = mapped_column(String(200))
    amount_per_period: Mapped[int]
    one_off: Mapped[bool] = mapped_column(default=False)
    agreed_payees: Mapped[list[str]] = mapped_column(JSON, default=list)
    merchant_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    meets_needs_of_id: Mapped[int] = mapped_column(ForeignKey("people.id"))

    plan: Mapped[Plan] = relationship(back_populates="lines")

"""The surplus calculation, shared by the surplus monitor and clawback proposals.

    balance     = the budget account + its companion pots (posted)
    free        = balance - open holds - committed regular payments - contingency
    surplus     = free - N weeks of budget (N = ``surplus_weeks``, default 8)
    recoverable = the budget account's available balance - contingency
    proposal    = the smaller of surplus and recoverable (never below zero)

Committed regular payments are the direct debits, standing orders and Faster Payments of
the last complete plan period, expected again. Money in companion pots counts towards the
surplus but is not recovered from the budget account directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitoring.settings import MonitoringSettings


@dataclass(frozen=True)
class SurplusCalculation:
    plan_id: int
    person_id: int
    budget_account_id: int
    period_index: int
    budget_posted: int
    pots_posted: int
    holds: int
    committed: int
    contingency: int
    weekly_budget: int
    weeks_kept: int
    kept: int
    budget_available: int

    @property
    def balance(self) -> int:
        return self.budget_posted + self.pots_posted

    @property
    def free(self) -> int:
        return self.balance - self.holds - self.committed - self.contingency

    @property
    def surplus(self) -> int:
        return self.free - self.kept

    @property
    def recoverable(self) -> int:
        return max(0, self.budget_available - self.contingency)

    @property
    def proposal(self) -> int:
        return max(0, min(self.surplus, self.recoverable))

    def items(self) -> dict[str, int]:
        """The itemised calculation, in pence, as shown to officers and kept with flags
        and proposals."""
        return {
            "budget_balance": self.budget_posted,
            "companion_pots": self.pots_posted,
            "open_holds": self.holds,
            "committed_regular_payments": self.committed,
            "contingency": self.contingency,
            "weeks_of_budget_kept": self.weeks_kept,
            "amount_kept": self.kept,
            "surplus": self.surplus,
            "recoverable_from_budget": self.recoverable,
            "proposed_clawback": self.proposal,
        }


def calculate(row: Any, settings: MonitoringSettings) -> SurplusCalculation:
    """From a row of ``repositories.plans.surplus_positions``."""
    weekly = row.budget_per_period // row.period_weeks
    return SurplusCalculation(
        plan_id=row.plan_id,
        person_id=row.person_id,
        budget_account_id=row.budget_account_id,
        period_index=row.period_index,
        budget_posted=row.budget_posted,
        pots_posted=row.pots_posted,
        holds=row.holds,
        committed=row.committed,
        contingency=weekly * settings.contingency_weeks,
        weekly_budget=weekly,
        weeks_kept=settings.surplus_weeks,
        kept=weekly * settings.surplus_weeks,
        budget_available=row.budget_available,
    )

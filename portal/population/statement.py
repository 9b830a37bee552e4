"""The provider's statement file for the last day: closing balances, reconciled by the
statement-file adapter (``adapters.statement_file.import_statement``) as ``dpledger
import`` does. Balances come from the provider's own book, so they agree with the ledger
unless a planted case says otherwise (the provider knows of a payment the ledger does
not)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from adapters.statement_file import HEADER, ImportReport, import_statement
from ledger.clock import FixedClock
from portal.population.days import Simulation
from portal.population.enrol import BudgetSim
from portal.population.roster import CardDraft
from portal.population.spec import PROVIDER, PopulationSpec, at


def closing_lines(spec: PopulationSpec, state: Simulation) -> list[str]:
    """A closing balance for every card of every tenth person and of every planted
    reconciliation break or arrears case."""
    lines = []
    for sim in state.sims:
        plant = sim.case.plant if sim.primary else None
        kind = plant.kind if plant else None
        if sim.case.index % 10 and kind not in ("reconciliation_break", "arrears"):
            continue
        for card in _cards(sim):
            balance = state.book.closing(sim.account_of(card))
            if kind == "reconciliation_break" and card is sim.card and plant is not None:
                balance += plant.amount
            lines.append(_line(card, spec, balance))
    return lines


def import_closing_balances(
    factory: sessionmaker[Session], clock: FixedClock, spec: PopulationSpec, lines: list[str]
) -> ImportReport:
    clock.current = at(spec.today, 4)
    with tempfile.TemporaryDirectory(prefix="dpledger-population-") as folder:
        path = Path(folder) / f"{spec.ref_prefix.lower()}-statement-{spec.last_day.isoformat()}.csv"
        path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
        return import_statement(factory, path, clock, provider=PROVIDER)


def _cards(sim: BudgetSim) -> list[CardDraft]:
    return [sim.card] + ([sim.companion] if sim.companion is not None else [])


def _line(card: CardDraft, spec: PopulationSpec, pence: int) -> str:
    sign = "-" if pence < 0 else ""
    pounds = f"{sign}{abs(pence) // 100}.{abs(pence) % 100:02d}"
    return f"CLOSING_BALANCE,,{card.token},{spec.last_day.isoformat()},{pounds},GBP,,,,,,,"

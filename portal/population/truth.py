"""The ground truth of a generated population: for each monitor, the subjects it must
flag (in its own terms: a card, a plan, a plan line, an account), and each monitor's
precision and recall against it once the monitors have run.

- recall: of the planted subjects, the share the monitor flagged;
- precision: of the population's subjects the monitor flagged, the share that were
  planted (1.0 when it flagged nothing).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from monitoring.monitors import ALL_MONITORS
from portal.population.plants import BY_NAME
from portal.population.repository import flagged_subjects
from portal.population.roster import Case, Plant
from portal.population.spec import PopulationSpec


@dataclass(frozen=True)
class Expected:
    monitor: str
    subject_type: str
    subject_id: int
    person: str  # the council reference of the person concerned
    plant: str
    what: str


@dataclass
class GroundTruth:
    population: dict[str, Any]
    expected: list[Expected] = field(default_factory=list)
    not_planted: list[dict[str, str]] = field(default_factory=list)
    person_ids: list[int] = field(default_factory=list)

    def subjects(self, monitor: str) -> set[tuple[str, int]]:
        return {(e.subject_type, e.subject_id) for e in self.expected if e.monitor == monitor}

    def to_json(self) -> dict[str, Any]:
        by_monitor: dict[str, list[dict[str, Any]]] = {m.name: [] for m in ALL_MONITORS}
        for item in self.expected:
            entry = asdict(item)
            del entry["monitor"]
            by_monitor[item.monitor].append(entry)
        return {
            "population": self.population,
            "expected": by_monitor,
            "not_planted": self.not_planted,
            "person_ids": self.person_ids,
        }

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> GroundTruth:
        data = json.loads(path.read_text(encoding="utf-8"))
        expected = [
            Expected(monitor=monitor, **entry)
            for monitor, entries in data["expected"].items()
            for entry in entries
        ]
        return cls(data["population"], expected, data["not_planted"], data["person_ids"])


def ground_truth(spec: PopulationSpec, cases: list[Case], failed: set[int]) -> GroundTruth:
    truth = GroundTruth(
        population={
            "people": spec.people,
            "months": spec.months,
            "seed": spec.seed,
            "today": spec.today.isoformat(),
            "as_of": spec.as_of.isoformat(),
            "ref_prefix": spec.ref_prefix,
        }
    )
    for case in cases:
        truth.person_ids.append(case.person.person_id)
        if case.carer is not None:
            truth.person_ids.append(case.carer.person_id)
        plant = case.plant
        if plant is None:
            continue
        kind = BY_NAME[plant.kind]
        if case.index in failed:
            truth.not_planted.append(
                {"person": case.person.ref, "plant": kind.name, "why": "a payment was refused"}
            )
            continue
        subject = _subject(case, plant, kind.subject)
        for monitor in kind.monitors:
            truth.expected.append(
                Expected(monitor, kind.subject, subject, case.person.ref, kind.name, kind.what)
            )
    order = {monitor.name: n for n, monitor in enumerate(ALL_MONITORS)}
    truth.expected.sort(key=lambda e: (order[e.monitor], e.person, e.subject_type, e.subject_id))
    return truth


def _subject(case: Case, plant: Plant, subject_type: str) -> int:
    if subject_type == "card":
        if plant.on_companion and case.companion_card is not None:
            return case.companion_card.card_id
        return case.card.card_id
    if subject_type == "plan_line":
        return case.plan.lines[plant.line].line_id
    if subject_type == "account":
        return case.plan.budget_id
    return case.plan.plan_id


@dataclass(frozen=True)
class MonitorScore:
    monitor: str
    expected: int
    flagged: int
    found: int  # expected and flagged

    @property
    def recall(self) -> float:
        return self.found / self.expected if self.expected else 1.0

    @property
    def precision(self) -> float:
        return self.found / self.flagged if self.flagged else 1.0


def score(session: Session, truth: GroundTruth) -> list[MonitorScore]:
    """Each monitor's precision and recall over the flags raised on the population."""
    flagged = flagged_subjects(session, set(truth.person_ids))
    out = []
    for monitor in ALL_MONITORS:
        expected = truth.subjects(monitor.name)
        raised = {(t, i) for m, t, i in flagged if m == monitor.name}
        out.append(MonitorScore(monitor.name, len(expected), len(raised), len(expected & raised)))
    return out

"""Every planted case is flagged by its monitor when the real monitors run over a
generated population (recall), and little else is (precision); the ground truth file
says what was planted, in the monitors' own subjects."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from monitoring.models import Flag
from monitoring.monitors import ALL_MONITORS
from portal.population import GroundTruth, score
from portal.population.plants import KINDS
from tests.population.conftest import Population


def test_every_kind_of_case_was_planted(population: Population) -> None:
    truth = population.made.truth
    assert truth.not_planted == []
    planted = {expected.plant for expected in truth.expected}
    assert planted == {kind.name for kind in KINDS}
    for monitor in ALL_MONITORS:
        assert truth.subjects(monitor.name), f"nothing planted for {monitor.name}"


def test_every_planted_case_is_flagged_by_its_monitor(population: Population) -> None:
    truth = population.made.truth
    with population.sessions() as session:
        flags = session.execute(select(Flag.monitor, Flag.subject_type, Flag.subject_id)).all()
    raised = {(monitor, kind, int(subject)) for monitor, kind, subject in flags}
    missed = [e for e in truth.expected if (e.monitor, e.subject_type, e.subject_id) not in raised]
    assert missed == []
    with population.sessions() as session:
        scores = score(session, truth)
    assert [s.monitor for s in scores if s.recall < 1.0] == []


def test_the_background_raises_few_flags_of_its_own(population: Population) -> None:
    """Precision: what the monitors flag beyond the planted cases is the population's
    own noise, which the generator keeps low (spending within each line, balances level,
    contributions paid, reviews not yet due)."""
    with population.sessions() as session:
        scores = score(session, population.made.truth)
    flagged = sum(s.flagged for s in scores)
    found = sum(s.found for s in scores)
    assert flagged - found <= 2, [(s.monitor, s.flagged - s.found) for s in scores]


def test_planted_subjects_are_in_the_monitors_terms(population: Population) -> None:
    truth = population.made.truth
    kinds = {(e.monitor, e.subject_type) for e in truth.expected}
    assert ("spend_outside_plan", "card") in kinds
    assert ("spend_outside_plan", "plan_line") in kinds
    assert ("rapid_drain", "account") in kinds
    assert ("arrears", "account") in kinds
    assert ("unusual_hours_cash", "card") in kinds
    assert ("review_due", "plan") in kinds
    # An unmet need is also a surplus: the loads keep arriving.
    unmet = {e.subject_id for e in truth.expected if e.plant == "unmet_need"}
    surplus = {e.subject_id for e in truth.expected if e.monitor == "surplus"}
    assert unmet and unmet <= surplus


def test_the_ground_truth_file_round_trips(population: Population, tmp_path: Path) -> None:
    truth = population.made.truth
    path = tmp_path / "truth.json"
    truth.write(path)
    data = json.loads(path.read_text())
    assert set(data["expected"]) == {m.name for m in ALL_MONITORS}
    assert data["population"]["seed"] == population.spec.seed
    first = data["expected"]["arrears"][0]
    assert set(first) == {"subject_type", "subject_id", "person", "plant", "what"}
    again = GroundTruth.read(path)
    assert again.expected == truth.expected
    assert again.person_ids == truth.person_ids

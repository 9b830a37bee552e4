"""The shape of a benchmark figure, and ``instance/bench.json``."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from ledger.db import INSTANCE_DIR

Scale = Literal["small", "full"]


@dataclass(frozen=True)
class Figure:
    """One measured figure.

    ``ratio`` is value / baseline when a baseline was measured in the same run. The target
    is met when ``ratio`` (or ``value``, with no ratio) is at least the target for
    ``better="higher"``, at most for ``better="lower"``.
    """

    name: str
    value: float
    unit: str
    baseline: float | None = None
    ratio: float | None = None
    target: float | None = None
    better: Literal["higher", "lower"] = "higher"

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        measured = self.ratio if self.ratio is not None else self.value
        return measured >= self.target if self.better == "higher" else measured <= self.target

    def line(self) -> str:
        text = f"{self.name}: {self.value:,.1f} {self.unit}"
        if self.baseline is not None:
            text += f" (baseline {self.baseline:,.1f} {self.unit}"
            if self.ratio is not None:
                text += f", ratio {self.ratio:.2f}"
            text += ")"
        if self.target is not None:
            kind = "ratio" if self.ratio is not None else "value"
            sign = ">=" if self.better == "higher" else "<="
            text += f"  target {kind} {sign} {self.target:g}: {'met' if self.met else 'NOT MET'}"
        return text


def with_baseline(
    name: str, value: float, baseline: float, unit: str, target: float | None = None
) -> Figure:
    ratio = value / baseline if baseline else None
    return Figure(name, round(value, 3), unit, round(baseline, 3), _round(ratio), target)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def bench_path() -> Path:
    return Path(os.environ.get("DPLEDGER_BENCH_FILE", INSTANCE_DIR / "bench.json"))


def record(figures: list[Figure]) -> Path:
    """Merge figures into bench.json by name (a later run replaces an earlier figure)."""
    path = bench_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    existing: list[dict[str, object]] = []
    if path.exists():
        try:
            existing = json.loads(path.read_text())
        except json.JSONDecodeError:
            existing = []
    names = {f.name for f in figures}
    merged = [e for e in existing if e.get("name") not in names]
    merged += [asdict(f) for f in figures]
    path.write_text(json.dumps(merged, indent=2) + "\n")
    return path

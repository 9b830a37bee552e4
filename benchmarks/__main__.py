"""``python -m benchmarks --scale small|full``: run every benchmark, print, record."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from typing import cast

from benchmarks.figures import Figure, Scale, record

# Each module has run(scale) -> list[Figure]. Parts add theirs here.
BENCHMARKS = (
    "benchmarks.ledger_postings",
    "benchmarks.statement_import",
    "benchmarks.monitoring",
    "benchmarks.monitor_accuracy",
    "benchmarks.authorisation_http",
    "benchmarks.portal_pages",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("--scale", choices=["small", "full"], default="small")
    parser.add_argument("--only", help="run only benchmark modules whose name contains this")
    args = parser.parse_args(argv)
    scale = cast(Scale, args.scale)
    figures: list[Figure] = []
    for name in BENCHMARKS:
        if args.only and args.only not in name:
            continue
        started = time.perf_counter()
        print(f"== {name} (scale {scale})", flush=True)
        module = importlib.import_module(name)
        results: list[Figure] = module.run(scale)
        for figure in results:
            print(f"  {figure.line()}", flush=True)
        print(f"  ({time.perf_counter() - started:.0f} s)", flush=True)
        figures += results
    path = record(figures)
    missed = [f.name for f in figures if f.met is False]
    print(f"\nwrote {len(figures)} figures to {path}")
    if missed:
        print("targets not met: " + ", ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())

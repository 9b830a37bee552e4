"""Prometheus metrics in the text exposition format (version 0.0.4), without a client
library.

Request counts and latencies are kept per process: each gunicorn worker counts its own
requests, and a scrape sees the worker that answered it (see docs/production.md). The
database figures (inbox backlog, parked events, monitor runs, the scheduler lease and
its jobs) are read at scrape time, so every worker reports the same.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

# Request latency buckets, in seconds.
BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def labels(**pairs: str) -> str:
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{escape(v)}"' for k, v in pairs.items()) + "}"


def number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


@dataclass
class _Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    total: int = 0
    sum: float = 0.0


class RequestMetrics:
    """Requests by method, route template and status, and their latency, in this
    process. Thread-safe (gunicorn's threaded workers, the development server)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str], int] = {}
        self._latency: dict[tuple[str, str], _Histogram] = {}
        self.started_at = time.time()

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            key = (method, route, str(status))
            self._requests[key] = self._requests.get(key, 0) + 1
            histogram = self._latency.setdefault((method, route), _Histogram())
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    histogram.counts[i] += 1
            histogram.total += 1
            histogram.sum += seconds

    def lines(self) -> list[str]:
        with self._lock:
            requests = sorted(self._requests.items())
            latency = sorted(
                (key, _Histogram(list(h.counts), h.total, h.sum))
                for key, h in self._latency.items()
            )
        out = [
            "# HELP dpledger_http_requests_total HTTP requests answered by this process.",
            "# TYPE dpledger_http_requests_total counter",
        ]
        for (method, route, status), count in requests:
            out.append(
                "dpledger_http_requests_total"
                f"{labels(method=method, route=route, status=status)} {count}"
            )
        out += [
            "# HELP dpledger_http_request_duration_seconds Time to answer a request.",
            "# TYPE dpledger_http_request_duration_seconds histogram",
        ]
        for (method, route), h in latency:
            name = "dpledger_http_request_duration_seconds"
            for bound, count in zip(BUCKETS, h.counts, strict=True):
                le = labels(method=method, route=route, le=number(bound))
                out.append(f"{name}_bucket{le} {count}")
            out.append(f"{name}_bucket{labels(method=method, route=route, le='+Inf')} {h.total}")
            out.append(f"{name}_sum{labels(method=method, route=route)} {number(h.sum)}")
            out.append(f"{name}_count{labels(method=method, route=route)} {h.total}")
        out += [
            "# HELP dpledger_process_start_time_seconds When this process started counting.",
            "# TYPE dpledger_process_start_time_seconds gauge",
            f"dpledger_process_start_time_seconds {number(self.started_at)}",
        ]
        return out


@dataclass(frozen=True)
class Sample:
    value: float
    label_pairs: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True)
class Family:
    """One metric and its samples, as the exposition format writes them."""

    name: str
    kind: str  # counter, gauge, summary
    help: str
    samples: Sequence[Sample] = ()
    # For summaries: (suffix, samples) pairs such as ("_sum", ...), ("_count", ...).
    parts: Sequence[tuple[str, Sequence[Sample]]] = ()

    def lines(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} {self.kind}"
        for sample in self.samples:
            yield f"{self.name}{labels(**dict(sample.label_pairs))} {number(sample.value)}"
        for suffix, samples in self.parts:
            for sample in samples:
                yield (
                    f"{self.name}{suffix}{labels(**dict(sample.label_pairs))} "
                    f"{number(sample.value)}"
                )


def timestamp(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else 0.0


def render(families: Iterable[Family], request_lines: Iterable[str]) -> str:
    lines = list(request_lines)
    for family in families:
        lines.extend(family.lines())
    return "\n".join(lines) + "\n"

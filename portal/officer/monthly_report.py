"""The monthly monitoring report: its figures (``portal.repositories.monthly_report`` and
``monitoring.flags.precision_by_monitor``), per monitor in the catalogue's order, and
the same figures as charts and as CSV. Money stays in pence until it is written out."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from ledger.money import format_pence
from monitoring.dates import start_of_day
from monitoring.flags import Precision, precision_by_monitor
from monitoring.monitors import ALL_MONITORS
from portal.officer.charts import BarChart, Series, bar_chart
from portal.repositories import monthly_report as figures
from portal.repositories.monthly_report import ClawbackTotals, TriageTimes

Row = Callable[[str, str, str, object], None]
_MONTH = re.compile(r"(\d{4})-(\d{2})")
TITLES = {monitor.name: monitor.title for monitor in ALL_MONITORS}
ORDER = {monitor.name: n for n, monitor in enumerate(ALL_MONITORS)}


def parse_month(text: str) -> date | None:
    """The first day of a month written ``YYYY-MM``; None if it is not one."""
    found = _MONTH.fullmatch(text.strip())
    if found is None:
        return None
    year, month = int(found[1]), int(found[2])
    if not (2000 <= year <= 2200 and 1 <= month <= 12):
        return None
    return date(year, month, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


@dataclass(frozen=True)
class MonitorLine:
    monitor: str
    title: str
    raised: int
    closed: int
    triage: TriageTimes | None
    precision: Precision | None


@dataclass(frozen=True)
class MonthlyReport:
    month: date
    start: datetime
    end: datetime
    lines: list[MonitorLine]
    triage: TriageTimes  # all monitors together
    clawbacks: ClawbackTotals

    @property
    def name(self) -> str:
        return f"{self.month:%B %Y}"


def monthly_report(session: Session, month: date) -> MonthlyReport:
    """The month's figures (a London calendar month)."""
    start, end = start_of_day(month), start_of_day(next_month(month))
    figures.without_jit(session)
    flags = {row.monitor: row for row in figures.flags_by_monitor(session, start, end)}
    per_monitor, overall = figures.triage_times(session, start, end)
    triage = {row.monitor: row for row in per_monitor}
    precision = {
        row.monitor: row
        for row in precision_by_monitor(session, closed_from=start, closed_before=end)
    }
    names = sorted(
        {name for name in [*flags, *triage, *precision] if name is not None},
        key=lambda name: (ORDER.get(name, len(ORDER)), name),
    )
    lines = [
        MonitorLine(
            monitor=name,
            title=TITLES.get(name, name.replace("_", " ").capitalize()),
            raised=flags[name].raised if name in flags else 0,
            closed=flags[name].closed if name in flags else 0,
            triage=triage.get(name),
            precision=precision.get(name),
        )
        for name in names
    ]
    return MonthlyReport(
        month, start, end, lines, overall, figures.clawback_totals(session, start, end)
    )


def duration_text(seconds: int | None) -> str:
    """3 days 4 hours; 5 hours 20 minutes; 12 minutes; under a minute."""
    if seconds is None:
        return "None acted on"
    minutes, hours, days = seconds // 60 % 60, seconds // 3600 % 24, seconds // 86400
    if days:
        parts = [_plural(days, "day"), _plural(hours, "hour") if hours else ""]
    elif hours:
        parts = [_plural(hours, "hour"), _plural(minutes, "minute") if minutes else ""]
    else:
        parts = [_plural(minutes, "minute") if minutes else "Under a minute"]
    return " ".join(part for part in parts if part)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def precision_percent(found: Precision | None) -> Decimal | None:
    """Confirmed as a percentage of confirmed and not confirmed, to one decimal place."""
    if found is None or not found.confirmed + found.not_confirmed:
        return None
    share = Decimal(found.confirmed * 100) / Decimal(found.confirmed + found.not_confirmed)
    return share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def percent_text(value: Decimal | None) -> str:
    if value is None:
        return "None closed"
    return f"{value.normalize():f}%" if value == value.to_integral() else f"{value}%"


def hours(seconds: int | None) -> str:
    if seconds is None:
        return ""
    return str((Decimal(seconds) / 3600).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def charts(report: MonthlyReport) -> dict[str, BarChart | None]:
    """The report's four charts (None where there is nothing to draw)."""
    lines = report.lines
    flagged = [line for line in lines if line.raised or line.closed]
    timed = [line for line in lines if line.triage and line.triage.median_seconds is not None]
    judged = [line for line in lines if precision_percent(line.precision) is not None]
    claw = report.clawbacks
    return {
        "flags": bar_chart(
            "chart-flags",
            "Flags raised and closed, by monitor",
            f"Flags raised and closed in {report.name} for each monitor.",
            [line.title for line in flagged],
            [
                Series("Raised", [x.raised for x in flagged], [str(x.raised) for x in flagged]),
                Series("Closed", [x.closed for x in flagged], [str(x.closed) for x in flagged]),
            ],
        )
        if flagged
        else None,
        "triage": bar_chart(
            "chart-triage",
            "Median time to triage, by monitor",
            f"The median time an officer took to first act on flags raised in {report.name}.",
            [line.title for line in timed],
            [
                Series(
                    "Median",
                    [x.triage.median_seconds or 0 for x in timed if x.triage],
                    [duration_text(x.triage.median_seconds) for x in timed if x.triage],
                )
            ],
        )
        if timed
        else None,
        "clawbacks": bar_chart(
            "chart-clawbacks",
            "Clawbacks: amounts proposed, approved and executed",
            f"The amounts of clawbacks proposed, approved and executed in {report.name}.",
            ["Proposed", "Approved", "Executed"],
            [
                Series(
                    "Amount",
                    [claw.proposed_pence, claw.approved_pence, claw.executed_pence],
                    [
                        format_pence(claw.proposed_pence),
                        format_pence(claw.approved_pence),
                        format_pence(claw.executed_pence),
                    ],
                )
            ],
        )
        if claw.proposed or claw.approved or claw.executed
        else None,
        "precision": bar_chart(
            "chart-precision",
            "Precision, by monitor",
            f"Of the flags closed in {report.name}, the share that were confirmed.",
            [line.title for line in judged],
            [
                Series(
                    "Precision",
                    [int((precision_percent(x.precision) or 0) * 10) for x in judged],
                    [percent_text(precision_percent(x.precision)) for x in judged],
                )
            ],
        )
        if judged
        else None,
    }


def report_csv(report: MonthlyReport) -> str:
    """Every figure of the report, one per line: month, section, monitor, measure,
    value. Amounts are in pounds (1234.56), times in hours to one decimal place."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["month", "section", "monitor", "measure", "value"])
    month = f"{report.month:%Y-%m}"

    def row(section: str, monitor: str, measure: str, value: object) -> None:
        writer.writerow([month, section, monitor, measure, "" if value is None else value])

    for line in report.lines:
        row("flags", line.monitor, "raised", line.raised)
        row("flags", line.monitor, "closed", line.closed)
    for line in report.lines:
        if line.triage is not None:
            _triage_rows(row, line.monitor, line.triage)
    _triage_rows(row, "all monitors", report.triage)
    claw = report.clawbacks
    for step, count, pence in (
        ("proposed", claw.proposed, claw.proposed_pence),
        ("approved", claw.approved, claw.approved_pence),
        ("executed", claw.executed, claw.executed_pence),
    ):
        row("clawbacks", "", f"{step} (number)", count)
        row("clawbacks", "", f"{step} (pounds)", _pounds(pence))
    for line in report.lines:
        if line.precision is not None:
            row("precision", line.monitor, "confirmed", line.precision.confirmed)
            row("precision", line.monitor, "not confirmed", line.precision.not_confirmed)
            row("precision", line.monitor, "precision (%)", precision_percent(line.precision))
    return out.getvalue()


def _triage_rows(row: Row, monitor: str, times: TriageTimes) -> None:
    row("time to triage", monitor, "flags raised", times.raised)
    row("time to triage", monitor, "acted on", times.acted_on)
    row("time to triage", monitor, "not yet acted on", times.waiting)
    row("time to triage", monitor, "median (hours)", hours(times.median_seconds))
    row("time to triage", monitor, "mean (hours)", hours(times.mean_seconds))


def _pounds(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    return f"{sign}{pounds}.{rest:02d}"

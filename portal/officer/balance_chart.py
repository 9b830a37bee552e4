"""A budget's balance over time, drawn on the server as an SVG step line (no script),
with the same figures as a table for anyone who cannot see or use the chart.

The balance is the posted balance at the end of each council (Europe/London) day, from
the ledger's statement of the account: what the officers' other pages call "posted".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ledger.money import format_pence
from ledger.service import Statement
from monitoring.dates import london_date

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 96, 16, 16, 40
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


@dataclass(frozen=True)
class BalanceDay:
    day: date
    money_in: int
    money_out: int
    closing: int


@dataclass(frozen=True)
class Tick:
    at: float  # x or y in the SVG's coordinates
    label: str


@dataclass(frozen=True)
class BalanceChart:
    start: date
    end: date
    opening: int
    days: list[BalanceDay]  # every day from start to end
    path: str  # the SVG path of the step line
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    zero_y: float

    # The drawing's geometry, for the template.
    width, height = WIDTH, HEIGHT
    left, right, top, bottom = LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM

    @property
    def movements(self) -> list[BalanceDay]:
        """The days money moved: the rows of the table."""
        return [d for d in self.days if d.money_in or d.money_out]

    @property
    def closing(self) -> int:
        return self.days[-1].closing

    @property
    def lowest(self) -> BalanceDay:
        return min(self.days, key=lambda d: (d.closing, d.day))

    @property
    def highest(self) -> BalanceDay:
        return max(self.days, key=lambda d: (d.closing, -d.day.toordinal()))

    @property
    def summary(self) -> str:
        """The chart in one sentence (its SVG description)."""
        low, high = self.lowest, self.highest
        return (
            f"The balance was {format_pence(self.opening)} at the start of "
            f"{_long(self.start)} and {format_pence(self.closing)} at the end of "
            f"{_long(self.end)}. Lowest {format_pence(low.closing)} on {_long(low.day)}; "
            f"highest {format_pence(high.closing)} on {_long(high.day)}."
        )


def balance_chart(statement: Statement, start: date, end: date) -> BalanceChart:
    """Daily closing balances from ``start`` to ``end`` (council dates, both included)
    from a statement covering exactly those days."""
    if end < start:
        raise ValueError("a chart needs at least one day")
    moved: dict[date, tuple[int, int, int]] = {}
    for line in statement.lines:
        day = london_date(line.effective_at)
        money_in, money_out, _ = moved.get(day, (0, 0, 0))
        moved[day] = (money_in + line.money_in, money_out + line.money_out, line.balance)
    days = []
    balance = statement.opening_balance
    for n in range((end - start).days + 1):
        day = start + timedelta(days=n)
        money_in, money_out, closing = moved.get(day, (0, 0, balance))
        balance = closing
        days.append(BalanceDay(day, money_in, money_out, closing))

    low = min(0, statement.opening_balance, *(d.closing for d in days))
    high = max(statement.opening_balance, *(d.closing for d in days))
    step = _nice_step(max(high - low, 100) / 4)
    bottom, top = (low // step) * step, -((-high) // step) * step
    if top == bottom:
        top = bottom + step

    def y(value: int) -> float:
        return round(TOP + (top - value) / (top - bottom) * PLOT_HEIGHT, 1)

    def x(index: int) -> float:
        return round(LEFT + index * PLOT_WIDTH / len(days), 1)

    # A step line: each day's balance held across that day's width.
    path = [f"M{x(0)} {y(statement.opening_balance)}"]
    for index, held in enumerate(days):
        path.append(f"V{y(held.closing)} H{x(index + 1)}")
    every = max(1, round(len(days) / 6 / 7) * 7)
    x_ticks = [Tick(x(i), _short(d.day)) for i, d in enumerate(days) if i % every == 0]
    y_ticks = [Tick(y(v), format_pence(v)) for v in range(bottom, top + 1, step)]
    return BalanceChart(
        start, end, statement.opening_balance, days, " ".join(path), x_ticks, y_ticks, y(0)
    )


def _nice_step(rough: float) -> int:
    """1, 2 or 5 times a power of ten pence, at least ``rough``."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            if magnitude * factor >= rough:
                return magnitude * factor
        magnitude *= 10


def _short(day: date) -> str:
    return f"{day.day} {day:%b}"


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"

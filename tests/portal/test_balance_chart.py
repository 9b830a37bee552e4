"""The balance chart's figures: a closing balance for every council day, the days money
moved for the table, and axes that hold every balance."""

from __future__ import annotations

from datetime import UTC, date, datetime

from ledger.models import TransferCode
from ledger.service import Statement, StatementLine
from portal.officer.balance_chart import balance_chart


def line(when: datetime, money_in: int, money_out: int, balance: int) -> StatementLine:
    code = TransferCode.LOAD if money_in else TransferCode.CARD_SPEND
    return StatementLine(1, when, code, "", money_in, money_out, balance)


def statement(opening: int, *lines: StatementLine) -> Statement:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    end = datetime(2026, 3, 8, tzinfo=UTC)
    closing = lines[-1].balance if lines else opening
    return Statement(1, start, end, opening, closing, list(lines))


def test_each_day_closes_at_its_last_balance_in_london_time() -> None:
    chart = balance_chart(
        statement(
            1000,
            line(datetime(2026, 4, 1, 9, tzinfo=UTC), 5000, 0, 6000),
            # 23:30 UTC is 00:30 on 2 April in London (British Summer Time).
            line(datetime(2026, 4, 1, 23, 30, tzinfo=UTC), 0, 2500, 3500),
            line(datetime(2026, 4, 5, 12, tzinfo=UTC), 0, 500, 3000),
        ),
        date(2026, 4, 1),
        date(2026, 4, 7),
    )
    assert [d.closing for d in chart.days] == [6000, 3500, 3500, 3500, 3000, 3000, 3000]
    assert [(d.day.day, d.money_in, d.money_out) for d in chart.movements] == [
        (1, 5000, 0),
        (2, 0, 2500),
        (5, 0, 500),
    ]
    assert (chart.lowest.closing, chart.highest.closing) == (3000, 6000)
    assert chart.summary == (
        "The balance was £10.00 at the start of 1 April 2026 and £30.00 at the end of "
        "7 April 2026. Lowest £30.00 on 5 April 2026; highest £60.00 on 1 April 2026."
    )


def test_the_axis_holds_every_balance_and_starts_at_zero() -> None:
    chart = balance_chart(
        statement(0, line(datetime(2026, 3, 3, 12, tzinfo=UTC), 123456, 0, 123456)),
        date(2026, 3, 1),
        date(2026, 3, 7),
    )
    labels = [t.label for t in chart.y_ticks]
    assert labels[0] == "£0.00" and labels[-1] == "£1,500.00"
    ys = [t.at for t in chart.y_ticks]
    assert ys == sorted(ys, reverse=True)  # higher balances higher up
    assert chart.zero_y == ys[0] == chart.bottom
    assert chart.path.startswith(f"M{float(chart.left)} {float(chart.bottom)}")


def test_a_quiet_budget_still_has_an_axis() -> None:
    chart = balance_chart(statement(0), date(2026, 3, 1), date(2026, 3, 1))
    assert len(chart.days) == 1 and chart.movements == []
    assert len(chart.y_ticks) >= 2

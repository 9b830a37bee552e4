"""Reports for officers: the monthly monitoring report, as a page with charts (each
with a table of the same figures) and as CSV."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, render_template, request
from werkzeug.wrappers import Response

from monitoring.dates import today
from portal.app import clock, db_session
from portal.officer import monthly_report as report_of
from portal.officer.monthly_report import parse_month

reports_pages = Blueprint("reports", __name__, url_prefix="/officer/reports")

MONTHS_OFFERED = 24


def _month() -> tuple[date | None, date]:
    """The month asked for (None when it is not a month), and this month."""
    this_month = today(clock()).replace(day=1)
    asked = request.args.get("month")
    if asked is None:
        return this_month, this_month
    return parse_month(asked), this_month


def _months(this_month: date) -> list[date]:
    months = [this_month]
    while len(months) < MONTHS_OFFERED:
        months.append(report_of.previous_month(months[-1]))
    return months


@reports_pages.get("/monthly")
def monthly() -> str | tuple[str, int]:
    month, this_month = _month()
    if month is None:
        html = render_template(
            "officer/reports/monthly.html",
            report=None,
            months=_months(this_month),
            chosen=None,
            error="Enter a month as the year and month, for example 2026-04",
        )
        return html, 400
    report = report_of.monthly_report(db_session(), month)
    return render_template(
        "officer/reports/monthly.html",
        report=report,
        charts=report_of.charts(report),
        months=_months(this_month),
        chosen=month,
        error=None,
        previous=report_of.previous_month(month),
        following=report_of.next_month(month) if month < this_month else None,
        duration=report_of.duration_text,
        percent=lambda p: report_of.percent_text(report_of.precision_percent(p)),
    )


@reports_pages.get("/monthly.csv")
def monthly_csv() -> Response | tuple[str, int]:
    month, _ = _month()
    if month is None:
        html = render_template(
            "errors/http.html",
            title="There is a problem with your request",
            detail="Enter a month as the year and month, for example 2026-04.",
        )
        return html, 400
    report = report_of.monthly_report(db_session(), month)
    response = current_app.response_class(report_of.report_csv(report), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="monitoring-report-{month:%Y-%m}.csv"'
    )
    return response

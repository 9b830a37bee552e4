"""The monthly monitoring report, on the demo world: its figures come from flags raised
and triaged, and clawbacks proposed, approved and executed, through the services, over
two London months (so the month's edge at midnight BST is tested too)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from xml.etree.ElementTree import Element

import pytest
from sqlalchemy import select

from ledger.card_payments import CardPayments
from ledger.models import Plan
from monitoring import advocacy
from monitoring.clawback import Clawbacks, record_sent_notices
from monitoring.flags import Hit, Triage, raise_flags
from monitoring.models import DismissReason, Flag, Severity, SuggestedAction
from monitoring.notifications import dispatch
from monitoring.settings import load_settings
from tests.monitoring.fakes import RecordingProvider, RecordingSender
from tests.portal import portal_support as support
from tests.portal.portal_support import Web, page_text, parse_page, signed_in, text_of

web_module = support.web_module
web = support.web

OFFICER = "officer@example.org"


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _flag(web: Web, monitor: str, subject: int, when: datetime) -> int:
    web.clock.current = when
    with web.session() as session:
        hit = Hit(
            rule=f"{monitor}-rule",
            subject_type="person",
            subject_id=subject,
            evidence_key=f"{when.isoformat()}",
            severity=Severity.MEDIUM,
            title=f"A {monitor} finding",
            explanation="Found for the report test.",
            suggested_action=SuggestedAction.CHECK,
        )
        result = raise_flags(session, web.clock, load_settings(session), monitor, [hit])
        session.commit()
        (flag_id,) = result.flag_ids
        return flag_id


def _triage(web: Web, when: datetime, step: str, flag_id: int) -> None:
    web.clock.current = when
    with web.session() as session:
        triage = Triage(session, web.clock)
        if step == "assign":
            triage.assign(flag_id, officer=OFFICER, assignee=OFFICER, reason="Mine")
        elif step == "review":
            triage.start_review(flag_id, officer=OFFICER, reason="Looking")
        elif step == "dismiss":
            triage.dismiss(
                flag_id, officer=OFFICER, reason=DismissReason.AGREED_IN_PLAN, detail="In plan"
            )
        else:
            triage.mark_actioned(flag_id, officer=OFFICER, reason="Dealt with")
        session.commit()


def _plan_of(web: Web, reference: str) -> int:
    with web.session() as session:
        return session.execute(
            select(Plan.id).where(Plan.person_id == web.world.people[reference])
        ).scalar_one()


def _propose(web: Web, when: datetime, reference: str, amount: int, *, approve: bool) -> int:
    """Load a surplus onto the person's budget, propose recovering ``amount`` of it and,
    if asked, approve it and send the holder's notice."""
    web.clock.current = when
    plan_id = _plan_of(web, reference)
    with web.session() as session:
        plan = session.get(Plan, plan_id)
        assert plan is not None
        CardPayments(session, web.clock).load(
            plan.budget_account_id, 1_000_000, source="test", key=f"surplus-{reference}"
        )
        claw = Clawbacks(session, web.clock, RecordingProvider())
        proposal = claw.propose(plan_id=plan_id, officer=OFFICER, reason="Surplus", amount=amount)
        if approve:
            advocacy.record_need(
                session,
                web.clock,
                person_id=proposal.person_id,
                decision=f"clawback:{proposal.id}",
                substantial_difficulty=False,
                appropriate_person=True,
                officer=OFFICER,
                reason="Manages their own affairs",
            )
            claw.approve(proposal.id, officer=OFFICER, reason="Checked")
            # The notifications job emails the notice, which opens the response window.
            dispatch(session, web.clock, RecordingSender())
            assert record_sent_notices(session, web.clock) == 1
        session.commit()
        return proposal.id


def _execute(web: Web, when: datetime, proposal_id: int) -> None:
    web.clock.current = when
    with web.session() as session:
        Clawbacks(session, web.clock, RecordingProvider()).execute(
            proposal_id, officer=OFFICER, reason="Window closed"
        )
        session.commit()


@pytest.fixture()
def history(web: Web) -> Web:
    """April and May 2026 (London), in order:

    flags: review_due F5 raised 30 April 23:30 BST (April), F6 at 00:30 BST on 1 May
    (May); spend_outside_plan F1-F3 and surplus F4 on 2 May. First officer actions:
    F6 after 1 hour, F1 after 2 (assigned), F2 after 4 (dismissed), F4 after 10
    (actioned), F5 after 2 days 10 hours 30 minutes (actioned, on 3 May).
    clawbacks: Greg's £400 proposed and approved 24 April, executed 10 May; Vivian's
    £300 proposed and approved 5 May, executed 25 May; Margaret's £250 proposed 6 May.
    """
    greg = _propose(web, at(4, 24, 9), "DEMO-0001", 40_000, approve=True)
    f5 = _flag(web, "review_due", 5, at(4, 30, 22, 30))
    f6 = _flag(web, "review_due", 6, at(4, 30, 23, 30))
    _triage(web, at(5, 1, 0, 30), "review", f6)
    f1, f2, f3 = (_flag(web, "spend_outside_plan", n, at(5, 2, 9)) for n in (1, 2, 3))
    f4 = _flag(web, "surplus", 4, at(5, 2, 9))
    _triage(web, at(5, 2, 11), "assign", f1)
    _triage(web, at(5, 2, 13), "dismiss", f2)
    _triage(web, at(5, 2, 19), "actioned", f4)
    _triage(web, at(5, 3, 9), "actioned", f5)
    vivian = _propose(web, at(5, 5, 9), "DEMO-0007", 30_000, approve=True)
    _propose(web, at(5, 6, 9), "DEMO-0003", 25_000, approve=False)
    _execute(web, at(5, 10, 9), greg)
    _execute(web, at(5, 25, 9), vivian)
    with web.session() as session:
        assert session.get(Flag, f3) is not None  # raised, never acted on
    return web


def table(document: Element, caption: str) -> list[str]:
    for found in document.iter("table"):
        title = found.find("caption")
        if title is not None and text_of(title).startswith(caption):
            return [text_of(row) for row in found.iterfind(".//tbody/tr")]
    raise AssertionError(f"no table {caption!r}")


def test_the_months_figures_per_monitor(history: Web) -> None:
    response = signed_in(history, OFFICER).get("/officer/reports/monthly?month=2026-05")
    assert response.status_code == 200
    assert "style=" not in response.get_data(as_text=True)
    page = parse_page(response)

    assert table(page, "Flags raised and closed") == [
        "Spend outside the plan 3 1",
        "Surplus above the council's limit 1 1",
        "Review due or overdue 1 1",
    ]
    assert table(page, "Time to triage") == [
        "Spend outside the plan 3 2 1 3 hours 3 hours",
        "Surplus above the council's limit 1 1 0 10 hours 10 hours",
        "Review due or overdue 1 1 0 1 hour 1 hour",
        "All monitors 5 4 1 3 hours 4 hours 15 minutes",
    ]
    assert table(page, "Clawbacks in") == [
        "Proposed 2 £550.00",
        "Approved 1 £300.00",
        "Executed 2 £700.00",
    ]
    assert table(page, "Precision of flags closed") == [
        "Spend outside the plan 0 1 0%",
        "Surplus above the council's limit 1 0 100%",
        "Review due or overdue 1 0 100%",
    ]
    summary = text_of(page)
    assert "Flags raised 5 Flags closed 3 Median time to triage 3 hours" in summary
    assert "Clawbacks executed 2, £700.00" in summary


def test_the_charts_are_drawn_from_the_same_figures(history: Web) -> None:
    page = parse_page(signed_in(history, OFFICER).get("/officer/reports/monthly?month=2026-05"))
    charts = [e for e in page.iter() if str(e.tag).endswith("svg")]
    assert len(charts) == 4
    for chart in charts:
        assert chart.get("role") == "img" and chart.get("aria-labelledby")
    flags = charts[0]
    widths = [int(r.get("width") or 0) for r in flags.iter() if str(r.tag).endswith("rect")]
    # A legend key for each series, then raised and closed for each monitor, scaled so
    # the largest (3 raised by spend outside the plan) fills the 300 px plot.
    assert widths == [14, 14, 300, 100, 100, 100, 100, 100]
    clawbacks = charts[2]
    texts = [text_of(t) for t in clawbacks.iter() if str(t.tag).endswith("}text")]
    assert texts == ["Proposed", "Approved", "Executed", "£550.00", "£300.00", "£700.00"]


def test_the_month_before_counts_only_what_happened_in_it(history: Web) -> None:
    page = parse_page(signed_in(history, OFFICER).get("/officer/reports/monthly?month=2026-04"))
    assert [r.rsplit(" ", 2)[1:] for r in table(page, "Flags raised and closed")] == [["1", "0"]]
    assert table(page, "Time to triage")[-1] == (
        "All monitors 1 1 0 2 days 10 hours 2 days 10 hours"
    )
    assert table(page, "Clawbacks in") == [
        "Proposed 1 £400.00",
        "Approved 1 £400.00",
        "Executed 0 £0.00",
    ]
    assert "No flags were confirmed or dismissed in April 2026" in text_of(page)


def test_the_report_downloads_as_csv(history: Web) -> None:
    response = signed_in(history, OFFICER).get("/officer/reports/monthly.csv?month=2026-05")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "monitoring-report-2026-05.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["month", "section", "monitor", "measure", "value"]
    values = {(r[1], r[2], r[3]): r[4] for r in rows[1:]}
    assert values[("flags", "spend_outside_plan", "raised")] == "3"
    assert values[("flags", "review_due", "closed")] == "1"
    assert values[("time to triage", "all monitors", "median (hours)")] == "3.0"
    assert values[("time to triage", "all monitors", "mean (hours)")] == "4.3"
    assert values[("time to triage", "spend_outside_plan", "not yet acted on")] == "1"
    assert values[("clawbacks", "", "executed (pounds)")] == "700.00"
    assert values[("clawbacks", "", "proposed (number)")] == "2"
    assert values[("precision", "surplus", "precision (%)")] == "100.0"
    assert values[("precision", "spend_outside_plan", "precision (%)")] == "0.0"


def test_a_month_that_is_not_one_is_a_clear_error(web: Web) -> None:
    client = signed_in(web, OFFICER)
    for month in ("2026-13", "May", "2026-5", "99999-01"):
        response = client.get("/officer/reports/monthly", query_string={"month": month})
        assert response.status_code == 400
        assert "Enter a month as the year and month" in page_text(response)
        assert (
            client.get("/officer/reports/monthly.csv", query_string={"month": month}).status_code
            == 400
        )


def test_a_month_with_nothing_in_it_says_so(web: Web) -> None:
    text = page_text(signed_in(web, OFFICER).get("/officer/reports/monthly"))
    assert "April 2026" in text
    assert "No flags were raised or closed in April 2026" in text
    assert "All monitors 0 0 0 None acted on None acted on" in text

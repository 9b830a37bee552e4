"""The officers' flag queue and a flag's page, over real flags: the monitors run over the
demo world, plus two abuse flags raised through ``raise_flags`` days earlier (so some
are overdue). Filters, sorts, paging, bulk assign and dismiss; every triage action
through the test client, with its history; bad input changing nothing; who may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from ledger.clock import FixedClock
from ledger.models import Account, AccountKind, Transfer
from monitoring.dates import start_of_day
from monitoring.flags import Hit, Triage, raise_flags
from monitoring.models import (
    DismissReason,
    Disposition,
    Flag,
    FlagEvidence,
    FlagHistory,
    FlagNote,
    FlagStatus,
    SafeguardingRecord,
    Severity,
)
from monitoring.runner import run_all
from monitoring.settings import MonitoringSettings
from portal.formatting import london_datetime
from portal.models import RecordView
from portal.officer import flags as flag_views
from portal.repositories import flag_queue
from tests.portal import portal_support as support
from tests.portal.portal_support import (
    WEB_NOW,
    Web,
    csrf_token,
    page_text,
    parse_page,
    signed_in,
    text_of,
)

web_module = support.web_module
web = support.web

OFFICER = "officer@example.org"
SENIOR = "senior.officer@example.org"
HOLDERS = [
    "margaret.hughes@example.org",
    "harry.hughes@example.org",
    "vivian.shaw@example.org",
    "john.shaw@example.org",
]


def budget_of(session: Any, person_id: int) -> int:
    return int(
        session.execute(
            select(Account.id).where(
                Account.owner_id == person_id, Account.kind == AccountKind.PERSONAL_BUDGET
            )
        ).scalar_one()
    )


@pytest.fixture(scope="module", autouse=True)
def _flags_raised(web_module: Web) -> None:
    """Run every monitor over the demo world, and raise two abuse flags days earlier."""
    people = web_module.world.people
    with web_module.session() as session:
        run_all(session, web_module.clock, runner="test")
        harry, margaret = people["DEMO-0004"], people["DEMO-0003"]
        raise_flags(
            session,
            FixedClock(WEB_NOW - timedelta(days=10)),
            MonitoringSettings(),
            "rapid_drain",
            [
                Hit(
                    rule="rapid_drain.after_load",
                    subject_type="account",
                    subject_id=budget_of(session, harry),
                    evidence_key="load:test",
                    severity=Severity.HIGH,
                    title="97% of a load spent within 48 hours",
                    explanation="£389.99 of a £400.00 load was spent within 48 hours.",
                    person_id=harry,
                    figures={"loaded": 40000, "drained": 38999, "hours": 48},
                )
            ],
        )
        raise_flags(
            session,
            FixedClock(WEB_NOW - timedelta(days=2)),
            MonitoringSettings(),
            "arrears",
            [
                Hit(
                    rule="arrears.shortfall",
                    subject_type="account",
                    subject_id=budget_of(session, margaret),
                    evidence_key="shortfall:test",
                    severity=Severity.CRITICAL,
                    title="Arrears of £12.50",
                    explanation="A payment of £12.50 settled beyond the funds on the card.",
                    person_id=margaret,
                    figures={"owed": 1250},
                )
            ],
        )
        session.commit()


# -- helpers ------------------------------------------------------------------------------


def flag_id(web: Web, monitor: str, person_ref: str) -> int:
    with web.session() as session:
        return int(
            session.execute(
                select(Flag.id).where(
                    Flag.monitor == monitor, Flag.person_id == web.world.people[person_ref]
                )
            ).scalar_one()
        )


@dataclass(frozen=True)
class Open:
    id: int
    monitor: str
    severity: Severity
    sla_due_at: datetime
    raised_at: datetime
    assignee: str | None


def open_flags(web: Web) -> list[Open]:
    """Every open or in-review flag, read plainly: the oracle the queue is checked against
    (what the monitors find in the demo world is theirs to change)."""
    with web.session() as session:
        flags = session.execute(select(Flag).where(Flag.open_key.is_not(None))).scalars()
        found = [
            Open(f.id, f.monitor, f.severity, f.sla_due_at, f.raised_at, f.assignee) for f in flags
        ]
    return sorted(found, key=lambda f: (f.sla_due_at, f.id))


def demo_flags(web: Web) -> int:
    """How many flags the monitors raised over the demo world (all raised on WEB_NOW)."""
    return len([f for f in open_flags(web) if f.raised_at == WEB_NOW])


def pounds(pence: int) -> str:
    """£1,234.56, worked out here (not with the app's filter)."""
    return f"£{Decimal(pence) / 100:,.2f}"


def greg_spend(web: Web) -> int:
    return flag_id(web, "spend_outside_plan", "DEMO-0001")


def queue_ids(response: TestResponse) -> list[int]:
    document = parse_page(response)
    return [int(str(i.get("value"))) for i in document.iterfind(".//tbody//input[@name='flag']")]


def snapshot(web: Web, flag: int) -> tuple[Any, ...]:
    """Everything an action could change about a flag."""
    with web.session() as session:
        f = session.get(Flag, flag)
        assert f is not None
        counts = [
            session.execute(
                select(func.count()).select_from(m).where(m.flag_id == flag)
            ).scalar_one()
            for m in (FlagHistory, FlagNote, SafeguardingRecord)
        ]
        return (
            f.status,
            f.assignee,
            f.snoozed_until,
            f.snooze_reason,
            f.disposition,
            f.dismiss_reason,
            f.open_key,
            *counts,
        )


def history(web: Web, flag: int) -> list[tuple[str, str, str | None]]:
    with web.session() as session:
        rows = session.execute(
            select(FlagHistory.actor, FlagHistory.action, FlagHistory.reason)
            .where(FlagHistory.flag_id == flag)
            .order_by(FlagHistory.id)
        ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def triage(web: Web) -> Triage:
    return Triage(web.session(), web.clock)


def post(client: FlaskClient, path: str, data: dict[str, Any], token_from: str) -> TestResponse:
    return client.post(path, data={"csrf_token": csrf_token(client, token_from), **data})


def follow(client: FlaskClient, response: TestResponse) -> str:
    """Follow a redirect after a change: the page, with its banner, as text."""
    assert response.status_code == 302, response.get_data(as_text=True)
    return page_text(client.get(response.headers["Location"]))


def error_summary(response: TestResponse) -> str:
    document = parse_page(response)
    summary = next(
        e for e in document.iter() if "govuk-error-summary" in (e.get("class") or "").split()
    )
    return text_of(summary)


# -- the queue ----------------------------------------------------------------------------


def test_the_queue_lists_open_flags_by_time_to_act(web: Web) -> None:
    client = signed_in(web, OFFICER)
    response = client.get("/officer/flags")
    assert response.status_code == 200
    ids = queue_ids(response)
    high = flag_id(web, "rapid_drain", "DEMO-0004")
    critical = flag_id(web, "arrears", "DEMO-0003")
    assert ids == [f.id for f in open_flags(web)]  # by time to act
    assert ids[:2] == [high, critical]  # due 7 days ago, then 1 day ago
    document = parse_page(response)
    first_row = text_of(next(document.iterfind(".//tbody/tr")))
    for shown in ["Harry Hughes", "Rapid drain after a load", "High", "Open", "No one"]:
        assert shown in first_row
    assert "Overdue" in first_row and "10 days ago" in first_row
    assert f"{demo_flags(web) + 2} flags match" in text_of(document)


HIGH_OR_CRITICAL = (Severity.HIGH, Severity.CRITICAL)
FILTERS: list[tuple[str, Any]] = [
    ("severity=critical", lambda f: f.severity is Severity.CRITICAL),
    ("severity=critical&severity=high", lambda f: f.severity in HIGH_OR_CRITICAL),
    ("severity=low", lambda f: f.severity is Severity.LOW),
    ("monitor=surplus", lambda f: f.monitor == "surplus"),
    ("monitor=under_spend", lambda f: f.monitor == "under_spend"),
    ("age=1", lambda f: f.raised_at >= WEB_NOW - timedelta(days=1)),
    ("age=7", lambda f: f.raised_at >= WEB_NOW - timedelta(days=7)),
    ("age=over-7", lambda f: f.raised_at < WEB_NOW - timedelta(days=7)),
    ("age=over-28", lambda f: False),
    (
        "age=7&severity=critical",
        lambda f: f.raised_at >= WEB_NOW - timedelta(days=7) and f.severity is Severity.CRITICAL,
    ),
]


@pytest.mark.parametrize(("query", "matches"), FILTERS)
def test_the_queue_filters(web: Web, query: str, matches: Any) -> None:
    response = signed_in(web, OFFICER).get(f"/officer/flags?{query}")
    assert response.status_code == 200
    expected = [f.id for f in open_flags(web) if matches(f)]
    assert queue_ids(response) == expected
    assert query.startswith("age=over-28") or expected  # each filter finds something


def test_the_queue_filters_pick_out_the_flags_raised_for_the_test(web: Web) -> None:
    client = signed_in(web, OFFICER)
    critical = flag_id(web, "arrears", "DEMO-0003")
    assert queue_ids(client.get("/officer/flags?severity=critical")) == [critical]
    old = queue_ids(client.get("/officer/flags?age=over-7"))
    assert old == [flag_id(web, "rapid_drain", "DEMO-0004")]
    assert queue_ids(client.get("/officer/flags?status=dismissed")) == []


def test_the_queue_filters_by_assignee_and_status(web: Web) -> None:
    greg, surplus = greg_spend(web), flag_id(web, "surplus", "DEMO-0007")
    t = triage(web)
    t.assign(greg, officer=SENIOR, assignee=OFFICER, reason="Yours")
    t.assign(surplus, officer=SENIOR, assignee=SENIOR, reason="Mine")
    t.start_review(surplus, officer=SENIOR, reason="Looking")
    t.session.commit()
    client = signed_in(web, OFFICER)
    assert queue_ids(client.get("/officer/flags?assignee=me")) == [greg]
    assert queue_ids(client.get(f"/officer/flags?assignee={SENIOR}")) == [surplus]
    assert queue_ids(client.get("/officer/flags?status=in_review")) == [surplus]
    unassigned = queue_ids(client.get("/officer/flags?assignee=none"))
    assert unassigned == [f.id for f in open_flags(web) if f.assignee is None]
    assert greg not in unassigned and surplus not in unassigned
    text = page_text(client.get("/officer/flags?assignee=me"))
    assert OFFICER in text


def test_snoozed_flags_are_hidden_unless_asked_for(web: Web) -> None:
    greg = greg_spend(web)
    t = triage(web)
    t.snooze(greg, officer=OFFICER, until=WEB_NOW + timedelta(days=3), reason="Receipts due")
    t.session.commit()
    client = signed_in(web, OFFICER)
    assert greg not in queue_ids(client.get("/officer/flags"))
    response = client.get("/officer/flags?snoozed=y")
    assert greg in queue_ids(response)
    assert "Snoozed until 23 April 2026" in page_text(response)
    web.clock.advance(days=3)  # the snooze is over: back in the queue
    assert greg in queue_ids(client.get("/officer/flags"))


def test_the_queue_sorts(web: Web) -> None:
    client = signed_in(web, OFFICER)
    high = flag_id(web, "rapid_drain", "DEMO-0004")
    critical = flag_id(web, "arrears", "DEMO-0003")
    by_severity = queue_ids(client.get("/officer/flags?sort=severity"))
    assert by_severity[:2] == [critical, high]
    with web.session() as session:
        severities = [session.get(Flag, i).severity.rank for i in by_severity]  # type: ignore[union-attr]
    assert severities == sorted(severities, reverse=True)
    newest = queue_ids(client.get("/officer/flags?sort=newest"))
    assert newest[-2:] == [critical, high]
    oldest = queue_ids(client.get("/officer/flags?sort=oldest"))
    assert oldest[:2] == [high, critical]
    assert sorted(oldest) == sorted(newest) == sorted(by_severity)


def raise_reviews(web: Web, count: int) -> None:
    """``count`` more open flags, of every severity in turn, raised a minute apart."""
    greg = web.world.people["DEMO-0001"]
    severities = list(Severity)
    with web.session() as session:
        for n in range(count):
            hit = Hit(
                rule="review_due.plan_review",
                subject_type="plan",
                subject_id=10_000 + n,
                evidence_key="due",
                severity=severities[n % len(severities)],
                title=f"Plan review due {n}",
                explanation="The plan's review is due.",
                person_id=greg,
            )
            clock = FixedClock(WEB_NOW - timedelta(minutes=n))
            raise_flags(session, clock, MonitoringSettings(), "review_due", [hit])
        session.commit()


def test_the_queue_pages(web: Web) -> None:
    raise_reviews(web, 60)
    client = signed_in(web, OFFICER)
    first = client.get("/officer/flags?monitor=review_due")
    second = client.get("/officer/flags?monitor=review_due&page=2")
    assert len(queue_ids(first)) == 50 and len(queue_ids(second)) == 10
    expected = [f.id for f in open_flags(web) if f.monitor == "review_due"]
    assert queue_ids(first) + queue_ids(second) == expected
    document = parse_page(first)
    links = [a.get("href") for a in document.iterfind(".//nav[@class='govuk-pagination']//a")]
    assert "/officer/flags?page=2&monitor=review_due" in links
    assert "60 flags match" in text_of(document)
    assert queue_ids(client.get("/officer/flags?monitor=review_due&page=99")) == queue_ids(second)


def by_sort(sort: str, flags: list[Open]) -> list[int]:
    """The oracle for each order the queue offers."""
    keys = {
        "sla": lambda f: (f.sla_due_at, f.id),
        "severity": lambda f: (-f.severity.rank, f.sla_due_at, f.id),
        "newest": lambda f: (-f.raised_at.timestamp(), -f.id),
        "oldest": lambda f: (f.raised_at, f.id),
    }
    return [f.id for f in sorted(flags, key=keys[sort])]


@pytest.mark.parametrize("sort", ["sla", "severity", "newest", "oldest"])
@pytest.mark.parametrize("query", ["", "&severity=low&severity=critical"])
def test_beyond_the_limit_pages_are_read_in_order(
    web: Web, monkeypatch: pytest.MonkeyPatch, sort: str, query: str
) -> None:
    """More flags match than the queue counts: each page is read in the sort's order
    from an index (with a smaller limit and pages, to keep the test quick)."""
    monkeypatch.setattr(flag_queue, "COUNT_LIMIT", 30)
    monkeypatch.setattr(flag_views, "PAGE_SIZE", 8)
    raise_reviews(web, 60)
    client = signed_in(web, OFFICER)
    wanted = {"low", "critical"} if query else {s.value for s in Severity}
    matching = [f for f in open_flags(web) if f.severity.value in wanted]
    assert len(matching) > 30
    pages = [
        queue_ids(client.get(f"/officer/flags?sort={sort}{query}&page={n}")) for n in (1, 2, 3, 4)
    ]
    assert [len(p) for p in pages] == [8, 8, 8, 6]
    assert [i for p in pages for i in p] == by_sort(sort, matching)[:30]
    text = page_text(client.get(f"/officer/flags?sort={sort}{query}&page=9"))
    assert "More than 30 flags match. Only the first 30 are shown" in text


@pytest.mark.parametrize("query", ["status=bogus", "severity=urgent", "sort=random", "age=3"])
def test_a_bad_filter_shows_an_error_and_the_default_queue(web: Web, query: str) -> None:
    response = signed_in(web, OFFICER).get(f"/officer/flags?{query}")
    assert response.status_code == 400
    assert "There is a problem" in error_summary(response)
    assert queue_ids(response) == [f.id for f in open_flags(web)]


# -- bulk assign and dismiss --------------------------------------------------------------


def test_bulk_assign_with_one_reason(web: Web) -> None:
    client = signed_in(web, OFFICER)
    chosen = queue_ids(client.get("/officer/flags?severity=low"))[:2]
    response = post(
        client,
        "/officer/flags/bulk?severity=low",
        {"flag": chosen, "assign_to": SENIOR, "assign_reason": "Share out the week", "assign": "y"},
        "/officer/flags",
    )
    assert response.headers["Location"] == "/officer/flags?severity=low"
    assert f"2 flags assigned to {SENIOR}" in follow(client, response)
    for flag in chosen:
        assert snapshot(web, flag)[1] == SENIOR
        assert history(web, flag)[-1] == (OFFICER, "assigned", "Share out the week")


def test_bulk_dismiss_with_one_reason(web: Web) -> None:
    client = signed_in(web, OFFICER)
    chosen = queue_ids(client.get("/officer/flags?monitor=under_spend"))
    response = post(
        client,
        "/officer/flags/bulk",
        {
            "flag": chosen,
            "dismiss_reason": "agreed_in_plan",
            "dismiss_detail": "Savings agreed for a holiday",
            "dismiss": "y",
        },
        "/officer/flags",
    )
    assert len(chosen) > 1 and f"{len(chosen)} flags dismissed" in follow(client, response)
    with web.session() as session:
        for flag in chosen:
            f = session.get(Flag, flag)
            assert f is not None and f.status is FlagStatus.DISMISSED
            assert f.dismiss_reason is DismissReason.AGREED_IN_PLAN
            assert f.disposition is Disposition.NOT_CONFIRMED
    assert history(web, chosen[0])[-1] == (OFFICER, "dismissed", "Savings agreed for a holiday")
    assert not set(chosen) & set(queue_ids(client.get("/officer/flags")))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"assign_to": SENIOR, "assign_reason": "x", "assign": "y"}, "Select the flags"),
        ({"flag": "FLAGS", "assign_to": SENIOR, "assign": "y"}, "Enter a reason for assigning"),
        (
            {
                "flag": "FLAGS",
                "assign_to": "mallory@example.org",
                "assign_reason": "x",
                "assign": "y",
            },
            "Choose the officer",
        ),
        (
            {"flag": "FLAGS", "dismiss_reason": "because", "dismiss_detail": "x", "dismiss": "y"},
            "Choose why the flags are not a concern",
        ),
        (
            {"flag": "FLAGS", "dismiss_reason": "other", "dismiss_detail": "  ", "dismiss": "y"},
            "Enter details",
        ),
        ({"flag": "FLAGS", "assign_to": SENIOR, "assign_reason": "x"}, "Choose to assign or"),
    ],
)
def test_bad_bulk_input_changes_nothing(web: Web, data: dict[str, Any], message: str) -> None:
    client = signed_in(web, OFFICER)
    chosen = queue_ids(client.get("/officer/flags"))[:3]
    before = [snapshot(web, f) for f in chosen]
    if data.get("flag") == "FLAGS":
        data = {**data, "flag": chosen}
    response = post(client, "/officer/flags/bulk", data, "/officer/flags")
    assert response.status_code == 400
    assert message in error_summary(response)
    assert [snapshot(web, f) for f in chosen] == before
    # Each field with an error names its message: every aria-describedby is an id there.
    document = parse_page(response)
    ids = {e.get("id") for e in document.iter() if e.get("id")}
    described = [e for e in document.iter() if e.get("aria-describedby")]
    named = {i for e in described for i in (e.get("aria-describedby") or "").split()}
    assert named and named <= ids, named - ids
    messages = [e for e in document.iter() if "govuk-error-message" in (e.get("class") or "")]
    assert any(e.get("id") in named for e in messages)


def test_bulk_assign_including_a_closed_flag_changes_nothing(web: Web) -> None:
    client = signed_in(web, OFFICER)
    chosen = queue_ids(client.get("/officer/flags"))[:3]
    t = triage(web)
    t.dismiss(chosen[1], officer=SENIOR, reason=DismissReason.DUPLICATE, detail="Same as another")
    t.session.commit()
    before = [snapshot(web, f) for f in chosen]
    response = post(
        client,
        "/officer/flags/bulk",
        {"flag": chosen, "assign_to": SENIOR, "assign_reason": "Mine now", "assign": "y"},
        "/officer/flags",
    )
    assert response.status_code == 400
    assert f"Flag {chosen[1]} is dismissed. Nothing was changed." in error_summary(response)
    assert [snapshot(web, f) for f in chosen] == before


# -- a flag's page ------------------------------------------------------------------------


def test_a_flags_page_explains_it_with_evidence_plan_and_balance(web: Web) -> None:
    greg = greg_spend(web)
    response = signed_in(web, OFFICER).get(f"/officer/flags/{greg}")
    assert response.status_code == 200
    document = parse_page(response)
    text = text_of(document)
    with web.session() as session:
        flag = session.get(Flag, greg)
        assert flag is not None
        explanation = flag.explanation
        named = session.execute(
            select(FlagEvidence.transfer_ids).where(FlagEvidence.flag_id == greg)
        ).scalars()
        ids = sorted({i for found in named for i in found})
        payments = session.execute(select(Transfer).where(Transfer.id.in_(ids))).scalars()
        paid = [(t.effective_at, t.merchant_name, t.mcc, t.amount) for t in payments]
        budget = session.get(Account, budget_of(session, web.world.people["DEMO-0001"]))
        assert budget is not None
        balance = budget.posted_balance
    assert explanation in text and "Suggested: Contact the holder" in text
    # The payments behind the evidence: date, merchant, MCC, category, amount.
    assert len(paid) == len(ids) >= 1
    for when, merchant, mcc, amount in paid:
        assert (merchant, mcc) == ("Boots Pharmacy", "5912")
        row = f"{london_datetime(when)} Card spend: Boots Pharmacy 5912 Drug Stores and "
        assert f"{row}Pharmacies Wellbeing {pounds(amount)}" in text
    assert "Homecare visits Care from an agency £720.00 a period Oakfield Care Agency" in text
    # The chart, with its table alternative beside it: both end at the posted balance.
    svg = next(e for e in document.iter() if str(e.tag).endswith("svg") and e.get("role") == "img")
    assert svg.get("aria-describedby") == "balance-chart-summary"
    assert f"{pounds(balance)} at the end of 20 April 2026" in text
    table = next(
        t
        for t in document.iter("table")
        if "at the end of each day" in text_of(t.find("caption"))  # type: ignore[arg-type]
    )
    last_row = list(table.iterfind(".//tbody/tr"))[-1]
    assert text_of(last_row).endswith(pounds(balance))
    assert "monitor Raised Spend not covered by the plan Status: Open Severity: Low" in text


def test_a_flags_page_shows_the_monitors_figures(web: Web) -> None:
    text = page_text(
        signed_in(web, OFFICER).get(f"/officer/flags/{flag_id(web, 'surplus', 'DEMO-0007')}")
    )
    with web.session() as session:
        (figures,) = session.execute(
            select(FlagEvidence.figures).where(
                FlagEvidence.flag_id == flag_id(web, "surplus", "DEMO-0007")
            )
        ).scalars()
    assert f"Proposed clawback {pounds(figures['proposed_clawback'])}" in text
    assert f"Surplus {pounds(figures['surplus'])}" in text and "Weeks of budget kept 8" in text
    assert "Day centre Day activities £480.00 a period" in text


def test_viewing_a_flag_logs_a_view_of_the_persons_record(web: Web) -> None:
    greg = greg_spend(web)
    signed_in(web, SENIOR).get(f"/officer/flags/{greg}")
    with web.session() as session:
        views = session.execute(select(RecordView)).scalars().all()
    assert [(v.viewer_id, v.person_id, v.page, v.viewed_at) for v in views] == [
        (
            web.world.users[SENIOR],
            web.world.people["DEMO-0001"],
            f"/officer/flags/{greg}",
            WEB_NOW,
        )
    ]


def test_an_unknown_flag_is_not_found_and_nothing_is_logged(web: Web) -> None:
    client = signed_in(web, OFFICER)
    assert client.get("/officer/flags/999999").status_code == 404
    response = post(client, "/officer/flags/999999/note", {"note-text": "x"}, "/officer/flags")
    assert response.status_code == 404
    with web.session() as session:
        assert session.execute(select(RecordView)).first() is None


# -- triage actions -----------------------------------------------------------------------

SNOOZE_END = date(2026, 5, 1)

ACTIONS: list[tuple[str, dict[str, Any], str, str]] = [
    ("assign", {"assign-assignee": OFFICER, "assign-reason": "Mine"}, "assigned", "assigned"),
    ("assign", {"assign-assignee": SENIOR, "assign-reason": "Yours"}, "assigned", "assigned"),
    ("review", {"review-reason": "Looking into it"}, "review_started", "review has started"),
    (
        "snooze",
        {"snooze-until": ["1", "5", "2026"], "snooze-reason": "Waiting for receipts"},
        "snoozed",
        "is snoozed",
    ),
    ("note", {"note-text": "Called the carer"}, "note_added", "note was added"),
    ("actioned", {"actioned-reason": "Holder repaid it"}, "actioned", "marked as actioned"),
    (
        "dismiss",
        {"dismiss-reason": "explained_by_holder", "dismiss-detail": "Receipt seen"},
        "dismissed",
        "was dismissed",
    ),
    (
        "escalate",
        {
            "escalate-concern": "A neighbour saw the card used by a lodger",
            "escalate-reason": "Abuse",
        },
        "escalated_to_safeguarding",
        "escalated to safeguarding",
    ),
]


@pytest.mark.parametrize(("action", "data", "recorded", "banner"), ACTIONS)
def test_each_triage_action_changes_the_flag_and_writes_history(
    web: Web, action: str, data: dict[str, Any], recorded: str, banner: str
) -> None:
    client = signed_in(web, OFFICER)
    greg = greg_spend(web)
    response = post(client, f"/officer/flags/{greg}/{action}", data, f"/officer/flags/{greg}")
    assert response.headers["Location"] == f"/officer/flags/{greg}"
    text = follow(client, response)
    assert banner in text
    actor, what, reason = history(web, greg)[-1]
    assert (actor, what) == (OFFICER, recorded)
    with web.session() as session:
        flag = session.get(Flag, greg)
        assert flag is not None
        records = session.execute(select(SafeguardingRecord)).scalars().all()
        notes = session.execute(select(FlagNote)).scalars().all()
    expected: dict[str, Any] = {
        "assign": lambda: (
            flag.assignee == data["assign-assignee"] and reason == data["assign-reason"]
        ),
        "review": lambda: flag.status is FlagStatus.IN_REVIEW and flag.assignee == OFFICER,
        "snooze": lambda: (
            flag.snoozed_until == start_of_day(SNOOZE_END)
            and flag.snooze_reason == "Waiting for receipts"
        ),
        "note": lambda: (
            [n.text for n in notes] == ["Called the carer"] and "Called the carer" in text
        ),
        "actioned": lambda: (
            flag.status is FlagStatus.ACTIONED and flag.disposition is Disposition.CONFIRMED
        ),
        "dismiss": lambda: (
            flag.status is FlagStatus.DISMISSED
            and flag.dismiss_reason is DismissReason.EXPLAINED_BY_HOLDER
            and flag.dismiss_detail == "Receipt seen"
        ),
        "escalate": lambda: (
            flag.status is FlagStatus.ESCALATED_TO_SAFEGUARDING
            and [(r.person_id, r.flag_id, r.concern) for r in records]
            == [(web.world.people["DEMO-0001"], greg, data["escalate-concern"])]
        ),
    }
    assert expected[action]()
    assert records == [] or action == "escalate"


def test_unsnoozing_puts_the_flag_back_in_the_queue(web: Web) -> None:
    greg = greg_spend(web)
    t = triage(web)
    t.snooze(greg, officer=SENIOR, until=WEB_NOW + timedelta(days=5), reason="Wait")
    t.session.commit()
    client = signed_in(web, OFFICER)
    assert "End the snooze" in page_text(client.get(f"/officer/flags/{greg}"))
    response = post(
        client,
        f"/officer/flags/{greg}/unsnooze",
        {"unsnooze-reason": "Receipts came"},
        f"/officer/flags/{greg}",
    )
    assert "The snooze has ended" in follow(client, response)
    assert snapshot(web, greg)[2:4] == (None, None)
    assert history(web, greg)[-1] == (OFFICER, "unsnoozed", "Receipts came")
    assert greg in queue_ids(client.get("/officer/flags"))


def test_an_escalated_flag_says_so_but_never_shows_the_concern(web: Web) -> None:
    greg = greg_spend(web)
    concern = "A neighbour saw the card used by a lodger"
    client = signed_in(web, OFFICER)
    follow(
        client,
        post(
            client,
            f"/officer/flags/{greg}/escalate",
            {"escalate-concern": concern, "escalate-reason": "Possible financial abuse"},
            f"/officer/flags/{greg}",
        ),
    )
    for who in (OFFICER, SENIOR):
        text = page_text(signed_in(web, who).get(f"/officer/flags/{greg}"))
        assert "Escalated to safeguarding on 20 April 2026" in text
        assert "restricted safeguarding record" in text
        assert concern not in text
        assert "Escalated to safeguarding: Possible financial abuse" in text
    assert concern not in client.get("/officer/flags?status=escalated_to_safeguarding").get_data(
        as_text=True
    )


def test_a_closed_flag_offers_only_a_note(web: Web) -> None:
    greg = greg_spend(web)
    t = triage(web)
    t.mark_actioned(greg, officer=SENIOR, reason="Done")
    t.session.commit()
    document = parse_page(signed_in(web, OFFICER).get(f"/officer/flags/{greg}"))
    actions = [str(f.get("action")) for f in document.iter("form") if f.get("method") == "post"]
    assert [a for a in actions if a.startswith("/officer/flags/")] == [
        f"/officer/flags/{greg}/note"
    ]


# -- bad input changes nothing ----------------------------------------------------------

BAD: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "assign",
        {"assign-assignee": OFFICER},
        "Enter a reason for assigning the flag",
        "assign-reason",
    ),
    (
        "assign",
        {"assign-assignee": "mallory@example.org", "assign-reason": "x"},
        "Choose the officer",
        "assign-assignee",
    ),
    ("review", {"review-reason": "   "}, "Enter a reason for starting the review", "review-reason"),
    (
        "snooze",
        {"snooze-until": ["19", "4", "2026"], "snooze-reason": "x"},
        "must be in the future",
        "snooze-until",
    ),
    (
        "snooze",
        {"snooze-until": ["20", "4", "2026"], "snooze-reason": "x"},
        "must be in the future",
        "snooze-until",
    ),
    (
        "snooze",
        {"snooze-until": ["31", "2", "2026"], "snooze-reason": "x"},
        "must be a real date",
        "snooze-until",
    ),
    ("snooze", {"snooze-reason": "x"}, "Enter the date the snooze ends", "snooze-until"),
    (
        "snooze",
        {"snooze-until": ["1", "5", "2027"], "snooze-reason": "x"},
        "at most 365 days",
        "snooze-until",
    ),
    (
        "snooze",
        {"snooze-until": ["1", "5", "2026"], "snooze-reason": "x" * 501},
        "500 characters or fewer",
        "snooze-reason",
    ),
    ("note", {"note-text": ""}, "Enter the note", "note-text"),
    (
        "dismiss",
        {"dismiss-reason": "because", "dismiss-detail": "x"},
        "Choose why the flag is not a concern",
        "dismiss-reason",
    ),
    ("dismiss", {"dismiss-reason": "other"}, "Enter details of why", "dismiss-detail"),
    ("actioned", {}, "Enter what was done", "actioned-reason"),
    (
        "escalate",
        {"escalate-reason": "Abuse"},
        "Enter the safeguarding concern",
        "escalate-concern",
    ),
]


@pytest.mark.parametrize(("action", "data", "message", "field"), BAD)
def test_bad_input_shows_an_error_summary_and_changes_nothing(
    web: Web, action: str, data: dict[str, Any], message: str, field: str
) -> None:
    client = signed_in(web, OFFICER)
    greg = greg_spend(web)
    before = snapshot(web, greg)
    response = post(client, f"/officer/flags/{greg}/{action}", data, f"/officer/flags/{greg}")
    assert response.status_code == 400
    summary = error_summary(response)
    assert message in summary
    document = parse_page(response)
    assert document.find(f".//div[@class='govuk-error-summary']//a[@href='#{field}']") is not None
    details = document.find(f".//details[@id='{action}']")
    assert details is not None and details.get("open") is not None  # the form with the error
    assert page_text(response).startswith("Error: ")
    assert snapshot(web, greg) == before


def test_an_action_on_a_closed_flag_is_refused_and_changes_nothing(web: Web) -> None:
    greg = greg_spend(web)
    t = triage(web)
    t.dismiss(greg, officer=SENIOR, reason=DismissReason.OTHER, detail="Sorted")
    t.session.commit()
    before = snapshot(web, greg)
    client = signed_in(web, OFFICER)
    response = post(
        client,
        f"/officer/flags/{greg}/assign",
        {"assign-assignee": OFFICER, "assign-reason": "Mine"},
        f"/officer/flags/{greg}",
    )
    assert response.status_code == 400
    assert f"Flag {greg} is dismissed" in error_summary(response)
    assert snapshot(web, greg) == before


def test_escalating_a_closed_flag_leaves_no_safeguarding_record(web: Web) -> None:
    greg = greg_spend(web)
    t = triage(web)
    t.mark_actioned(greg, officer=SENIOR, reason="Done")
    t.session.commit()
    before = snapshot(web, greg)
    client = signed_in(web, OFFICER)
    response = post(
        client,
        f"/officer/flags/{greg}/escalate",
        {"escalate-concern": "Worried", "escalate-reason": "Abuse"},
        f"/officer/flags/{greg}",
    )
    assert response.status_code == 400
    assert f"Flag {greg} is actioned" in error_summary(response)
    assert snapshot(web, greg) == before  # the record written before the refusal is gone


@pytest.mark.parametrize("token", ["none", "someone else's"])
def test_a_post_without_this_sessions_token_changes_nothing(web: Web, token: str) -> None:
    greg = greg_spend(web)
    before = snapshot(web, greg)
    data: dict[str, Any] = {"dismiss-reason": "other", "dismiss-detail": "Forged"}
    if token != "none":
        data["csrf_token"] = csrf_token(signed_in(web, SENIOR), f"/officer/flags/{greg}")
    response = signed_in(web, OFFICER).post(f"/officer/flags/{greg}/dismiss", data=data)
    assert response.status_code == 400
    assert "Your form has expired" in page_text(response)
    bulk = signed_in(web, OFFICER).post(
        "/officer/flags/bulk",
        data={**data, "flag": [greg], "dismiss_reason": "other", "dismiss": "y"},
    )
    assert bulk.status_code == 400
    assert snapshot(web, greg) == before


# -- who may see --------------------------------------------------------------------------


@pytest.mark.parametrize("email", [*HOLDERS, "admin@example.org"])
def test_holders_and_admins_may_not_see_or_change_flags(web: Web, email: str) -> None:
    greg = greg_spend(web)
    client = signed_in(web, email)
    for path in ["/officer/flags", f"/officer/flags/{greg}"]:
        response = client.get(path)
        assert response.status_code == 403
        parse_page(response)
        body = response.get_data(as_text=True)
        assert "Greg Adams" not in body and "Boots" not in body
    before = snapshot(web, greg)
    start = "/admin/users" if email.startswith("admin") else "/cards"
    response = post(client, f"/officer/flags/{greg}/note", {"note-text": "Hello"}, start)
    assert response.status_code == 403
    assert snapshot(web, greg) == before


def test_a_signed_out_visitor_is_sent_to_sign_in(web: Web) -> None:
    greg = greg_spend(web)
    client = web.client()
    for path in ["/officer/flags", f"/officer/flags/{greg}"]:
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/sign-in?next={path}"
    before = snapshot(web, greg)
    response = post(client, f"/officer/flags/{greg}/note", {"note-text": "Hi"}, "/sign-in")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    assert snapshot(web, greg) == before


def test_the_start_page_and_the_service_navigation_link_to_the_queue(web: Web) -> None:
    client = signed_in(web, OFFICER)
    document = parse_page(client.get("/officer/"))
    main = document.find(".//main")
    assert main is not None and "/officer/flags" in [a.get("href") for a in main.iter("a")]
    document = parse_page(client.get("/officer/flags"))
    active = [
        text_of(li)
        for li in document.iter("li")
        if "govuk-service-navigation__item--active" in (li.get("class") or "")
    ]
    assert active == ["Flags"]


def test_a_flag_about_no_one_and_no_budget(web: Web) -> None:
    with web.session() as session:
        raised = raise_flags(
            session,
            web.clock,
            MonitoringSettings(),
            "reconciliation_break",
            [
                Hit(
                    rule="reconciliation_break.balance",
                    subject_type="account",
                    subject_id=999_999,
                    evidence_key="break:1",
                    severity=Severity.MEDIUM,
                    title="Provider and ledger balances differ",
                    explanation="The provider's balance differs from the ledger's by £5.00.",
                    figures={"difference": 500, "when": "yesterday"},
                    transfer_ids=(987_654,),
                )
            ],
        )
        session.commit()
    (flag,) = raised.flag_ids
    client = signed_in(web, OFFICER)
    text = page_text(client.get(f"/officer/flags/{flag}"))
    assert "No one named" in text and "This flag is not about a budget" in text
    assert "Difference £5.00" in text and "When yesterday" in text
    assert "1 payment named by this finding could not be found" in text
    assert "Escalate to safeguarding" not in text  # there is no one to raise it about
    with web.session() as session:
        assert session.execute(select(RecordView)).first() is None
    response = post(
        client,
        f"/officer/flags/{flag}/escalate",
        {"escalate-concern": "x", "escalate-reason": "y"},
        f"/officer/flags/{flag}",
    )
    assert response.status_code == 400
    assert "names no person" in error_summary(response)

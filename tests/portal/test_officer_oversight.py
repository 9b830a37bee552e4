"""Oversight pages for officers, on the demo world: parked provider events and replaying
them (audited), the audit log and its filters, and the safeguarding records (senior
officers only, every reading logged). The monthly report is in test_monthly_report.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from adapters.canonical import EventKind
from adapters.models import InboundEvent, InboxStatus
from adapters.simulated import SimulatedProvider
from ledger.enrolment import Enrolment
from ledger.models import CardKind, Transfer
from ledger.service import Ledger
from monitoring import advocacy
from monitoring.actions import OfficerActions
from monitoring.models import AuditEntry
from portal.models import RecordView
from portal.repositories.audit_log import AuditFilter, Cursor, audit_page
from tests.monitoring.fakes import RecordingProvider
from tests.portal import portal_support as support
from tests.portal.portal_support import Web, csrf_token, page_text, parse_page, signed_in, text_of

web_module = support.web_module
web = support.web

OFFICER = "officer@example.org"
SENIOR = "senior.officer@example.org"


def _park_a_clearing_for_a_card_not_yet_issued(web: Web) -> int:
    """A provider's clearing for a card dpledger does not know yet, posted through the
    real inbox (signed webhook body, stored, applied, parked). Returns its inbox id."""
    with web.session() as session:
        sim = SimulatedProvider(session, web.clock)
        clearing = sim.event(
            EventKind.CLEARING,
            "sim_not_yet_issued",
            1_000,
            event_id="early-clearing",
            merchant_name="<script>alert(1)</script> Corner Shop",
        )
        answer = sim.send(clearing)
        assert answer.json_body["results"][0]["status"] == "parked"
        return session.execute(
            select(InboundEvent.id).where(InboundEvent.provider_event_id.contains("early"))
        ).scalar_one()


def _event(web: Web, event_id: int) -> InboundEvent:
    with web.session() as session:
        event = session.get(InboundEvent, event_id)
        assert event is not None
        session.expunge(event)
        return event


def _replays(web: Web, event_id: int) -> list[AuditEntry]:
    with web.session() as session:
        return list(
            session.execute(
                select(AuditEntry).where(
                    AuditEntry.action == "inbox_event_replayed", AuditEntry.subject_id == event_id
                )
            ).scalars()
        )


def _issue_the_card(web: Web) -> int:
    """The fix: the card is enrolled with the provider's token, on a loaded budget."""
    with web.session() as session:
        enrol = Enrolment(session, web.clock)
        who = enrol.register_person("TEST-0100", "Nadia Okafor")
        budget = enrol.open_personal_budget(who)
        enrol.issue_card(
            who,
            kind=CardKind.PRIMARY,
            provider="simulated",
            provider_card_token="sim_not_yet_issued",
            last4="4390",
            budget=budget,
        )
        from ledger.card_payments import CardPayments

        CardPayments(session, web.clock).load(budget.id, 5_000, source="test", key="fix-load")
        session.commit()
        return budget.id


def test_a_parked_event_is_listed_with_its_reason_and_its_payload_escaped(web: Web) -> None:
    event_id = _park_a_clearing_for_a_card_not_yet_issued(web)
    client = signed_in(web, OFFICER)
    listing = parse_page(client.get("/officer/inbox"))
    rows = {text_of(r).split(" ")[0]: text_of(r) for r in listing.iterfind(".//tbody/tr")}
    assert str(event_id) in rows
    assert "simulated clearing Parked unknown_card" in rows[str(event_id)]

    response = client.get(f"/officer/inbox/{event_id}")
    document = parse_page(response)
    body = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Corner Shop" in body
    pre = document.find(".//pre")
    assert pre is not None
    payload = text_of(pre)
    assert '"merchant_name": "<script>alert(1)</script> Corner Shop"' in payload
    assert '"amount": "10.00"' in payload
    assert "Replay this event" in text_of(document)


def test_replaying_after_the_fix_applies_the_event_once_and_is_audited(web: Web) -> None:
    event_id = _park_a_clearing_for_a_card_not_yet_issued(web)
    client = signed_in(web, OFFICER)
    path = f"/officer/inbox/{event_id}"

    # No reason: an error summary, and nothing is replayed or logged.
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "reason": " "})
    assert response.status_code == 400
    assert "Enter why you are replaying this event" in page_text(response)
    assert _event(web, event_id).attempts == 1 and not _replays(web, event_id)

    # Before the fix: replayed, and parked again with the reason.
    token = csrf_token(client, path)
    response = client.post(path, data={"csrf_token": token, "reason": "Trying again"})
    assert response.status_code == 302
    assert "still parked: unknown_card" in page_text(client.get(path))
    assert _event(web, event_id).status is InboxStatus.PARKED
    assert _event(web, event_id).attempts == 2

    budget_id = _issue_the_card(web)
    response = client.post(path, data={"csrf_token": token, "reason": "Card enrolled today"})
    assert response.status_code == 302
    text = page_text(client.get(path))
    assert f"Event {event_id} was replayed. It is now applied." in text
    assert "there is nothing to replay" in text
    event = _event(web, event_id)
    assert event.status is InboxStatus.APPLIED and event.attempts == 3

    # Once: a second replay is refused and the clearing is in the ledger once.
    again = client.post(path, data={"csrf_token": token, "reason": "Again"})
    assert again.status_code == 409
    with web.session() as session:
        assert Ledger(session, web.clock).balances(budget_id).posted == 5_000 - 1_000
        count = select(func.count()).where(Transfer.inbound_event_id == event_id)
        assert session.execute(count.select_from(Transfer)).scalar_one() == 1
    entries = _replays(web, event_id)
    assert [(e.actor, e.reason, e.before["status"], e.after["status"]) for e in entries] == [
        (OFFICER, "Trying again", "parked", "parked"),
        (OFFICER, "Card enrolled today", "parked", "applied"),
    ]


def test_the_inbox_lists_parked_events_by_default_and_all_on_request(web: Web) -> None:
    event_id = _park_a_clearing_for_a_card_not_yet_issued(web)
    _issue_the_card(web)
    with web.session() as session:
        sim = SimulatedProvider(session, web.clock)
        sim.send(sim.event(EventKind.FEE, "sim_not_yet_issued", 150, event_id="fee-ok"))
        applied = session.execute(
            select(InboundEvent.id).where(InboundEvent.provider_event_id.contains("fee-ok"))
        ).scalar_one()
    client = signed_in(web, OFFICER)

    def listed(path: str) -> dict[str, str]:
        rows = parse_page(client.get(path)).iterfind(".//tbody/tr")
        return {text_of(r).split(" ")[0]: text_of(r) for r in rows}

    parked, everything = listed("/officer/inbox"), listed("/officer/inbox?show=all")
    assert "simulated clearing Parked unknown_card" in parked[str(event_id)]
    assert str(applied) not in parked
    assert "simulated fee Applied" in everything[str(applied)]
    assert "simulated clearing Parked" in everything[str(event_id)]
    assert listed("/officer/inbox?show=waiting") == {}
    assert client.get("/officer/inbox/999999").status_code == 404


def _make_audit_trail(web: Web) -> dict[str, int]:
    """Record views and audited actions, a day apart, through the pages and services."""
    people = web.world.people
    officer, senior = signed_in(web, OFFICER), signed_in(web, SENIOR)
    web.clock.current = datetime(2026, 4, 14, 9, 0, tzinfo=UTC)
    assert officer.get(f"/officer/people/{people['DEMO-0003']}").status_code == 200
    web.clock.current = datetime(2026, 4, 15, 9, 0, tzinfo=UTC)
    assert senior.get(f"/officer/people/{people['DEMO-0007']}").status_code == 200
    web.clock.current = datetime(2026, 4, 16, 9, 0, tzinfo=UTC)
    with web.session() as session:
        advocacy.record_need(
            session,
            web.clock,
            person_id=people["DEMO-0007"],
            decision="clawback:0",
            substantial_difficulty=False,
            appropriate_person=True,
            officer=SENIOR,
            reason="Vivian manages her own affairs",
        )
        card = web.world.cards["4303"]
        OfficerActions(session, web.clock, RecordingProvider()).suspend_card(
            card, officer=OFFICER, reason="Card reported lost"
        )
        session.commit()
    web.clock.current = support.WEB_NOW
    return people


def _rows(response: object) -> list[str]:
    document = parse_page(response)  # type: ignore[arg-type]
    return [text_of(r) for r in document.iterfind(".//tbody/tr")]


def test_the_audit_log_lists_actions_and_record_views_newest_first(web: Web) -> None:
    _make_audit_trail(web)
    rows = _rows(signed_in(web, SENIOR).get("/officer/audit"))
    trail = [r for r in rows if r.startswith(("14 April", "15 April", "16 April"))]
    assert trail == [
        "16 April 2026 at 10:00am officer@example.org Told the card provider (card "
        f"{web.world.cards['4303']}) Margaret Hughes DEMO-0003 Card reported lost "
        "command: suspend command id: 1 accepted: True retryable: False detail: ok",
        "16 April 2026 at 10:00am officer@example.org Suspended a card (card "
        f"{web.world.cards['4303']}) Margaret Hughes DEMO-0003 Card reported lost "
        "status: active → suspended",
        "16 April 2026 at 10:00am senior.officer@example.org Recorded whether an advocate "
        "is needed Vivian Shaw DEMO-0007 Vivian manages her own affairs decision: clawback:0 "
        "substantial difficulty: False appropriate person: True needs advocate: False",
        "15 April 2026 at 10:00am senior.officer@example.org Viewed a person's record "
        f"Vivian Shaw DEMO-0007 /officer/people/{web.world.people['DEMO-0007']}",
        "14 April 2026 at 10:00am officer@example.org Viewed a person's record "
        f"Margaret Hughes DEMO-0003 /officer/people/{web.world.people['DEMO-0003']}",
    ]


def test_the_audit_log_filters_by_officer_person_action_and_dates(web: Web) -> None:
    _make_audit_trail(web)
    client = signed_in(web, OFFICER)

    by_officer = _rows(client.get("/officer/audit?actor=Officer@Example.org"))
    assert by_officer and all(f" {OFFICER} " in f" {r} " for r in by_officer)
    assert any("Viewed a person's record Margaret Hughes" in r for r in by_officer)

    vivian = _rows(client.get("/officer/audit?person=DEMO-0007"))
    assert len(vivian) == 2 and all("Vivian Shaw DEMO-0007" in r for r in vivian)
    assert "Recorded whether an advocate is needed" in vivian[0]
    assert "Viewed a person's record" in vivian[1]

    views = _rows(client.get("/officer/audit?action=record_viewed"))
    assert views and all("Viewed a person's record" in r for r in views)

    one_day = _rows(
        client.get(
            "/officer/audit",
            query_string={"date_from": ["15", "4", "2026"], "date_to": ["15", "4", "2026"]},
        )
    )
    assert len(one_day) == 1 and one_day[0].startswith("15 April 2026")

    unknown = client.get("/officer/audit?person=NOBODY-1")
    assert unknown.status_code == 400
    assert "No one has the council reference NOBODY-1" in page_text(unknown)
    backwards = client.get(
        "/officer/audit",
        query_string={"date_from": ["15", "4", "2026"], "date_to": ["1", "4", "2026"]},
    )
    assert backwards.status_code == 400
    assert "The 'to' date must be the same as or after the 'from' date" in page_text(backwards)
    made_up = client.get("/officer/audit?action=made_up")
    assert made_up.status_code == 400 and "Choose what they did from the list" in page_text(made_up)


def test_audit_pages_are_keyset_pages_across_both_sources_with_ties(web: Web) -> None:
    """Views and entries at the very same moment page in one order, with nothing
    skipped or shown twice, forwards and back."""
    at = datetime(2026, 4, 18, 12, 0, tzinfo=UTC)
    with web.session() as session:
        officer_id = web.world.users[OFFICER]
        for n in range(5):
            moment = at + timedelta(minutes=n // 2)  # pairs at the same moment
            session.add(
                RecordView(
                    viewer_id=officer_id,
                    person_id=web.world.people["DEMO-0001"],
                    page=f"/officer/people/{n}",
                    viewed_at=moment,
                )
            )
            session.add(
                AuditEntry(
                    at=moment,
                    actor="paging@example.org",
                    action="setting_changed",
                    subject_type="council_setting",
                    subject_id=0,
                    reason=f"entry {n}",
                    before={},
                    after={},
                )
            )
        session.flush()
        wanted = AuditFilter(start=at, end=at + timedelta(hours=1))
        everything = audit_page(session, wanted, size=100).rows
        assert len(everything) == 10
        keys = [row.cursor for row in everything]
        assert keys == sorted(keys, reverse=True)

        seen, page = [], audit_page(session, wanted, size=3)
        pages = [page]
        while page.older_before:
            page = audit_page(session, wanted, before=Cursor.parse(page.older_before), size=3)
            pages.append(page)
        seen = [row.cursor for p in pages for row in p.rows]
        assert seen == keys and [len(p.rows) for p in pages] == [3, 3, 3, 1]
        assert pages[0].newer_after is None and pages[-1].older_before is None

        back = audit_page(session, wanted, after=Cursor.parse(pages[2].newer_after), size=3)
        assert [row.cursor for row in back.rows] == [row.cursor for row in pages[1].rows]
        session.rollback()


def test_only_senior_officers_read_safeguarding_records_and_each_reading_is_logged(
    web: Web,
) -> None:
    margaret = web.world.people["DEMO-0003"]
    with web.session() as session:
        OfficerActions(session, web.clock, RecordingProvider()).escalate_to_safeguarding(
            margaret,
            concern="Harry says money has gone missing.\n\nA neighbour has the card.",
            officer=OFFICER,
            reason="Concern raised on the phone",
        )
        session.commit()

    assert signed_in(web, OFFICER).get("/officer/safeguarding/").status_code == 403
    client = signed_in(web, SENIOR)
    form = parse_page(client.get("/officer/safeguarding/?person=DEMO-0003"))
    field = form.find(".//input[@name='person']")
    assert field is not None and field.get("value") == "DEMO-0003"

    path, token = "/officer/safeguarding/", csrf_token(client, "/officer/safeguarding/")
    missing = client.post(path, data={"csrf_token": token, "person": "DEMO-0003", "reason": ""})
    assert missing.status_code == 400
    assert "Enter why you need to read their safeguarding records" in page_text(missing)
    nobody = client.post(path, data={"csrf_token": token, "person": "X-1", "reason": "Check"})
    assert nobody.status_code == 400 and "No one has the council reference X-1" in page_text(nobody)

    response = client.post(
        path, data={"csrf_token": token, "person": "DEMO-0003", "reason": "Section 42 enquiry"}
    )
    assert response.status_code == 200
    text = page_text(response)
    assert "Margaret Hughes, DEMO-0003" in text
    assert "Harry says money has gone missing." in text and "A neighbour has the card." in text
    with web.session() as session:
        readings = (
            session.execute(select(AuditEntry).where(AuditEntry.action == "safeguarding_viewed"))
            .scalars()
            .all()
        )
    assert [(r.actor, r.subject_id, r.reason) for r in readings] == [
        (SENIOR, margaret, "Section 42 enquiry")
    ]
    audit = page_text(client.get("/officer/audit?action=safeguarding_viewed"))
    assert "Read safeguarding records Margaret Hughes DEMO-0003 Section 42 enquiry" in audit


def test_officers_have_the_oversight_pages_in_their_navigation(web: Web) -> None:
    officer = parse_page(signed_in(web, OFFICER).get("/officer/inbox"))
    senior = parse_page(signed_in(web, SENIOR).get("/officer/inbox"))
    links = {a.get("href") for a in officer.iterfind(".//nav//a")}
    assert {"/officer/inbox", "/officer/audit", "/officer/reports/monthly"} <= links
    assert "/officer/safeguarding/" not in links
    assert "/officer/safeguarding/" in {a.get("href") for a in senior.iterfind(".//nav//a")}

"""Officers' person and card pages and the actions taken from them, end to end through the
test client on the demo world: suspend and unsuspend (the card provider is told through
the adapters, and the ledger declines payments at once), an unplanned review, a life
event, an emergency load; bad input changes nothing; the ledger history pages by keyset
with a fixed number of statements; the composition root picks the provider clients."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

import monitoring.commands
from adapters.models import CardCommandRecord, CommandStatus
from adapters.outbound import OutboundCommands
from adapters.simulated import SimulatedProvider
from adapters.stripe_issuing import StripeCommands
from ledger.clock import FixedClock
from ledger.models import Account, Card, CardStatus, Person, Plan, Transfer, TransferCode
from ledger.service import Ledger
from monitoring.models import AuditEntry, EmergencyLoad, LifeEvent, ReviewRequest
from monitoring.runner import run_monitor
from portal.models import RecordView
from portal.providers import ProviderSettings, provider_factory
from portal.repositories.officer_cards import ledger_page
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


def post(web: Web, path: str, data: dict[str, Any], *, email: str = OFFICER) -> Any:
    client = signed_in(web, email)
    token = csrf_token(client, path)
    return client.post(path, data={"csrf_token": token, **data})


def banner(web: Web, response: Any, email: str = OFFICER) -> str:
    """Follow a redirect and return the success banner's text."""
    assert response.status_code == 302, response.get_data(as_text=True)
    page = parse_page(signed_in(web, email).get(response.headers["Location"]))
    found = page.find(".//div[@class='govuk-notification-banner__content']")
    assert found is not None, "a success banner"
    return text_of(found)


def error_summary(response: Any) -> str:
    assert response.status_code == 400
    document = parse_page(response)
    summary = document.find(".//div[@class='govuk-error-summary']")
    assert summary is not None, "a GOV.UK error summary"
    assert (document.findtext(".//title") or "").startswith("Error: ")
    return text_of(summary)


def count(web: Web, model: Any, *where: Any) -> int:
    with web.session() as session:
        return int(
            session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()
        )


def card(web: Web, last4: str) -> Card:
    with web.session() as session:
        found = session.get(Card, web.world.cards[last4])
        assert found is not None
        return found


# -- the person page ----------------------------------------------------------------------------


def test_the_person_page_shows_the_whole_record_and_links_to_flags(web: Web) -> None:
    vivian = web.world.people["DEMO-0007"]
    with web.session() as session:
        run_monitor(session, web.clock, "surplus")
        session.commit()
    document = parse_page(signed_in(web, OFFICER).get(f"/officer/people/{vivian}"))
    text = text_of(document)
    assert "John Shaw Their carer Son Yes" in text  # carers and relationships
    assert "Day activity Day centre Shop types 8351 £480.00" in text  # plan lines
    assert "£880.00 every 4 weeks" in text
    links = {text_of(a): a.get("href") for a in document.iter("a")}
    # Her card, and John's companion card drawing on the pot in her budget.
    assert links["Primary card ending 4307"] == f"/officer/cards/{web.world.cards['4307']}"
    assert links["Companion card ending 4308"] == f"/officer/cards/{web.world.cards['4308']}"
    flag_links = [href for href in links.values() if href and href.startswith("/officer/flags/")]
    assert len(flag_links) == 1  # the surplus flag the monitor raised
    assert "See the surplus calculation and propose a clawback" in text
    assert "There have been no clawbacks." in text


def test_the_person_page_shows_actions_taken_and_every_view_is_logged(web: Web) -> None:
    margaret = web.world.people["DEMO-0003"]
    response = post(
        web,
        f"/officer/people/{margaret}/review",
        {"plan": str(_plan_of(web, "DEMO-0003")), "reason": "Spending has stopped"},
    )
    assert banner(web, response).startswith("An unplanned review was requested, due by 18 May 2026")
    text = page_text(signed_in(web, OFFICER).get(f"/officer/people/{margaret}"))
    assert "20 April 2026 Spending has stopped 18 May 2026 Requested" in text
    with web.session() as session:
        pages = session.execute(select(RecordView.page).order_by(RecordView.id)).scalars().all()
    # The form page and the record, each time they were shown (the banner's page twice).
    assert pages[0] == f"/officer/people/{margaret}/review"
    assert set(pages[1:]) == {f"/officer/people/{margaret}"}


def _plan_of(web: Web, reference: str) -> int:
    with web.session() as session:
        return session.execute(
            select(Plan.id)
            .join(Person, Person.id == Plan.person_id)
            .where(Person.council_reference == reference)
        ).scalar_one()


def test_a_review_request_with_bad_input_changes_nothing(web: Web) -> None:
    margaret = web.world.people["DEMO-0003"]
    path = f"/officer/people/{margaret}/review"
    summary = error_summary(post(web, path, {"plan": str(_plan_of(web, "DEMO-0003"))}))
    assert "Enter a reason" in summary
    summary = error_summary(
        post(web, path, {"plan": str(_plan_of(web, "DEMO-0001")), "reason": "x"})
    )
    assert "Not a valid choice" in summary  # someone else's plan
    past = {"due_by": ["1", "1", "2026"], "reason": "x", "plan": str(_plan_of(web, "DEMO-0003"))}
    assert "today or in the future" in error_summary(post(web, path, past))
    assert count(web, ReviewRequest) == 0


# -- life events --------------------------------------------------------------------------------


def test_life_events_are_recorded_and_refused_when_they_do_not_fit(web: Web) -> None:
    greg = web.world.people["DEMO-0001"]
    path = f"/officer/people/{greg}/life-events"
    discharge = {"kind": "hospital_discharge", "on": ["18", "4", "2026"], "note": "Ward call"}
    summary = error_summary(post(web, path, discharge))
    assert "The person is not recorded as in hospital" in summary
    assert count(web, LifeEvent) == 0

    admission = {"kind": "hospital_admission", "on": ["14", "4", "2026"], "note": "Ward call"}
    assert (
        banner(web, post(web, path, admission)) == "Recorded: admitted to hospital, 14 April 2026."
    )
    early = {**discharge, "on": ["1", "4", "2026"]}
    assert "A discharge cannot be before the admission" in error_summary(post(web, path, early))
    assert banner(web, post(web, path, discharge)).startswith("Recorded: discharged")
    with web.session() as session:
        stay = session.execute(select(LifeEvent)).scalar_one()
        assert (stay.starts_on.isoformat(), stay.ends_on and stay.ends_on.isoformat()) == (
            "2026-04-14",
            "2026-04-18",
        )

    respite = {"kind": "respite", "on": ["1", "5", "2026"], "note": "Booked"}
    assert "Enter the last day of respite" in error_summary(post(web, path, respite))
    future_death = {"kind": "death", "on": ["1", "5", "2026"], "note": "x"}
    assert "cannot be in the future" in error_summary(post(web, path, future_death))
    assert count(web, LifeEvent) == 1


def test_a_recorded_death_shows_on_the_record(web: Web) -> None:
    eleanor = web.world.people["DEMO-0005"]
    death = {"kind": "death", "on": ["19", "4", "2026"], "note": "Her daughter Barbara called"}
    post(web, f"/officer/people/{eleanor}/life-events", death)
    text = page_text(signed_in(web, OFFICER).get(f"/officer/people/{eleanor}"))
    assert "Eleanor Price died on 19 April 2026" in text
    assert "Died 19 April 2026 Her daughter Barbara called officer@example.org" in text


# -- emergency load -------------------------------------------------------------------------------


def _emergency(web: Web, person: int, **changes: Any) -> dict[str, Any]:
    client = signed_in(web, OFFICER)
    page = client.get(f"/officer/people/{person}/emergency-load").get_data(as_text=True)
    key = re.search(r'name="request_key" value="([^"]+)"', page)
    budget = re.search(r'name="budget" type="radio" value="(\d+)" checked', page) or re.search(
        r'name="budget"[^>]*value="(\d+)"', page
    )
    assert key and budget
    data = {
        "request_key": key.group(1),
        "budget": budget.group(1),
        "kind": "urgent",
        "purpose": "Agency carers while Harry is in hospital",
        "amount": "450.00",
        "person_amount": "50",
        "duration_days": "14",
        "review_how": "Phone call with Margaret's daughter",
        "review_on": ["4", "5", "2026"],
        "outcome_aimed_at": "Margaret stays safely at home",
        "next_steps": "Review the plan when Harry is home",
        "reason": "Harry was admitted to hospital this morning",
    }
    data.update(changes)
    return data


def test_an_emergency_load_moves_the_money_once_and_records_what_it_is_for(web: Web) -> None:
    margaret = web.world.people["DEMO-0003"]
    path = f"/officer/people/{margaret}/emergency-load"
    with web.session() as session:
        budget_id = card(web, "4303").account_id
        before = session.get(Account, budget_id)
        assert before is not None
        available_before = before.available_balance
    data = _emergency(web, margaret)
    message = banner(web, post(web, path, data))
    assert message == "£450.00 was loaded as urgent support. It is to be reviewed on 4 May 2026."
    again = post(web, path, data)  # a double click: the same request key
    assert again.status_code == 302
    with web.session() as session:
        record = session.execute(select(EmergencyLoad)).scalar_one()
        assert (record.council_amount, record.person_amount, record.duration_days) == (
            45000,
            5000,
            14,
        )
        assert record.outcome_aimed_at == "Margaret stays safely at home"
        assert record.review_how == "Phone call with Margaret's daughter"
        after = session.get(Account, budget_id)
        assert after is not None and after.available_balance == available_before + 45000
        loads = (
            session.execute(select(Transfer).where(Transfer.code == TransferCode.EMERGENCY_LOAD))
            .scalars()
            .all()
        )
        assert [(t.credit_account_id, t.amount) for t in loads] == [(budget_id, 45000)]
        command = session.execute(
            select(CardCommandRecord).where(CardCommandRecord.command == "load")
        ).scalar_one()
        assert (command.card_id, command.amount, command.status) == (
            web.world.cards["4303"], 45000, CommandStatus.ACCEPTED,
        )  # fmt: skip
    text = page_text(signed_in(web, OFFICER).get(f"/officer/people/{margaret}"))
    assert "Urgent: Agency carers while Harry is in hospital 4 May 2026" in text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": "12.345"}, "must be an amount in pounds and pence"),
        ({"amount": "lots"}, "must be an amount in pounds and pence"),
        ({"amount": "0"}, "must be more than £0"),
        ({"person_amount": "-5"}, "must be zero or more than £0"),
        ({"duration_days": "0"}, "Enter a number of days from 1 to 366"),
        ({"review_on": ["1", "4", "2026"]}, "The review date cannot be in the past"),
        ({"kind": ""}, "Select urgent or interim support"),
        ({"next_steps": ""}, "Say what the next steps are"),
    ],
)
def test_an_emergency_load_with_bad_input_changes_nothing(
    web: Web, changes: dict[str, Any], message: str
) -> None:
    margaret = web.world.people["DEMO-0003"]
    data = _emergency(web, margaret, **changes)
    response = post(web, f"/officer/people/{margaret}/emergency-load", data)
    assert message in error_summary(response)
    assert count(web, EmergencyLoad) == 0
    assert count(web, Transfer, Transfer.code == TransferCode.EMERGENCY_LOAD) == 0
    assert count(web, CardCommandRecord) == 0


# -- suspend and unsuspend -------------------------------------------------------------------------


def test_suspending_from_the_card_page_tells_the_provider_and_declines_payments(web: Web) -> None:
    card_id = web.world.cards["4303"]
    response = post(web, f"/officer/cards/{card_id}/suspend", {"reason": "Possible misuse"})
    assert banner(web, response) == (
        "The card ending 4303 is suspended: new payments are declined. The card provider "
        "was told and confirmed it: card suspended."
    )
    with web.session() as session:
        assert session.get(Card, card_id).status is CardStatus.SUSPENDED  # type: ignore[union-attr]
        command = session.execute(select(CardCommandRecord)).scalar_one()
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.action == "card_suspend")
        ).scalar_one()
        assert (command.card_id, command.command, command.provider, command.status) == (
            card_id, "suspend", "simulated", CommandStatus.ACCEPTED,
        )  # fmt: skip
        assert command.reason == "Possible misuse"
        assert command.idempotency_key == f"card-status:{entry.id}"
        assert entry.actor == OFFICER
        _, answer = SimulatedProvider(session, web.clock).purchase("sim_margaret", 500)
        assert answer["approved"] is False and answer["decline_reason"] == "card_suspended"
    text = page_text(signed_in(web, OFFICER).get(f"/officer/cards/{card_id}"))
    assert "Suspend Possible misuse Accepted: card suspended" in text
    assert "This card is suspended" in text

    response = post(web, f"/officer/cards/{card_id}/unsuspend", {"reason": "Explained by daughter"})
    assert "is active again" in banner(web, response)
    with web.session() as session:
        provider = SimulatedProvider(session, web.clock)
        _, answer = provider.purchase("sim_margaret", 500, payment_id="after-unsuspend")
        assert answer["approved"] is True
        commands = (
            session.execute(select(CardCommandRecord.command).order_by(CardCommandRecord.id))
            .scalars()
            .all()
        )
        assert commands == ["suspend", "unsuspend"]


def test_suspending_a_suspended_card_tells_the_provider_again_with_no_second_effect(
    web: Web,
) -> None:
    card_id = web.world.cards["4301"]
    post(web, f"/officer/cards/{card_id}/suspend", {"reason": "Possible misuse"})
    again = post(web, f"/officer/cards/{card_id}/suspend", {"reason": "Again"})
    assert "(it already was)" in banner(web, again)
    assert count(web, CardCommandRecord) == 1
    assert count(web, AuditEntry, AuditEntry.action == "card_suspend") == 1


def test_suspending_without_a_reason_or_a_token_changes_nothing(web: Web) -> None:
    card_id = web.world.cards["4303"]
    audited = count(web, AuditEntry)  # the demo's own (its council setting)
    summary = error_summary(post(web, f"/officer/cards/{card_id}/suspend", {"reason": "  "}))
    assert "Enter a reason" in summary
    client = signed_in(web, OFFICER)
    no_token = client.post(f"/officer/cards/{card_id}/suspend", data={"reason": "x"})
    assert no_token.status_code == 400
    assert card(web, "4303").status is CardStatus.ACTIVE
    assert count(web, CardCommandRecord) == 0 and count(web, AuditEntry) == audited


@pytest.mark.parametrize(
    "email", ["margaret.hughes@example.org", "john.shaw@example.org", "admin@example.org"]
)
def test_only_officers_can_suspend_a_card(web: Web, email: str) -> None:
    client = signed_in(web, email)
    token = csrf_token(client, "/sign-in")
    card_id = web.world.cards["4303"]
    response = client.post(
        f"/officer/cards/{card_id}/suspend", data={"csrf_token": token, "reason": "x"}
    )
    assert response.status_code == 403
    assert card(web, "4303").status is CardStatus.ACTIVE
    assert count(web, CardCommandRecord) == 0


def test_an_unknown_or_closed_card_is_not_found(web: Web) -> None:
    client = signed_in(web, OFFICER)
    assert client.get("/officer/cards/999999").status_code == 404
    assert client.get("/officer/cards/999999/suspend").status_code == 404
    with web.session() as session:
        closed = session.get(Card, web.world.cards["4302"])
        assert closed is not None
        closed.status = CardStatus.CLOSED
        session.commit()
    assert client.get(f"/officer/cards/{web.world.cards['4302']}/unsuspend").status_code == 404
    assert count(web, RecordView) == 0


# -- the card page ------------------------------------------------------------------------------


def test_the_card_page_shows_balances_holds_and_history_and_is_logged(web: Web) -> None:
    card_id = web.world.cards["4303"]
    document = parse_page(signed_in(web, OFFICER).get(f"/officer/cards/{card_id}"))
    text = text_of(document)
    assert "Available £797.50 Pending (holds) £12.50 Posted balance £810.00" in text
    assert "Card spend: Lloyds Pharmacy 4303 £12.50" in text  # the open hold
    assert "Direct debit: Brightwell Homecare Ltd Posted" in text
    assert "4-weekly load 3 Posted" in text
    with web.session() as session:
        view = session.execute(select(RecordView)).scalar_one()
    assert (view.person_id, view.page) == (
        web.world.people["DEMO-0003"],
        f"/officer/cards/{card_id}",
    )


def _many_transfers(web: Web, n: int) -> tuple[int, list[int]]:
    """``n`` loads on Greg's budget, their effective times out of id order; returns the
    account and every transfer on it, newest first by effective time."""
    with web.session() as session:
        account_id = card(web, "4301").account_id
        ledger = Ledger(session, FixedClock(WEB_NOW))
        for i in range(n):
            # Written in id order, effective in a shuffled order (a provider's late news).
            effective = WEB_NOW - timedelta(days=(i * 7) % n, minutes=i)
            ledger.load(account_id, 100 + i, source="test", key=f"load-{i}", effective_at=effective)
        session.commit()
        ids = (
            session.execute(
                select(Transfer.id)
                .where(
                    (Transfer.debit_account_id == account_id)
                    | (Transfer.credit_account_id == account_id)
                )
                .order_by(Transfer.effective_at.desc(), Transfer.id.desc())
            )
            .scalars()
            .all()
        )
    return account_id, list(ids)


def test_ledger_history_pages_by_keyset_newest_first_and_back(web: Web) -> None:
    account_id, expected = _many_transfers(web, 40)
    with web.session() as session:
        seen: list[int] = []
        page = ledger_page(session, account_id, size=10)
        pages = [page]
        while page.older_before is not None:
            page = ledger_page(session, account_id, before=page.older_before, size=10)
            pages.append(page)
        seen = [row.transfer_id for p in pages for row in p.rows]
        assert seen == expected
        assert pages[0].newer_after is None and pages[-1].older_before is None
        back = ledger_page(session, account_id, after=pages[2].rows[0].transfer_id, size=10)
        assert [r.transfer_id for r in back.rows] == [r.transfer_id for r in pages[1].rows]
        # A cursor from another account is ignored: the newest page.
        other = web.world.cards["4303"]
        stray = ledger_page(session, account_id, before=_first_transfer_of(session, other), size=10)
        assert [r.transfer_id for r in stray.rows] == expected[:10]


def _first_transfer_of(session: Session, card_id: int) -> int:
    account_id = session.get(Card, card_id).account_id  # type: ignore[union-attr]
    return session.execute(
        select(func.min(Transfer.id)).where(Transfer.credit_account_id == account_id)
    ).scalar_one()


def test_the_card_page_links_pages_of_history(web: Web) -> None:
    _, expected = _many_transfers(web, 30)
    client = signed_in(web, OFFICER)
    card_id = web.world.cards["4301"]
    document = parse_page(client.get(f"/officer/cards/{card_id}"))
    older = document.find(".//div[@class='govuk-pagination__next']/a")
    assert (
        older is not None and older.get("href") == f"/officer/cards/{card_id}?before={expected[24]}"
    )
    second = parse_page(client.get(older.get("href") or ""))
    newer = second.find(".//div[@class='govuk-pagination__prev']/a")
    assert (
        newer is not None and newer.get("href") == f"/officer/cards/{card_id}?after={expected[25]}"
    )
    assert client.get(f"/officer/cards/{card_id}?before=nonsense").status_code == 200


def test_the_card_page_costs_the_same_statements_however_long_the_history(web: Web) -> None:
    """No query per row: a full page of history takes as many statements as a short one."""
    client = signed_in(web, OFFICER)
    short = _statements(web, lambda: client.get(f"/officer/cards/{web.world.cards['4305']}"))
    _many_transfers(web, 40)
    long = _statements(web, lambda: client.get(f"/officer/cards/{web.world.cards['4301']}"))
    assert long == short


def _statements(web: Web, action: Any) -> int:
    connection = web.sessions.kw["bind"]
    seen: list[str] = []

    def count_statement(*args: Any) -> None:
        seen.append(args[2])

    event.listen(connection, "before_cursor_execute", count_statement)
    try:
        assert action().status_code == 200
    finally:
        event.remove(connection, "before_cursor_execute", count_statement)
    return len([s for s in seen if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE"))])


def test_a_history_page_is_read_through_the_account_indexes(web: Web) -> None:
    account_id, _ = _many_transfers(web, 20)
    with web.session() as session:
        captured: list[tuple[str, Any]] = []

        def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
            if "UNION ALL" in statement:
                captured.append((statement, parameters))

        connection = session.connection()
        event.listen(connection, "before_cursor_execute", capture)
        ledger_page(session, account_id, size=10)
        event.remove(connection, "before_cursor_execute", capture)
        ((statement, parameters),) = captured
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = connection.exec_driver_sql("EXPLAIN " + statement, parameters).scalars().all()
        else:
            plan = [
                str(row[-1])
                for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            ]
    described = "\n".join(plan)
    assert "ix_transfers_debit_effective" in described, described
    assert "ix_transfers_credit_effective" in described, described


# -- the composition root ------------------------------------------------------------------------


def test_the_simulated_provider_is_used_outside_production_only() -> None:
    assert ProviderSettings.from_env("development", {}).providers == ["simulated"]
    assert ProviderSettings.from_env("test", {}).providers == ["simulated"]
    assert ProviderSettings.from_env("production", {}).providers == []
    forced = {"DPLEDGER_SIMULATED_PROVIDER": "1"}
    assert ProviderSettings.from_env("production", forced).providers == ["simulated"]
    off = {"DPLEDGER_SIMULATED_PROVIDER": "0"}
    assert ProviderSettings.from_env("development", off).providers == []


def test_stripe_and_marqeta_clients_when_their_secrets_are_configured(web: Web) -> None:
    env = {
        "DPLEDGER_STRIPE_API_KEY": "rk_test_example",
        "DPLEDGER_MARQETA_API_URL": "https://sandbox-api.marqeta.com/v3",
        "DPLEDGER_MARQETA_APPLICATION_TOKEN": "app",
    }
    settings = ProviderSettings.from_env("production", env)
    assert settings.providers == ["stripe"]  # Marqeta needs all three settings
    settings = ProviderSettings.from_env(
        "production", {**env, "DPLEDGER_MARQETA_ACCESS_TOKEN": "access"}
    )
    assert settings.providers == ["stripe", "marqeta"]
    with web.session() as session:
        commands = provider_factory(settings, FixedClock(WEB_NOW))(session)
    assert isinstance(commands, OutboundCommands)
    assert sorted(commands.clients) == ["marqeta", "stripe"]
    assert isinstance(commands.clients["stripe"], StripeCommands)


def test_the_command_line_wires_the_adapters_into_monitoring(
    monkeypatch: pytest.MonkeyPatch, web: Web
) -> None:
    from portal.cli import main

    monkeypatch.setattr(monitoring.commands, "_provider_factory", None)
    monkeypatch.setenv("DPLEDGER_ENV", "development")
    result = CliRunner().invoke(main, ["monitors", "--help"])
    assert result.exit_code == 0, result.output
    with web.session() as session:
        commands = monitoring.commands._provider_for(session)
    assert isinstance(commands, OutboundCommands)
    assert list(commands.clients) == ["simulated"]


# -- every field is labelled ----------------------------------------------------------------------

ACTION_PAGES = [
    "/officer/people/{person}/review",
    "/officer/people/{person}/life-events",
    "/officer/people/{person}/emergency-load",
    "/officer/cards/{card}/suspend",
]


@pytest.mark.parametrize("page", ACTION_PAGES)
def test_every_field_on_an_action_page_has_a_label_or_legend(web: Web, page: str) -> None:
    path = page.format(person=web.world.people["DEMO-0003"], card=web.world.cards["4303"])
    document = parse_page(signed_in(web, OFFICER).get(path))
    labels = {label.get("for") for label in document.iter("label")}
    fieldsets = list(document.iter("fieldset"))
    named = [f for f in fieldsets if _has_text(f.find("legend"))]
    inside_legend = {id(element) for fieldset in named for element in fieldset.iter()}
    fields = [
        element
        for element in document.iter()
        if element.tag in ("input", "textarea", "select")
        and element.get("type") not in ("hidden", "submit")
    ]
    assert fields
    for field in fields:
        assert field.get("id") in labels, f"{field.get('name')} has no label"
        if field.get("type") == "radio" or field.get("name", "").endswith(("day", "month", "year")):
            assert id(field) in inside_legend, f"{field.get('name')} is not in a named fieldset"


def _has_text(element: Any) -> bool:
    return element is not None and bool(text_of(element))

"""Who may open what: every role against every route, their own record and someone
else's. A holder asking for a card they may not see gets 404 and none of its data;
a role without access gets 403; a signed-out visitor is sent to sign in."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ledger.models import Plan
from monitoring.actions import OfficerActions
from monitoring.flags import Hit, raise_flags
from monitoring.models import AdvocacyNeed, FlagNote, Severity
from monitoring.settings import MonitoringSettings
from tests.monitoring.fakes import RecordingProvider
from tests.portal import portal_support as support
from tests.portal.portal_support import Web, csrf_token, parse_page, signed_in

web_module = support.web_module
web = support.web

# role -> (sign-in email, the card that is theirs, a card that is someone else's)
ROLES: dict[str, tuple[str | None, str | None, str]] = {
    "anonymous": (None, None, "4303"),
    "holder": ("margaret.hughes@example.org", "4303", "4304"),  # her husband's card
    "carer": ("harry.hughes@example.org", "4304", "4303"),  # his wife's card
    "companion": ("john.shaw@example.org", "4308", "4307"),  # the budget behind his pot
    "budget owner": ("vivian.shaw@example.org", "4307", "4301"),
    "officer": ("officer@example.org", None, "4303"),
    "senior officer": ("senior.officer@example.org", None, "4303"),
    "admin": ("admin@example.org", None, "4303"),
}
HOLDERS = {"holder", "carer", "companion", "budget owner"}
OFFICERS = {"officer", "senior officer"}

# The names on each card, which must never appear on a page refused to someone else.
CARD_OWNERS = {
    "4301": "Greg Adams",
    "4303": "Margaret Hughes",
    "4304": "Harry Hughes",
    "4307": "Vivian Shaw",
    "4308": "John Shaw",
}

CARD_PAGES = ["", "/payments", "/plan", "/statements", "/statements/3.csv", "/statements/2.pdf"]


def expected_for_card_page(role: str, whose: str, page: str) -> int:
    if role == "anonymous":
        return 302
    if role not in HOLDERS:
        return 403
    if whose == "other":
        return 404
    if page == "/plan" and role == "companion":
        return 404  # the plan is the cared-for person's
    return 200


CASES = [
    (role, whose, page)
    for role in ROLES
    for whose in ("own", "other")
    for page in CARD_PAGES
    if not (whose == "own" and ROLES[role][1] is None)
]


@pytest.mark.parametrize(("role", "whose", "page"), CASES)
def test_card_pages(web: Web, role: str, whose: str, page: str) -> None:
    email, own, other = ROLES[role]
    last4 = own if whose == "own" else other
    assert last4 is not None
    client = signed_in(web, email)
    response = client.get(f"/cards/{web.world.cards[last4]}{page}")
    expected = expected_for_card_page(role, whose, page)
    assert response.status_code == expected
    if expected == 302:
        assert response.headers["Location"].startswith("/sign-in?next=/cards/")
    elif response.mimetype == "text/html":
        parse_page(response)
    if expected != 200:
        body = response.get_data(as_text=True)
        assert CARD_OWNERS[last4] not in body
        assert "£" not in body


def test_the_budget_owner_sees_a_companion_card_on_their_pot_but_not_its_plan(
    web: Web,
) -> None:
    client = signed_in(web, "vivian.shaw@example.org")
    john = web.world.cards["4308"]
    for page in ["", "/payments", "/statements", "/statements/3.csv"]:
        assert client.get(f"/cards/{john}{page}").status_code == 200
    assert client.get(f"/cards/{john}/plan").status_code == 404


def test_an_unknown_card_is_not_found(web: Web) -> None:
    client = signed_in(web, "margaret.hughes@example.org")
    assert client.get("/cards/999999").status_code == 404


SITE_PAGES = ["/", "/cards", "/officer/", "/officer/people/{person}", "/admin/users"]
SITE_PAGES += ["/officer/flags"]  # the flag queue (a flag's page: test_a_flags_page_...)
# Oversight pages, and the holder's notices.
SITE_PAGES += ["/notices", "/officer/inbox", "/officer/audit", "/officer/reports/monthly"]
SITE_PAGES += ["/officer/safeguarding/"]  # senior officers only
# Officers' record and action pages (their forms are GET pages; POSTs are tested with them).
SITE_PAGES += [
    "/officer/people/{person}/review",
    "/officer/people/{person}/life-events",
    "/officer/people/{person}/emergency-load",
    "/officer/cards/{card}",
    "/officer/cards/{card}/suspend",
    "/officer/plans/{plan}/clawback",
    "/officer/approvals",
]


def expected_for_site_page(role: str, page: str) -> int:
    if page == "/":
        return 302  # everyone is sent to where they start
    if role == "anonymous":
        return 302
    if page in ("/cards", "/notices"):
        return 200 if role in HOLDERS else 403
    if page.startswith("/officer/safeguarding/"):
        return 200 if role == "senior officer" else 403
    if page.startswith("/officer/"):
        return 200 if role in OFFICERS else 403
    return 200 if role == "admin" else 403


@pytest.mark.parametrize("page", SITE_PAGES)
@pytest.mark.parametrize("role", list(ROLES))
def test_site_pages(web: Web, role: str, page: str) -> None:
    email = ROLES[role][0]
    client = signed_in(web, email)
    path = page.format(
        person=web.world.people["DEMO-0003"], card=web.world.cards["4303"], plan=_plan(web)
    )
    response = client.get(path)
    expected = expected_for_site_page(role, page)
    assert response.status_code == expected
    if expected in (200, 403):
        parse_page(response)
    if expected == 403:
        body = response.get_data(as_text=True)
        assert "DEMO-0003" not in body and "£" not in body
    if role == "anonymous" and page != "/":
        assert response.headers["Location"].startswith("/sign-in?next=")


def _plan(web: Web) -> int:
    """Margaret's plan (DEMO-0003)."""
    with web.session() as session:
        found: int = session.execute(
            select(Plan.id).where(Plan.person_id == web.world.people["DEMO-0003"])
        ).scalar_one()
    return found


@pytest.mark.parametrize("role", list(ROLES))
def test_a_flags_page_and_its_actions(web: Web, role: str) -> None:
    """Officers see a flag and act on it; holders and admins get 403; a signed-out
    visitor is sent to sign in. A refused action changes nothing."""
    margaret = web.world.people["DEMO-0003"]
    with web.session() as session:
        hit = Hit("m.rule", "person", margaret, "k", Severity.LOW, "A flag", "Why", margaret)
        (flag,) = raise_flags(session, web.clock, MonitoringSettings(), "m", [hit]).flag_ids
        session.commit()
    client = signed_in(web, ROLES[role][0])
    page = client.get(f"/officer/flags/{flag}")
    start = {"anonymous": "/sign-in", "admin": "/admin/users"}.get(role)
    token = csrf_token(client, start or ("/officer/" if role in OFFICERS else "/cards"))
    note = client.post(f"/officer/flags/{flag}/note", data={"csrf_token": token, "note-text": "Hi"})
    with web.session() as session:
        notes = session.execute(select(FlagNote.text).where(FlagNote.flag_id == flag)).all()
    if role in OFFICERS:
        assert (page.status_code, note.status_code, len(notes)) == (200, 302, 1)
    elif role == "anonymous":
        assert (page.status_code, note.status_code, notes) == (302, 302, [])
    else:
        assert (page.status_code, note.status_code, notes) == (403, 403, [])
        assert "Margaret Hughes" not in page.get_data(as_text=True)
    if page.status_code != 302:
        parse_page(page)


@pytest.mark.parametrize("role", list(ROLES))
def test_a_review_page_and_its_actions(web: Web, role: str) -> None:
    """Officers see a review, answer its advocacy question and follow a flag to it;
    holders and admins get 403 and change nothing; a signed-out visitor signs in first."""
    margaret = web.world.people["DEMO-0003"]
    with web.session() as session:
        hit = Hit("m.rule", "plan", _plan(web), "k", Severity.LOW, "A flag", "Why", margaret)
        (flag,) = raise_flags(session, web.clock, MonitoringSettings(), "m", [hit]).flag_ids
        review = OfficerActions(session, web.clock, RecordingProvider()).request_review(
            _plan(web), officer="o@example.org", reason="Spending stopped", flag_id=flag
        )
        session.commit()
    client = signed_in(web, ROLES[role][0])
    page = client.get(f"/officer/reviews/{review.id}")
    from_flag = client.get(f"/officer/reviews/from-flag/{flag}")
    start = {"anonymous": "/sign-in", "admin": "/admin/users"}.get(role)
    token = csrf_token(client, start or ("/officer/" if role in OFFICERS else "/cards"))
    answer = {"substantial_difficulty": "no", "appropriate_person": "yes", "advocacy_note": "n"}
    advocacy = client.post(
        f"/officer/reviews/{review.id}/advocacy",
        data={"csrf_token": token, **{f"advocacy-{k}": v for k, v in answer.items()}},
    )
    with web.session() as session:
        needs = session.execute(select(AdvocacyNeed.id)).all()
    statuses = (page.status_code, from_flag.status_code, advocacy.status_code)
    if role in OFFICERS:
        assert (statuses, len(needs)) == ((200, 302, 302), 1)
        assert from_flag.headers["Location"] == f"/officer/reviews/{review.id}"
    elif role == "anonymous":
        assert (statuses, needs) == ((302, 302, 302), [])
    else:
        assert (statuses, needs) == ((403, 403, 403), [])
        assert "Margaret Hughes" not in page.get_data(as_text=True)
    if page.status_code != 302:
        parse_page(page)


@pytest.mark.parametrize(
    ("role", "start"),
    [
        ("anonymous", "/sign-in"),
        ("holder", "/cards"),
        ("companion", "/cards"),
        ("officer", "/officer/"),
        ("senior officer", "/officer/"),
        ("admin", "/admin/users"),
    ],
)
def test_each_role_starts_in_its_own_place(web: Web, role: str, start: str) -> None:
    client = signed_in(web, ROLES[role][0])
    assert client.get("/").headers["Location"] == start


@pytest.mark.parametrize("page", ["/sign-in", "/forgot-password"])
@pytest.mark.parametrize("role", list(ROLES))
def test_public_pages_open_to_everyone(web: Web, role: str, page: str) -> None:
    client = signed_in(web, ROLES[role][0])
    response = client.get(page)
    assert response.status_code == 200
    parse_page(response)


@pytest.mark.parametrize("role", list(ROLES))
def test_the_monthly_report_as_csv_is_for_officers_only(web: Web, role: str) -> None:
    response = signed_in(web, ROLES[role][0]).get("/officer/reports/monthly.csv")
    expected = 302 if role == "anonymous" else 200 if role in OFFICERS else 403
    assert response.status_code == expected
    assert (response.mimetype == "text/csv") == (expected == 200)

"""The officers' People page: search by the start of a name or a whole council reference,
and keyset pages by name, read from the indexes of migration 0017."""

from __future__ import annotations

import random
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from ledger.clock import FixedClock
from ledger.enrolment import Enrolment
from ledger.models import Person
from portal.repositories.people import PAGE_SIZE, people_page
from tests.portal import portal_support as support
from tests.portal.portal_support import (
    WEB_NOW,
    Web,
    page_text,
    parse_page,
    signed_in,
    text_of,
)

web_module = support.web_module
web = support.web

OFFICER = "officer@example.org"


def _names(web: Web, path: str) -> list[str]:
    document = parse_page(signed_in(web, OFFICER).get(path))
    return [text_of(a) for a in document.iterfind(".//tbody//a")]


def _links(web: Web, path: str) -> tuple[list[str], str | None, str | None]:
    """The names on the page, and its Previous and Next links."""
    document = parse_page(signed_in(web, OFFICER).get(path))
    names = [text_of(a) for a in document.iterfind(".//tbody//a")]
    previous = document.find(".//div[@class='govuk-pagination__prev']/a")
    following = document.find(".//div[@class='govuk-pagination__next']/a")
    return (
        names,
        previous.get("href") if previous is not None else None,
        following.get("href") if following is not None else None,
    )


def _register(web: Web, names: list[str]) -> None:
    with web.session() as session:
        enrol = Enrolment(session, web.clock)
        for n, name in enumerate(names):
            enrol.register_person(f"SEARCH-{n:05d}", name)
        session.commit()


def test_search_by_the_start_of_a_name_ignoring_case(web: Web) -> None:
    assert _names(web, "/officer/?q=margaret") == ["Margaret Hughes"]
    assert _names(web, "/officer/?q=MARGARET+HU") == ["Margaret Hughes"]
    assert _names(web, "/officer/?q=+Vi+") == ["Vivian Shaw"]
    page = page_text(signed_in(web, OFFICER).get("/officer/?q=margaret"))
    assert "People matching \u2018margaret\u2019, by name" in page
    assert "Clear search" in page


def test_search_by_a_whole_council_reference(web: Web) -> None:
    assert _names(web, "/officer/?q=DEMO-0003") == ["Margaret Hughes"]
    assert _names(web, "/officer/?q=demo-0003") == ["Margaret Hughes"]
    assert _names(web, "/officer/?q=DEMO-000") == []  # a reference is found whole


def test_no_one_found_says_what_to_try(web: Web) -> None:
    response = signed_in(web, OFFICER).get("/officer/?q=Hughes")
    assert response.status_code == 200
    assert "No one found" in page_text(response)
    assert "No one's name starts with \u2018Hughes\u2019" in page_text(response)


def test_a_search_too_long_is_an_error_summary(web: Web) -> None:
    response = signed_in(web, OFFICER).get("/officer/", query_string={"q": "x" * 201})
    assert response.status_code == 400
    document = parse_page(response)
    summary = document.find(".//div[@class='govuk-error-summary']")
    assert summary is not None
    assert "Search for 200 characters or fewer" in text_of(summary)
    assert document.find(".//title").text.startswith("Error: ")


def test_the_search_form_is_a_get_form_that_works_without_javascript(web: Web) -> None:
    document = parse_page(signed_in(web, OFFICER).get("/officer/"))
    (form,) = [f for f in document.iter("form") if f.get("action") == "/officer/"]
    assert form.get("method") == "get"
    field = form.find(".//input[@name='q']")
    assert field is not None and field.get("type") == "search"
    label = form.find(".//label[@for='q']")
    assert label is not None and text_of(label) == "Search by name or council reference"


def test_pages_of_people_by_name_forwards_and_back(web: Web) -> None:
    rng = random.Random(5)
    made = [
        f"{rng.choice(['Ann', 'ann', 'Bea', 'Cal', 'Zoe', 'Ed'])} {rng.choice('ABCXYZ')}{i:03d}"
        for i in range(2 * PAGE_SIZE + 7)
    ]
    made += ["Ann A001"] * 3  # the same name: in the order they were added
    _register(web, made)
    with web.session() as session:
        everyone = session.execute(select(Person.full_name, Person.id)).all()
    expected = [n for n, _ in sorted(everyone, key=lambda r: (r[0].lower(), r[1]))]

    pages: list[list[str]] = []
    path: str | None = "/officer/"
    previous: str | None = None
    while path is not None:
        names, previous, path = _links(web, path)
        assert (previous is None) == (not pages)
        assert 0 < len(names) <= PAGE_SIZE
        pages.append(names)
    assert [n for page in pages for n in page] == expected
    assert len(pages) == 3

    back: list[list[str]] = []
    while previous is not None:
        names, previous, following = _links(web, previous)
        assert following is not None
        back.insert(0, names)
    assert back == pages[:-1]


def test_a_search_is_paged_too_and_keeps_its_terms(web: Web) -> None:
    _register(web, [f"Ann Other {i:03d}" for i in range(PAGE_SIZE + 5)] + ["Annabel Lee"])
    names, previous, following = _links(web, "/officer/?q=ann+other")
    assert previous is None and following is not None
    assert names == [f"Ann Other {i:03d}" for i in range(PAGE_SIZE)]
    assert parse_qs(urlsplit(following).query)["q"] == ["ann other"]
    names, previous, following = _links(web, following)
    assert names == [f"Ann Other {i:03d}" for i in range(PAGE_SIZE, PAGE_SIZE + 5)]
    assert previous is not None and following is None
    assert len(_names(web, "/officer/?q=ann")) == PAGE_SIZE  # Ann Other, Annabel: 56


@pytest.mark.parametrize("cursor", ["after=999999", "before=999999", "after=x", "before=-1"])
def test_a_cursor_naming_no_one_shows_the_first_page(web: Web, cursor: str) -> None:
    assert _names(web, f"/officer/?{cursor}") == _names(web, "/officer/")


def test_each_statement_reads_an_index(web: Web) -> None:
    """The page's statements on people read the indexes of migration 0017 (or the
    primary key), never the whole table: each is explained with its own parameters
    (PostgreSQL is told not to scan: these tables are small)."""
    with web.session() as session:
        _check_plans(session)


def _check_plans(session: Session) -> None:
    Enrolment(session, FixedClock(WEB_NOW)).register_person("IX-1", "Index Person")
    session.flush()
    connection = session.connection()
    statements: list[tuple[str, object]] = []

    def record(_c: object, _k: object, statement: str, parameters: object, *_: object) -> None:
        if "FROM people" in statement and not statement.startswith("EXPLAIN"):
            statements.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", record)
    try:
        first = people_page(session, search="index p")
        people_page(session, search="ix-1", after=first.rows[0].person_id, size=1)
        people_page(session, before=first.rows[0].person_id)
        people_page(session, after=first.rows[0].person_id)
    finally:
        event.remove(connection, "before_cursor_execute", record)
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:
        connection.execute(text("SET LOCAL enable_seqscan = off"))
    used = set()
    for statement, parameters in statements:
        explain = "EXPLAIN " if postgresql else "EXPLAIN QUERY PLAN "
        plan = " ".join(
            str(r[-1]) for r in connection.exec_driver_sql(explain + statement, parameters)
        )
        assert "Seq Scan on people" not in plan, plan
        assert not re.search(r"SCAN people(?! USING)", plan), plan
        used |= set(re.findall(r"ix_people_\w+_key|pk_people|PRIMARY KEY", plan))
    assert {"ix_people_name_key", "ix_people_reference_key"} <= used, used
    session.rollback()

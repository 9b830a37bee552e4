"""How many statements the benchmarked pages send (``make bench``, benchmarks/portal_pages.py):
each is a round trip to the database, and on a busy machine the round trips, not the
queries, are most of a page's time. A page that starts reading row by row fails here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from tests.portal import portal_support as support
from tests.portal.portal_support import Web, page_text, signed_in

web_module = support.web_module
web = support.web

VIVIAN = "vivian.shaw@example.org"  # her budget has a companion pot
OFFICER = "officer@example.org"


@contextmanager
def selects(web: Web) -> Iterator[list[str]]:
    seen: list[str] = []
    bind = web.sessions.kw["bind"]

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(bind, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(bind, "before_cursor_execute", note)


def test_the_card_page_reads_the_user_card_plan_and_pots_once_each(web: Web) -> None:
    client = signed_in(web, VIVIAN)
    path = f"/cards/{web.world.cards['4307']}"
    with selects(web) as seen:
        text = page_text(client.get(path))
    assert "Available to spend" in text and "John's companion pot John Shaw £84.00" in text
    # The user; the card with its balances; the plan; the pots and their cards.
    assert len(seen) == 5, "\n\n".join(seen)


def test_the_flag_queue_reads_a_page_in_four_statements(web: Web) -> None:
    client = signed_in(web, OFFICER)
    with selects(web) as seen:
        response = client.get("/officer/flags?sort=severity")
    assert response.status_code == 200
    # The user; the officers to assign to; how many flags match; the page.
    assert len(seen) == 4, "\n\n".join(seen)

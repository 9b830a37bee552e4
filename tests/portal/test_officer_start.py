"""The minimal officer start page and person record, and the log of record views; the
admin's list of sign-in accounts."""

from __future__ import annotations

from sqlalchemy import select

from portal.models import RecordView
from tests.portal import portal_support as support
from tests.portal.portal_support import WEB_NOW, Web, page_text, parse_page, signed_in, text_of

web_module = support.web_module
web = support.web


def test_the_officer_start_page_lists_people_with_links_to_their_records(web: Web) -> None:
    client = signed_in(web, "officer@example.org")
    document = parse_page(client.get("/officer/"))
    links = {text_of(a): a.get("href") for a in document.iterfind(".//tbody//a")}
    assert links["Margaret Hughes"] == f"/officer/people/{web.world.people['DEMO-0003']}"
    assert len(links) == 8
    with web.session() as session:
        assert session.execute(select(RecordView)).first() is None  # a list is not a record


def test_every_view_of_a_persons_record_is_logged(web: Web) -> None:
    client = signed_in(web, "senior.officer@example.org")
    margaret = web.world.people["DEMO-0003"]
    text = page_text(client.get(f"/officer/people/{margaret}"))
    assert "Margaret Hughes" in text and "£797.50" in text
    web.clock.advance(minutes=5)
    client.get(f"/officer/people/{margaret}")
    with web.session() as session:
        views = session.execute(select(RecordView).order_by(RecordView.id)).scalars().all()
    assert [(v.viewer_id, v.person_id, v.page) for v in views] == [
        (web.world.users["senior.officer@example.org"], margaret, f"/officer/people/{margaret}")
    ] * 2
    assert [v.viewed_at for v in views] == [WEB_NOW, WEB_NOW.replace(minute=5)]


def test_no_view_is_logged_for_a_person_who_does_not_exist(web: Web) -> None:
    client = signed_in(web, "officer@example.org")
    assert client.get("/officer/people/999999").status_code == 404
    with web.session() as session:
        assert session.execute(select(RecordView)).first() is None


def test_a_holder_cannot_open_records_and_nothing_is_logged(web: Web) -> None:
    client = signed_in(web, "margaret.hughes@example.org")
    assert client.get(f"/officer/people/{web.world.people['DEMO-0001']}").status_code == 403
    with web.session() as session:
        assert session.execute(select(RecordView)).first() is None


def test_the_admin_sees_sign_in_accounts_but_no_records(web: Web) -> None:
    client = signed_in(web, "admin@example.org")
    text = page_text(client.get("/admin/users"))
    assert "margaret.hughes@example.org Holder Active" in text
    assert "senior.officer@example.org Senior officer Active Never" in text
    assert client.get(f"/officer/people/{web.world.people['DEMO-0003']}").status_code == 403

"""Officer pages (officers and senior officers). Every view of a person's record is logged."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from portal.app import clock, db_session
from portal.auth.access import signed_in_user
from portal.officer.records import open_person_record
from portal.repositories.people import people_with_cards

officer_pages = Blueprint("officer", __name__, url_prefix="/officer")

PEOPLE_SHOWN = 200


@officer_pages.get("/")
def start() -> str:
    people = people_with_cards(db_session(), limit=PEOPLE_SHOWN)
    return render_template("officer/start.html", people=people, limit=PEOPLE_SHOWN)


@officer_pages.get("/people/<int:person_id>")
def person(person_id: int) -> str:
    record = open_person_record(db_session(), clock(), signed_in_user(), person_id, request.path)
    if record is None:
        abort(404)
    return render_template("officer/person.html", record=record)

"""Officer pages (officers and senior officers). Every view of a person's record is logged.

The blueprint is defined here; each area of the officer pages adds its routes to it from
its own module (imported at the end, so they register when this module is imported).
"""

from __future__ import annotations

from flask import Blueprint, render_template

from portal.app import db_session
from portal.repositories.people import people_with_cards

officer_pages = Blueprint("officer", __name__, url_prefix="/officer")

PEOPLE_SHOWN = 200


@officer_pages.get("/")
def start() -> str:
    people = people_with_cards(db_session(), limit=PEOPLE_SHOWN)
    return render_template("officer/start.html", people=people, limit=PEOPLE_SHOWN)


# Each module adds its routes to ``officer_pages``.
from portal.officer import approvals, cards, clawbacks, people, reviews  # noqa: E402

__all__ = ["approvals", "cards", "clawbacks", "officer_pages", "people", "reviews"]

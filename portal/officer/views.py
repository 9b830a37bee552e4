"""Officer pages (officers and senior officers). Every view of a person's record is logged.

The blueprint is defined here; each area of the officer pages adds its routes to it from
its own module (imported at the end, so they register when this module is imported).
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import StringField
from wtforms.validators import Length

from portal.app import db_session
from portal.repositories.people import people_page

officer_pages = Blueprint("officer", __name__, url_prefix="/officer")


class PeopleSearchForm(FlaskForm):  # type: ignore[misc]
    """The People page's search: a GET form (nothing changes), so no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(
        "Search by name or council reference",
        widget=GovTextInput(),
        description="The start of their name, first name first (such as Margaret Hu), or "
        "their whole council reference",
        validators=[Length(max=200, message="Search for 200 characters or fewer")],
    )


def _person_id_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 19 else None


@officer_pages.get("/")
def start() -> str | tuple[str, int]:
    form = PeopleSearchForm(formdata=request.args)
    if not form.validate():
        return render_template("officer/start.html", form=form, page=None, search=None), 400
    search = (form.q.data or "").strip() or None
    page = people_page(
        db_session(),
        search=search,
        after=_person_id_arg("after"),
        before=_person_id_arg("before"),
    )
    return render_template("officer/start.html", form=form, page=page, search=search)


# Each module adds its routes to ``officer_pages``.
from portal.officer import approvals, cards, clawbacks, people, reviews  # noqa: E402

__all__ = ["approvals", "cards", "clawbacks", "officer_pages", "people", "reviews"]

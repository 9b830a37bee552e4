"""Safeguarding records (Care Act s42 concerns): restricted and apart from finance.

Who may read them: senior officers only (``SAFEGUARDING_READERS``). Officers raise
concerns from flags but do not read the record; admins see no one's records. The
guard is attached where the blueprint is registered, and ``monitoring.safeguarding``
checks the role again. Reading needs the person's council reference and a reason, and
``records_for`` writes an audit entry for every reading (who, when, whose, why, which
records), so every view is accountable. The page is the answer to a POST: it is never
cached (Cache-Control: no-store on every page) and a reload asks again.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from monitoring.safeguarding import ROLE as SAFEGUARDING_ROLE
from monitoring.safeguarding import records_for
from portal.app import clock, db_session
from portal.auth.access import signed_in_user
from portal.models import Role, User
from portal.officer.oversight_forms import strip
from portal.repositories import people as people_repo

safeguarding_pages = Blueprint("safeguarding", __name__, url_prefix="/officer/safeguarding")

# The portal roles that hold monitoring's safeguarding role.
SAFEGUARDING_READERS = frozenset({Role.SENIOR_OFFICER})


def monitoring_roles(user: User) -> frozenset[str]:
    return frozenset({SAFEGUARDING_ROLE}) if user.role in SAFEGUARDING_READERS else frozenset()


class ReadRecordsForm(FlaskForm):  # type: ignore[misc]
    person = StringField(
        "Person's council reference",
        widget=GovTextInput(),
        filters=[strip],
        validators=[
            DataRequired("Enter the person's council reference"),
            Length(max=64, message="Enter 64 characters or fewer"),
        ],
    )
    reason = TextAreaField(
        "Why do you need to read their safeguarding records?",
        widget=GovTextArea(),
        description="This is kept in the audit log with your name and the time.",
        filters=[strip],
        validators=[
            DataRequired("Enter why you need to read their safeguarding records"),
            Length(max=2000, message="Enter 2000 characters or fewer"),
        ],
    )
    submit = SubmitField("Read safeguarding records", widget=GovSubmitInput())


@safeguarding_pages.route("/", methods=["GET", "POST"])
def read_records() -> str | tuple[str, int]:
    form = ReadRecordsForm()
    if request.method == "GET":
        form.person.data = request.args.get("person", "")[:64]
        return render_template("officer/safeguarding/read.html", form=form)
    if form.validate_on_submit():
        session = db_session()
        person = people_repo.by_reference(session, form.person.data)
        if person is None:
            form.person.errors = [f"No one has the council reference {form.person.data.strip()}"]
        else:
            user = signed_in_user()
            records = records_for(
                session,
                clock(),
                person.id,
                officer=user.email,
                roles=monitoring_roles(user),
                reason=form.reason.data,
            )
            return render_template(
                "officer/safeguarding/records.html", person=person, records=records
            )
    return render_template("officer/safeguarding/read.html", form=form), 400

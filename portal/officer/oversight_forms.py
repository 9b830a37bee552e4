"""Forms of the oversight pages: replaying a provider event (POST, with a CSRF token and
a reason), and filtering the audit log (GET: it changes nothing)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovDateInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from portal.holder.forms import OptionalDateField

REASON_MAX = 2000


def strip(value: str | None) -> str | None:
    """Surrounding spaces are not an answer: a reason of only spaces is a missing one."""
    return value.strip() if isinstance(value, str) else value


class ReplayForm(FlaskForm):  # type: ignore[misc]
    reason = TextAreaField(
        "Why are you replaying this event?",
        widget=GovTextArea(),
        description="For example, what was fixed. This is kept in the audit log.",
        filters=[strip],
        validators=[
            DataRequired("Enter why you are replaying this event"),
            Length(max=REASON_MAX, message=f"Enter {REASON_MAX} characters or fewer"),
        ],
    )
    submit = SubmitField("Replay this event", widget=GovSubmitInput())


class ChoiceField(SelectField):  # type: ignore[misc]
    """A select whose value must be one of its choices, said in plain words."""

    def pre_validate(self, form: Any) -> None:
        if self.data not in {value for value, _ in self.choices or []}:
            raise ValidationError(f"Choose {self.label.text.lower()} from the list")


class AuditFilterForm(FlaskForm):  # type: ignore[misc]
    class Meta:
        csrf = False

    actor = StringField(
        "Who",
        widget=GovTextInput(),
        description="The email address they sign in with",
        validators=[Length(max=120, message="Enter 120 characters or fewer")],
    )
    person = StringField(
        "Person's council reference",
        widget=GovTextInput(),
        validators=[Length(max=64, message="Enter 64 characters or fewer")],
    )
    action = ChoiceField("What they did", widget=GovSelect(), choices=[], default="")
    date_from = OptionalDateField(
        "From", widget=GovDateInput(), description="For example, 1 4 2026"
    )
    date_to = OptionalDateField("To", widget=GovDateInput(), description="For example, 30 4 2026")
    search = SubmitField("Show entries", widget=GovSubmitInput())

    def validate_date_to(self, field: Any) -> None:
        if self.date_from.data and field.data and field.data < self.date_from.data:
            raise ValidationError("The 'to' date must be the same as or after the 'from' date")

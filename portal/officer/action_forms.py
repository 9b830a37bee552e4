"""Forms for officers' actions on a person, a card and a clawback.

Forms alone on their page carry their own CSRF token. The clawback page shows several
small forms at once, so each has a prefix (unique field ids) and its page renders the
token itself; ``CSRFProtect`` checks every POST either way.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovDateInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from ledger.errors import InvalidAmount
from ledger.money import parse_pounds
from portal.holder.forms import OptionalDateField

REASON_MAX = 2000
T = TypeVar("T")


def choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def strip(value: Any) -> Any:
    """Text without surrounding spaces: a reason of only spaces is no reason."""
    return value.strip() if isinstance(value, str) else value


def given(value: T | None) -> T:
    """A value the form's validators have made sure of (after ``validate``)."""
    if value is None:
        raise ValueError("a validated form is missing a required value")
    return value


class PoundsField(StringField):  # type: ignore[misc]
    """An amount typed in pounds ("150", "1,250.50"), held as int pence; never a float."""

    data: int | None

    def process_formdata(self, valuelist: list[str]) -> None:
        text = valuelist[0].strip() if valuelist else ""
        self.data = None
        if not text:
            return
        try:
            self.data = parse_pounds(text)
        except InvalidAmount:
            raise ValueError(
                f"{self.label.text} must be an amount in pounds and pence, like 150.00"
            ) from None

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        if self.data is None:
            return ""
        pounds, pence = divmod(self.data, 100)
        return f"{pounds}.{pence:02d}"


def amount_required(message: str, *, allow_zero: bool = False) -> Any:
    def check(form: FlaskForm, field: PoundsField) -> None:
        if field.data is None:
            if not field.errors:
                raise ValidationError(message)
            return
        if field.data < 0 or (field.data == 0 and not allow_zero):
            raise ValidationError(
                f"{field.label.text} must be {'zero or ' if allow_zero else ''}more than £0"
            )

    return check


def date_required(message: str) -> Any:
    def check(form: FlaskForm, field: OptionalDateField) -> None:
        if field.data is None and not field.errors:
            raise ValidationError(message)

    return check


def reason_field(label: str = "Reason", hint: str | None = None) -> StringField:
    return StringField(
        label,
        widget=GovTextArea(),
        description=hint or "This is kept in the audit log with your name and the time.",
        filters=[strip],
        validators=[
            DataRequired("Enter a reason"),
            Length(max=REASON_MAX, message=f"Enter a reason of {REASON_MAX} characters or fewer"),
        ],
    )


YES_NO = [("yes", "Yes"), ("no", "No")]


# -- cards ----------------------------------------------------------------------------------


class CardStatusForm(FlaskForm):  # type: ignore[misc]
    reason = reason_field()
    submit = SubmitField("Continue", widget=GovSubmitInput())


# -- a person ---------------------------------------------------------------------------------


class ReviewRequestForm(FlaskForm):  # type: ignore[misc]
    plan = RadioField(
        "Which plan should be reviewed?",
        widget=GovRadioInput(),
        validators=[InputRequired("Select the plan to review")],
    )
    reason = reason_field("Why is a review needed?")
    due_by = OptionalDateField(
        "Review by (optional)",
        widget=GovDateInput(),
        description="Leave empty for 28 days from today. For example, 27 5 2026",
    )
    # The flag the review is asked for from, if any (its history records the request).
    flag = HiddenField(validators=[Length(max=19)])
    submit = SubmitField("Request the review", widget=GovSubmitInput())


LIFE_EVENT_KINDS = [
    ("hospital_admission", "Admitted to hospital"),
    ("hospital_discharge", "Discharged from hospital"),
    ("respite", "A stay in respite care"),
    ("death", "Died"),
]


class LifeEventForm(FlaskForm):  # type: ignore[misc]
    kind = RadioField(
        "What happened?",
        widget=GovRadioInput(),
        choices=choices(LIFE_EVENT_KINDS),
        validators=[InputRequired("Select what happened")],
    )
    on = OptionalDateField(
        "Date, or the first day of respite",
        widget=GovDateInput(),
        description="For example, 14 4 2026",
        validators=[date_required("Enter the date")],
    )
    ends_on = OptionalDateField(
        "Last day of respite (respite only)",
        widget=GovDateInput(),
        description="For example, 21 4 2026",
    )
    note = StringField(
        "How do you know?",
        widget=GovTextArea(),
        filters=[strip],
        description="For example, a call from the hospital ward on 14 April.",
        validators=[
            DataRequired("Say how you know"),
            Length(max=REASON_MAX, message=f"Enter {REASON_MAX} characters or fewer"),
        ],
    )
    submit = SubmitField("Record it", widget=GovSubmitInput())

    def validate_ends_on(self, field: OptionalDateField) -> None:
        if self.kind.data == "respite" and field.data is None and not field.errors:
            raise ValidationError("Enter the last day of respite")
        if self.kind.data != "respite" and field.data is not None:
            raise ValidationError("Only respite has a last day: leave it empty")


class EmergencyLoadForm(FlaskForm):  # type: ignore[misc]
    request_key = HiddenField(validators=[InputRequired(), Length(min=16, max=64)])
    budget = RadioField(
        "Which budget should the money go to?",
        widget=GovRadioInput(),
        validators=[InputRequired("Select the budget")],
    )
    kind = RadioField(
        "Is this urgent or interim support?",
        widget=GovRadioInput(),
        choices=choices(
            [
                ("urgent", "Urgent support (something has gone wrong today)"),
                ("interim", "Interim support (until the plan is reviewed)"),
            ]
        ),
        validators=[InputRequired("Select urgent or interim support")],
    )
    purpose = StringField(
        "What is it for?",
        widget=GovTextArea(),
        filters=[strip],
        validators=[DataRequired("Say what the money is for"), Length(max=REASON_MAX)],
    )
    amount = PoundsField(
        "The council's amount, loaded now",
        widget=GovTextInput(),
        validators=[amount_required("Enter the council's amount")],
    )
    person_amount = PoundsField(
        "The person's own contribution towards it",
        widget=GovTextInput(),
        description="Enter 0 if they contribute nothing.",
        validators=[
            amount_required("Enter the person's contribution, or 0", allow_zero=True),
        ],
    )
    duration_days = IntegerField(
        "How many days does the support last?",
        widget=GovTextInput(),
        validators=[
            InputRequired("Enter how many days the support lasts"),
            NumberRange(1, 366, "Enter a number of days from 1 to 366"),
        ],
    )
    review_how = StringField(
        "How will it be reviewed?",
        widget=GovTextArea(),
        filters=[strip],
        validators=[DataRequired("Say how it will be reviewed"), Length(max=REASON_MAX)],
    )
    review_on = OptionalDateField(
        "When will it be reviewed?",
        widget=GovDateInput(),
        description="For example, 4 5 2026",
        validators=[date_required("Enter the review date")],
    )
    outcome_aimed_at = StringField(
        "What outcome is it aiming at?",
        widget=GovTextArea(),
        filters=[strip],
        validators=[DataRequired("Say what outcome it aims at"), Length(max=REASON_MAX)],
    )
    next_steps = StringField(
        "What are the next steps?",
        widget=GovTextArea(),
        filters=[strip],
        validators=[DataRequired("Say what the next steps are"), Length(max=REASON_MAX)],
    )
    reason = reason_field("Why is an emergency load needed?")
    submit = SubmitField("Load the money now", widget=GovSubmitInput())


# -- clawbacks --------------------------------------------------------------------------------


class AdvocacyFields:
    """The advocacy question (Care Act 2014 s67), asked before a recovery decision."""

    substantial_difficulty = RadioField(
        "Would the person have substantial difficulty being involved in this decision?",
        widget=GovRadioInput(),
        choices=choices(YES_NO),
        validators=[InputRequired("Say whether the person would have substantial difficulty")],
    )
    appropriate_person = RadioField(
        "Is there an appropriate person (not paid to care) who can support them?",
        widget=GovRadioInput(),
        choices=choices(YES_NO),
        validators=[InputRequired("Say whether there is an appropriate person")],
    )
    advocacy_note = StringField(
        "How did you decide?",
        widget=GovTextArea(),
        filters=[strip],
        description="For example, who you spoke to.",
        validators=[
            DataRequired("Say how you decided about advocacy"),
            Length(max=REASON_MAX, message=f"Enter {REASON_MAX} characters or fewer"),
        ],
    )


class ProposeClawbackForm(FlaskForm, AdvocacyFields):  # type: ignore[misc]
    amount = PoundsField(
        "Amount to recover",
        widget=GovTextInput(),
        validators=[amount_required("Enter the amount to recover")],
    )
    reason = reason_field("Why recover this money?")
    submit = SubmitField("Propose the clawback", widget=GovSubmitInput())


class _OnClawbackPage(FlaskForm):  # type: ignore[misc]
    class Meta:
        csrf = False  # the page renders the token; CSRFProtect checks it


class EditDownForm(_OnClawbackPage):
    amount = PoundsField(
        "New amount", widget=GovTextInput(), validators=[amount_required("Enter the new amount")]
    )
    reason = reason_field()
    submit = SubmitField("Change the amount", widget=GovSubmitInput())


class AdvocacyForm(_OnClawbackPage, AdvocacyFields):
    submit = SubmitField("Record the answer", widget=GovSubmitInput())


class AppointAdvocateForm(_OnClawbackPage):
    advocate_name = StringField(
        "Advocate's name",
        widget=GovTextInput(),
        filters=[strip],
        validators=[DataRequired("Enter the advocate's name"), Length(max=200)],
    )
    reason = reason_field()
    submit = SubmitField("Record the advocate", widget=GovSubmitInput())


class ApproveForm(_OnClawbackPage):
    urgent = BooleanField(
        "Urgent: approve without waiting for an independent advocate",
        widget=GovCheckboxInput(),
    )
    reason = reason_field()
    submit = SubmitField("Approve and tell the holder", widget=GovSubmitInput())


class HolderResponseForm(_OnClawbackPage):
    response = StringField(
        "What did the holder say?",
        widget=GovTextArea(),
        filters=[strip],
        validators=[
            DataRequired("Enter what the holder said"),
            Length(max=REASON_MAX, message=f"Enter {REASON_MAX} characters or fewer"),
        ],
    )
    submit = SubmitField("Record the response", widget=GovSubmitInput())


class NoticeSentForm(_OnClawbackPage):
    """The holder's notice went by letter: the response window counts from that day."""

    error_fields = {"invalid_record": "sent_on"}

    sent_on = OptionalDateField(
        "When was the letter sent?",
        widget=GovDateInput(),
        description="For example, 20 4 2026",
        validators=[date_required("Enter the date the letter was sent")],
    )
    reason = reason_field("How was it sent?", hint="For example, first class post to her home.")
    submit = SubmitField("Record the letter", widget=GovSubmitInput())


class ReasonOnlyForm(_OnClawbackPage):
    reason = reason_field()
    submit = SubmitField("Continue", widget=GovSubmitInput())


# -- a review's decision ----------------------------------------------------------------------
# The review's page shows the advocacy forms above (AdvocacyForm, AppointAdvocateForm) and
# this one, each with its prefix, as the clawback page does.


class DecideReviewForm(_OnClawbackPage):
    outcome = StringField(
        "What was decided?",
        widget=GovTextArea(),
        filters=[strip],
        description="The outcome of the review, in words the person would understand. For "
        "example: the plan stays as it is; or, two more hours of homecare a week from 1 May.",
        validators=[
            DataRequired("Enter what was decided"),
            Length(max=REASON_MAX, message=f"Enter {REASON_MAX} characters or fewer"),
        ],
    )
    urgent = BooleanField(
        "Urgent: decide now without waiting for an independent advocate",
        widget=GovCheckboxInput(),
    )
    reason = reason_field("Why was this decided?")
    submit = SubmitField("Record the decision", widget=GovSubmitInput())

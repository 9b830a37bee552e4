"""Forms of the flag queue and a flag's page.

The queue's filters are a GET form (they change nothing, so no CSRF token). Every POST
form carries the CSRF token, checked for every POST by ``CSRFProtect`` before any view
runs. A flag's page holds several forms at once, so each has its own prefix (its field
ids are unique on the page) and the token is written without an id.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
)
from wtforms import (
    BooleanField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import InputRequired, Length, ValidationError

from monitoring.models import DismissReason
from portal.holder.forms import OptionalDateField
from portal.officer.flag_words import DISMISS_REASON_LABELS, SEVERITY_LABELS, STATUS_LABELS
from portal.repositories.flag_queue import ACTIVE, QueueSort

REASON_LENGTH = 2000
SNOOZE_REASON_LENGTH = 500  # flags.snooze_reason
NOTE_LENGTH = 5000
LONGEST_SNOOZE_DAYS = 365
BULK_LIMIT = 50  # one page of the queue

SORT_LABELS = {
    QueueSort.SLA: "Time to act (soonest first)",
    QueueSort.SEVERITY: "Severity (most severe first)",
    QueueSort.NEWEST: "Raised (newest first)",
    QueueSort.OLDEST: "Raised (oldest first)",
}
# Age filter: value -> (label, raised at least this many days ago, at most this many)
AGES: dict[str, tuple[str, int | None, int | None]] = {
    "1": ("Raised in the last 24 hours", None, 1),
    "7": ("Raised in the last 7 days", None, 7),
    "over-7": ("Raised more than 7 days ago", 7, None),
    "over-28": ("Raised more than 28 days ago", 28, None),
}
ME, NO_ONE = "me", "none"


def _options(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def _values(field: Any) -> set[str]:
    return {choice.value for choice in field.choices}


def _reason(label: str, message: str, length: int = REASON_LENGTH, hint: str = "") -> Any:
    return StringField(
        label,
        widget=GovTextArea(),
        description=hint,
        validators=[
            InputRequired(message),
            Length(max=length, message=f"{label} must be {length:,} characters or fewer"),
        ],
    )


class QueueFilterForm(FlaskForm):  # type: ignore[misc]
    class Meta:
        csrf = False

    severity = SelectMultipleField(
        "Severity",
        choices=_options((s.value, label) for s, label in SEVERITY_LABELS.items()),
        widget=GovCheckboxesInput(),
    )
    status = SelectField(
        "Status",
        choices=_options(
            [(ACTIVE, "Open or in review"), *((s.value, x) for s, x in STATUS_LABELS.items())]
        ),
        default=ACTIVE,
        widget=GovSelect(),
    )
    monitor = SelectField("Monitor", choices=[], default="", widget=GovSelect())
    assignee = SelectField(
        "Assigned to",
        choices=[],
        default="",
        widget=GovSelect(),
    )
    age = SelectField(
        "Age",
        choices=_options([("", "Any age"), *((k, v[0]) for k, v in AGES.items())]),
        default="",
        widget=GovSelect(),
    )
    snoozed = BooleanField("Include snoozed flags", widget=GovCheckboxInput())
    sort = SelectField(
        "Sort by",
        choices=_options((s.value, label) for s, label in SORT_LABELS.items()),
        default=QueueSort.SLA.value,
        widget=GovSelect(),
    )

    def set_choices(self, monitors: list[tuple[str, str]], officers: list[str]) -> None:
        self.monitor.choices = _options([("", "Any monitor"), *monitors])
        self.assignee.choices = _options(
            [("", "Anyone"), (ME, "Me"), (NO_ONE, "No one"), *((e, e) for e in officers)]
        )


class BulkActionForm(FlaskForm):  # type: ignore[misc]
    """Assign, or dismiss, the flags ticked on a page of the queue, with one reason."""

    class Meta:
        csrf = False  # CSRFProtect checks the token

    flag = SelectMultipleField("Flags", coerce=int, validate_choice=False)
    assign_to = SelectField("Assign to", choices=[], widget=GovSelect(), validate_choice=False)
    assign_reason = StringField("Reason for assigning", widget=GovTextArea())
    assign = SubmitField("Assign selected flags", widget=GovSubmitInput())
    dismiss_reason = RadioField(
        "Why are they not a concern?",
        choices=_options((r.value, label) for r, label in DISMISS_REASON_LABELS.items()),
        widget=GovRadioInput(),
        validate_choice=False,
    )
    dismiss_detail = StringField("Details", widget=GovTextArea())
    dismiss = SubmitField("Dismiss selected flags", widget=GovSubmitInput())

    def set_choices(self, officers: list[str]) -> None:
        self.assign_to.choices = _options([("", "Choose an officer"), *((e, e) for e in officers)])

    def validate(self, extra_validators: Any = None) -> bool:
        super().validate(extra_validators)
        errors: dict[Any, str] = {}
        if not self.flag.data:
            errors[self.flag] = "Select the flags to change"
        elif len(self.flag.data) > BULK_LIMIT:
            errors[self.flag] = f"Select {BULK_LIMIT} flags or fewer"
        if self.assign.data:
            if not self.assign_to.data or self.assign_to.data not in _values(self.assign_to):
                errors[self.assign_to] = "Choose the officer to assign the flags to"
            _require(errors, self.assign_reason, "Enter a reason for assigning the flags")
        elif self.dismiss.data:
            if self.dismiss_reason.data not in {r.value for r in DismissReason}:
                errors[self.dismiss_reason] = "Choose why the flags are not a concern"
            _require(errors, self.dismiss_detail, "Enter details of why they are not a concern")
        else:
            errors[self.flag] = "Choose to assign or to dismiss the selected flags"
        for field, message in errors.items():
            field.errors = [message]
        return not errors


def _require(errors: dict[Any, str], field: Any, message: str) -> None:
    text = (field.data or "").strip()
    if not text:
        errors[field] = message
    elif len(text) > REASON_LENGTH:
        errors[field] = f"{field.label.text} must be {REASON_LENGTH:,} characters or fewer"


class _TriageForm(FlaskForm):  # type: ignore[misc]
    class Meta:
        csrf = False  # CSRFProtect checks the token; several forms share one page

    def validate(self, extra_validators: Any = None) -> bool:
        valid: bool = super().validate(extra_validators)
        for field in self:
            if isinstance(field.data, str) and field.data and not field.data.strip():
                required = next((v for v in field.validators if isinstance(v, InputRequired)), None)
                if required is not None:
                    field.errors = [required.message]
                    valid = False
        return valid


class AssignForm(_TriageForm):
    assignee = SelectField("Assign to", choices=[], widget=GovSelect(), validate_choice=False)
    reason = _reason("Reason", "Enter a reason for assigning the flag")

    def set_choices(self, me: str, officers: list[str]) -> None:
        self.assignee.choices = _options(
            [(me, f"Me ({me})"), *((e, e) for e in officers if e != me)]
        )

    def validate_assignee(self, field: Any) -> None:
        if field.data not in _values(field):
            raise ValidationError("Choose the officer to assign the flag to")


class StartReviewForm(_TriageForm):
    reason = _reason("Reason", "Enter a reason for starting the review")


class SnoozeForm(_TriageForm):
    until = OptionalDateField(
        "Snooze until", widget=GovDateInput(), description="For example, 27 5 2026"
    )
    reason = _reason("Reason", "Enter a reason for snoozing the flag", length=SNOOZE_REASON_LENGTH)

    def check_date(self, today: date) -> bool:
        """The date must be after today and within a year."""
        if self.until.errors:
            return False
        if self.until.data is None:
            self.until.errors = ["Enter the date the snooze ends"]
        elif self.until.data <= today:
            self.until.errors = ["The date the snooze ends must be in the future"]
        elif self.until.data > today + timedelta(days=LONGEST_SNOOZE_DAYS):
            self.until.errors = [f"Snooze a flag for at most {LONGEST_SNOOZE_DAYS} days"]
        return not self.until.errors


class UnsnoozeForm(_TriageForm):
    reason = _reason("Reason", "Enter a reason for ending the snooze")


class NoteForm(_TriageForm):
    text = _reason("Note", "Enter the note", length=NOTE_LENGTH)


class DismissForm(_TriageForm):
    reason = RadioField(
        "Why is it not a concern?",
        choices=_options((r.value, label) for r, label in DISMISS_REASON_LABELS.items()),
        widget=GovRadioInput(),
        validate_choice=False,
    )
    detail = _reason("Details", "Enter details of why the flag is not a concern")

    def validate_reason(self, field: Any) -> None:
        if field.data not in {r.value for r in DismissReason}:
            raise ValidationError("Choose why the flag is not a concern")


class ActionedForm(_TriageForm):
    reason = _reason("What was done", "Enter what was done about the flag")


class EscalateForm(_TriageForm):
    concern = _reason(
        "The concern",
        "Enter the safeguarding concern",
        length=NOTE_LENGTH,
        hint="This goes only into the restricted safeguarding record.",
    )
    reason = _reason(
        "Reason for escalating",
        "Enter a reason for escalating the flag",
        hint="Shown in this flag's history and the audit log.",
    )

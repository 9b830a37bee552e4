"""The payments search form (GET: it changes nothing, so it has no CSRF token)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovSubmitInput, GovTextInput
from wtforms import DateField, StringField, SubmitField
from wtforms.validators import Length, ValidationError


class OptionalDateField(DateField):  # type: ignore[misc]
    """A GOV.UK date (day, month, year boxes) that may be left empty, but not half-filled."""

    raw_data: list[str] | None

    def process(self, formdata: Any, *args: Any, **kwargs: Any) -> None:
        super().process(formdata, *args, **kwargs)
        # GovDateInput redisplays raw_data as exactly (day, month, year), or nothing.
        if not self.raw_data or len(self.raw_data) != 3:
            self.raw_data = None

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not any(part.strip() for part in valuelist):
            self.data = None
            return
        if len(valuelist) != 3 or not all(part.strip() for part in valuelist):
            self.data = None
            raise ValueError(f"{self.label.text} must include a day, month and year")
        try:
            day, month, year = (int(part) for part in valuelist)
            if not 1900 <= year <= 2200:
                raise ValueError(year)
            self.data = date(year, month, day)
        except ValueError:
            self.data = None
            raise ValueError(f"{self.label.text} must be a real date") from None


class PaymentSearchForm(FlaskForm):  # type: ignore[misc]
    class Meta:
        csrf = False

    text = StringField(
        "Payee, shop or reference",
        widget=GovTextInput(),
        validators=[Length(max=100, message="Search for 100 characters or fewer")],
    )
    date_from = OptionalDateField(
        "From", widget=GovDateInput(), description="For example, 27 3 2026"
    )
    date_to = OptionalDateField("To", widget=GovDateInput(), description="For example, 30 4 2026")
    search = SubmitField("Search payments", widget=GovSubmitInput())

    def validate_date_to(self, field: Any) -> None:
        if self.date_from.data and field.data and field.data < self.date_from.data:
            raise ValidationError("The 'to' date must be the same as or after the 'from' date")

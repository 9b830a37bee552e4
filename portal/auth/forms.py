"""Sign-in, sign-out and password reset forms. Each POST form carries a CSRF token."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import EqualTo, InputRequired, Length, ValidationError

from ledger.errors import DomainError
from portal.auth import passwords


class SignInForm(FlaskForm):  # type: ignore[misc]
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            InputRequired("Enter your email address"),
            Length(max=254, message="Enter an email address of 254 characters or fewer"),
        ],
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[
            InputRequired("Enter your password"),
            Length(max=passwords.MAX_LENGTH, message="Enter your password"),
        ],
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class SignOutForm(FlaskForm):  # type: ignore[misc]
    """Signing out is a POST with a token, so another site cannot sign someone out."""


class ForgotPasswordForm(FlaskForm):  # type: ignore[misc]
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            InputRequired("Enter your email address"),
            Length(max=254, message="Enter an email address of 254 characters or fewer"),
        ],
    )
    submit = SubmitField("Send me a link", widget=GovSubmitInput())


class ResetPasswordForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField(
        "New password",
        widget=GovPasswordInput(),
        description=f"At least {passwords.MIN_LENGTH} characters. A few words together "
        "make a good password.",
        validators=[InputRequired("Enter a new password")],
    )
    confirm = PasswordField(
        "Confirm new password",
        widget=GovPasswordInput(),
        validators=[
            InputRequired("Enter the new password again"),
            EqualTo("password", message="The passwords do not match"),
        ],
    )
    submit = SubmitField("Change password", widget=GovSubmitInput())

    def validate_password(self, field: Any) -> None:
        try:
            passwords.check_new_password(field.data or "")
        except DomainError as error:
            raise ValidationError(error.detail) from None

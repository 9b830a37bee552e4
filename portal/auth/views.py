"""Sign in, sign out, and reset a forgotten password. Open to everyone."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from portal.app import clock, db_session, password_hasher
from portal.auth.access import end_session, safe_next, start_session
from portal.auth.forms import ForgotPasswordForm, ResetPasswordForm, SignInForm, SignOutForm
from portal.auth.service import Refusal, SignIn, SignInPolicy
from portal.formatting import london_datetime

auth_pages = Blueprint("auth", __name__)


def _sign_in_service() -> SignIn:
    config = current_app.config
    policy = SignInPolicy(
        max_failures=config["SIGN_IN_MAX_FAILURES"],
        lockout=config["SIGN_IN_LOCKOUT"],
        max_failures_per_address=config["SIGN_IN_MAX_FAILURES_PER_ADDRESS"],
        reset_valid_for=config["PASSWORD_RESET_VALID_FOR"],
    )
    return SignIn(db_session(), clock(), password_hasher(), policy)


@auth_pages.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> str | Response | tuple[str, int]:
    form = SignInForm()
    if form.validate_on_submit():
        result = _sign_in_service().sign_in(
            form.email.data, form.password.data, request.remote_addr or "unknown"
        )
        if result.user is not None:
            start_session(result.user)
            return redirect(safe_next(request.args.get("next")) or url_for("home.start"))
        if result.refusal is Refusal.WRONG_EMAIL_OR_PASSWORD:
            form.email.errors.append("Enter a correct email address and password")
            form.password.errors.append("Enter a correct email address and password")
        elif result.refusal is Refusal.LOCKED_OUT:
            until = london_datetime(result.locked_until)
            form.email.errors.append(
                f"There were too many failed attempts to sign in with this email address. "
                f"Try again after {until}, or reset your password."
            )
        else:
            minutes = int(current_app.config["SIGN_IN_LOCKOUT"].total_seconds() // 60)
            form.email.errors.append(
                "There were too many failed attempts to sign in from your network. "
                f"Wait {minutes} minutes, then try again."
            )
        return render_template("auth/sign_in.html", form=form), 400
    status = 400 if form.errors else 200
    return render_template("auth/sign_in.html", form=form), status


@auth_pages.post("/sign-out")
def sign_out() -> Response:
    form = SignOutForm()
    form.validate_on_submit()  # CSRFProtect has already refused a request without a token
    end_session()
    flash("You have signed out.")
    return redirect(url_for("auth.sign_in"))


@auth_pages.route("/forgot-password", methods=["GET", "POST"])
def forgot_password() -> str | Response | tuple[str, int]:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        _sign_in_service().request_password_reset(
            form.email.data,
            lambda token: url_for("auth.reset_password", token=token, _external=True),
            current_app.config["SERVICE_NAME"],
        )
        return render_template("auth/reset_link_sent.html", email=form.email.data.strip())
    status = 400 if form.errors else 200
    return render_template("auth/forgot_password.html", form=form), status


@auth_pages.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> str | Response | tuple[str, int]:
    service = _sign_in_service()
    if service.valid_reset_token(token) is None:
        return render_template("auth/reset_link_invalid.html"), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        service.reset_password(token, form.password.data)
        end_session()
        flash("Your password has been changed. Sign in with your new password.")
        return redirect(url_for("auth.sign_in"))
    status = 400 if form.errors else 200
    return render_template("auth/reset_password.html", form=form), status

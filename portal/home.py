"""The front door: each kind of user starts somewhere different."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from werkzeug.wrappers import Response

from portal.auth.access import current_user
from portal.models import OFFICER_ROLES, Role

home_pages = Blueprint("home", __name__)


@home_pages.get("/")
def start() -> Response:
    user = current_user()
    if user is None:
        return redirect(url_for("auth.sign_in"))
    if user.role is Role.HOLDER:
        return redirect(url_for("holder.my_cards"))
    if user.role in OFFICER_ROLES:
        return redirect(url_for("officer.start"))
    return redirect(url_for("admin.users"))

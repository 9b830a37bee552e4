"""The admin's list of sign-in accounts (created with ``dpledger users create``)."""

from __future__ import annotations

from flask import Blueprint, render_template

from portal.app import db_session
from portal.repositories.users import all_users

admin_pages = Blueprint("admin", __name__, url_prefix="/admin")


@admin_pages.get("/users")
def users() -> str:
    return render_template("admin/users.html", users=all_users(db_session()))

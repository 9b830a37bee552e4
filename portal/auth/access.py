"""Who is signed in, and the guards attached where each blueprint is registered.

A session cookie holds the user's id and their ``session_epoch``: a password reset bumps
the epoch, which signs out every other session of that user. Guards:

- a signed-out visitor is sent to the sign-in page, and back afterwards;
- a signed-in user without one of the blueprint's roles gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import abort, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from portal.app import db_session
from portal.models import Role, User
from portal.repositories import users as users_repo


def load_signed_in_user() -> None:
    """Before every request: find the signed-in user, or forget a stale session."""
    g.user = None
    if request.endpoint == "static":
        return
    user_id = session.get("user_id")
    if user_id is None:
        return
    user = users_repo.get(db_session(), int(user_id))
    if user is None or not user.active or user.session_epoch != session.get("epoch"):
        session.clear()
        return
    g.user = user


def current_user() -> User | None:
    user: User | None = g.get("user")
    return user


def signed_in_user() -> User:
    """The user of a page behind a guard."""
    user = current_user()
    if user is None:
        abort(401)
    return user


def start_session(user: User) -> None:
    session.clear()
    session.permanent = True
    session["user_id"] = user.id
    session["epoch"] = user.session_epoch


def end_session() -> None:
    session.clear()


def require_roles(*roles: Role) -> Callable[[], Response | None]:
    """A ``before_request`` guard for a blueprint whose pages need one of ``roles``."""
    allowed = frozenset(roles)

    def guard() -> Response | None:
        user = current_user()
        if user is None:
            return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
        if user.role not in allowed:
            abort(403)
        return None

    return guard


def safe_next(target: str | None) -> str | None:
    """A path on this site to go back to after signing in; anything else is dropped."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    # Browsers drop tabs and newlines from URLs, which would turn "/\t/evil" into "//evil".
    if any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target

"""The Flask application factory.

One transaction per request: the first ``db_session()`` of a request opens it, and the
request's teardown commits it (or rolls it back on an error). Each area of the site is a
blueprint, and the guard that decides who may use it is attached where it is registered.
"""

from __future__ import annotations

from collections.abc import Callable

from argon2 import PasswordHasher
from flask import Blueprint, Flask, current_app, g
from flask_wtf import CSRFProtect
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from ledger.clock import Clock, SystemClock
from ledger.db import make_engine, make_session_factory
from ledger.money import format_pence
from portal.config import Config, config_from_env
from portal.formatting import london_date, london_datetime


def create_app(
    config: Config | None = None,
    *,
    sessions: sessionmaker[Session] | None = None,
    clock: Clock | None = None,
) -> Flask:
    """The web app. ``sessions`` and ``clock`` are for tests (the test's connection, a
    clock they can move); by default the app opens ``DATABASE_URL`` and reads the time."""
    config = config or config_from_env()
    app = Flask(__name__)
    app.config.from_object(config)
    if config.PROXY_HOPS:
        hops = config.PROXY_HOPS
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    if sessions is None:
        engine = make_engine(config.DATABASE_URL)
        app.extensions["dpledger.engine"] = engine
        sessions = make_session_factory(engine)
    app.extensions["dpledger.sessions"] = sessions
    app.extensions["dpledger.clock"] = clock or SystemClock()

    from portal.providers import init_card_provider

    # Officer actions tell the card provider through the adapters (portal/providers.py).
    init_card_provider(app, app.extensions["dpledger.clock"])

    from portal.auth import passwords

    app.extensions["dpledger.password_hasher"] = passwords.hasher(config.ARGON2_PROFILE)
    _configure_templates(app)
    CSRFProtect(app)

    @app.teardown_request
    def _end_unit_of_work(error: BaseException | None) -> None:
        # One transaction per request: commit once here, or roll back on error.
        session: Session | None = g.pop("db_session", None)
        if session is None:
            return
        try:
            if error is None and not g.pop("db_rollback", False):
                session.commit()
            else:
                session.rollback()
        finally:
            session.close()

    from portal.auth.access import load_signed_in_user, require_roles
    from portal.errors import register_error_pages
    from portal.ops import init_ops
    from portal.security import add_security_headers

    # First: logging, and the request id every later hook's log lines carry.
    init_ops(app)
    app.before_request(load_signed_in_user)
    app.after_request(add_security_headers)
    register_error_pages(app)

    from portal.admin.views import admin_pages
    from portal.auth.views import auth_pages
    from portal.holder.views import holder_pages
    from portal.home import home_pages
    from portal.models import Role
    from portal.officer.flags import flag_pages
    from portal.officer.views import officer_pages

    _register(app, home_pages)
    _register(app, auth_pages)
    _register(app, holder_pages, require_roles(Role.HOLDER))
    _register(app, officer_pages, require_roles(Role.OFFICER, Role.SENIOR_OFFICER))
    _register(app, flag_pages, require_roles(Role.OFFICER, Role.SENIOR_OFFICER))
    _register(app, admin_pages, require_roles(Role.ADMIN))

    from portal.holder.notices import notice_pages
    from portal.officer.oversight import oversight_pages
    from portal.officer.reports import reports_pages
    from portal.officer.safeguarding import SAFEGUARDING_READERS, safeguarding_pages

    _register(app, notice_pages, require_roles(Role.HOLDER))
    _register(app, oversight_pages, require_roles(Role.OFFICER, Role.SENIOR_OFFICER))
    _register(app, reports_pages, require_roles(Role.OFFICER, Role.SENIOR_OFFICER))
    _register(app, safeguarding_pages, require_roles(*SAFEGUARDING_READERS))

    from portal.api import init_api

    # The JSON API: its blueprints, their guards, CSRF exemption and problem JSON.
    init_api(app)
    return app


def _register(
    app: Flask, blueprint: Blueprint, guard: Callable[[], Response | None] | None = None
) -> None:
    """Register a blueprint with the guard every one of its pages passes first.

    The guard is attached to this app's registration of the blueprint (what
    ``blueprint.before_request`` does, but per app, so tests can build several apps).
    """
    app.register_blueprint(blueprint)
    if guard is not None:
        app.before_request_funcs.setdefault(blueprint.name, []).append(guard)


def _configure_templates(app: Flask) -> None:
    app.jinja_loader = ChoiceLoader(
        [
            PackageLoader("portal"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    WTFormsHelpers(app)
    app.jinja_env.filters["money"] = format_pence
    app.jinja_env.filters["london_date"] = london_date
    app.jinja_env.filters["london_datetime"] = london_datetime

    @app.context_processor
    def _layout() -> dict[str, object]:
        from portal.auth.access import current_user
        from portal.auth.forms import SignOutForm

        user = current_user()
        return {
            "council_name": current_app.config["COUNCIL_NAME"],
            "service_name": current_app.config["SERVICE_NAME"],
            "user": user,
            "sign_out_form": SignOutForm() if user is not None else None,
        }


def db_session() -> Session:
    """The request's session; the request's teardown commits it."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["dpledger.sessions"]()
    session: Session = g.db_session
    return session


def roll_back_request() -> None:
    """Make the request change nothing: its teardown rolls back instead of committing.
    For error pages, where the error was handled and so never reaches the teardown."""
    g.db_rollback = True
    if "db_session" in g:
        g.db_session.rollback()


def clock() -> Clock:
    found: Clock = current_app.extensions["dpledger.clock"]
    return found


def password_hasher() -> PasswordHasher:
    found: PasswordHasher = current_app.extensions["dpledger.password_hasher"]
    return found

"""The Flask application factory."""

from __future__ import annotations

from flask import Flask, g
from sqlalchemy.orm import Session

from ledger.db import make_engine, make_session_factory
from ledger.money import format_pence
from portal.config import Config, config_from_env


def create_app(config: Config | None = None) -> Flask:
    config = config or config_from_env()
    app = Flask(__name__)
    app.config.from_object(config)
    engine = make_engine(config.DATABASE_URL)
    app.extensions["dpledger.sessions"] = make_session_factory(engine)
    app.extensions["dpledger.engine"] = engine
    app.jinja_env.filters["money"] = format_pence

    @app.teardown_request
    def _end_unit_of_work(error: BaseException | None) -> None:
        # One transaction per request: commit once here, or roll back on error.
        session: Session | None = g.pop("db_session", None)
        if session is None:
            return
        try:
            if error is None:
                session.commit()
            else:
                session.rollback()
        finally:
            session.close()

    from portal.views import pages

    app.register_blueprint(pages)
    return app


def db_session() -> Session:
    """The request's session; the request's teardown commits it."""
    if "db_session" not in g:
        from flask import current_app

        g.db_session = current_app.extensions["dpledger.sessions"]()
    session: Session = g.db_session
    return session

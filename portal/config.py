"""Configuration per environment. ``DPLEDGER_ENV`` picks one; ``DATABASE_URL`` picks the
database (default: a SQLite file in ``instance/``)."""

from __future__ import annotations

import os
from datetime import timedelta

from ledger import settings as ledger_settings
from ledger.db import database_url


class ConfigError(RuntimeError):
    """The configuration is not safe to start with."""


class Config:
    ENV_NAME = "base"
    SECRET_KEY = "dev-only-not-secret"  # noqa: S105  (overridden in production)
    DATABASE_URL = ""
    COUNCIL_NAME = os.environ.get("DPLEDGER_COUNCIL_NAME", "Anytown Borough Council")
    SERVICE_NAME = os.environ.get("DPLEDGER_SERVICE_NAME", "Direct payment card")
    SESSION_COOKIE_NAME = "dpledger_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    # A signed-in session ends after this long without a request.
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=60)
    # How many proxies in front of the app set X-Forwarded-For/-Proto/-Host: trusted for the
    # client's address (sign-in limits) and scheme (HSTS, secure cookies). 0 = none.
    PROXY_HOPS = int(os.environ.get("DPLEDGER_PROXY_HOPS", "0") or 0)
    # Send Strict-Transport-Security even when the request did not arrive over HTTPS
    # (behind a proxy that terminates TLS). Over HTTPS it is always sent.
    HSTS_ALWAYS = os.environ.get("DPLEDGER_HTTPS", "") == "1"
    # Sign-in: a lock-out after repeated failures for one email address, and a rate limit
    # per source address; both counted in the database, so they hold across web workers.
    SIGN_IN_MAX_FAILURES = 5
    SIGN_IN_LOCKOUT = timedelta(minutes=15)
    SIGN_IN_MAX_FAILURES_PER_ADDRESS = 50
    PASSWORD_RESET_VALID_FOR = timedelta(hours=1)
    # argon2 cost: "default" is argon2-cffi's RFC 9106 low-memory profile; "cheapest" is
    # for tests only.
    ARGON2_PROFILE = "default"

    # Logs: "json" (one object per line) or "text"; unset means json in production.
    LOG_FORMAT = ""
    LOG_LEVEL = "INFO"
    # Bearer token for /metrics; unset leaves it open, except in production (closed).
    METRICS_TOKEN = ""
    # The JSON API's JWT audience: machine clients' tokens must carry it as ``aud``.
    API_AUDIENCE = os.environ.get("DPLEDGER_API_AUDIENCE", "dpledger-api")

    def __init__(self) -> None:
        self.DATABASE_URL = database_url()
        self.LOG_FORMAT = os.environ.get("LOG_FORMAT", "")
        self.LOG_LEVEL = os.environ.get("LOG_LEVEL", "") or "INFO"
        self.METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
        # The ledger's settings (DPLEDGER_HOLD_OVER_POST_TOLERANCE_PERCENT): read here so a
        # bad value stops the app at start; services read them with from_environment().
        try:
            self.LEDGER_SETTINGS = ledger_settings.from_environment()
        except ledger_settings.InvalidLedgerSetting as error:
            raise ConfigError(str(error)) from None


class DevelopmentConfig(Config):
    ENV_NAME = "development"


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    ARGON2_PROFILE = "cheapest"


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    # The __Host- prefix makes browsers refuse the cookie unless it is Secure, for this
    # host only, and for every path.
    SESSION_COOKIE_NAME = "__Host-dpledger_session"
    HSTS_ALWAYS = True

    def __init__(self) -> None:
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not os.environ.get(name)]
        if missing:
            raise ConfigError(
                "production refuses to start without its secrets: set " + ", ".join(missing)
            )
        if len(os.environ["SECRET_KEY"]) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters in production")
        super().__init__()
        self.SECRET_KEY = os.environ["SECRET_KEY"]


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def config_from_env() -> Config:
    name = os.environ.get("DPLEDGER_ENV", "development")
    try:
        return CONFIGS[name]()
    except KeyError:
        raise ConfigError(
            f"DPLEDGER_ENV={name!r} is not one of {', '.join(sorted(CONFIGS))}"
        ) from None

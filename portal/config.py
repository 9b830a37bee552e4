"""Configuration per environment. ``DPLEDGER_ENV`` picks one; ``DATABASE_URL`` picks the
database (default: a SQLite file in ``instance/``)."""

from __future__ import annotations

import os

from ledger.db import database_url


class ConfigError(RuntimeError):
    """The configuration is not safe to start with."""


class Config:
    ENV_NAME = "base"
    SECRET_KEY = "dev-only-not-secret"  # noqa: S105  (overridden in production)
    DATABASE_URL = ""
    COUNCIL_NAME = os.environ.get("DPLEDGER_COUNCIL_NAME", "Anytown Borough Council")
    SERVICE_NAME = os.environ.get("DPLEDGER_SERVICE_NAME", "Direct payment card")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"

    def __init__(self) -> None:
        self.DATABASE_URL = database_url()


class DevelopmentConfig(Config):
    ENV_NAME = "development"


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True

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

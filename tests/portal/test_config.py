"""Configuration: production refuses to start without its secrets; an unknown
environment name is an error, not a silent fallback to development."""

from __future__ import annotations

import pytest

from portal import config as portal_config

GOOD_SECRET = "s" * 32
PG_URL = "postgresql://dpledger@db.example.internal/dpledger"


@pytest.fixture()
def production_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("DPLEDGER_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("DATABASE_URL", PG_URL)
    return monkeypatch


def test_production_starts_with_its_secrets(production_env: pytest.MonkeyPatch) -> None:
    config = portal_config.config_from_env()
    assert isinstance(config, portal_config.ProductionConfig)
    assert config.SECRET_KEY == GOOD_SECRET
    assert config.DATABASE_URL.startswith("postgresql+psycopg://")
    assert config.SESSION_COOKIE_SECURE is True


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL"])
def test_production_refuses_to_start_without(
    production_env: pytest.MonkeyPatch, missing: str
) -> None:
    production_env.delenv(missing)
    with pytest.raises(portal_config.ConfigError, match=missing):
        portal_config.config_from_env()
    with pytest.raises(portal_config.ConfigError, match=missing):
        portal_config.ProductionConfig()


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL"])
def test_production_refuses_an_empty_value(
    production_env: pytest.MonkeyPatch, missing: str
) -> None:
    production_env.setenv(missing, "")
    with pytest.raises(portal_config.ConfigError, match=missing):
        portal_config.ProductionConfig()


def test_production_refuses_a_short_secret(production_env: pytest.MonkeyPatch) -> None:
    production_env.setenv("SECRET_KEY", "s" * 31)
    with pytest.raises(portal_config.ConfigError, match="32 characters"):
        portal_config.ProductionConfig()


def test_production_never_uses_the_development_secret(
    production_env: pytest.MonkeyPatch,
) -> None:
    config = portal_config.ProductionConfig()
    assert config.SECRET_KEY != portal_config.Config.SECRET_KEY


@pytest.mark.parametrize("name", ["prod", "Production", "staging", " "])
def test_an_unknown_environment_is_an_error(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("DPLEDGER_ENV", name)
    with pytest.raises(portal_config.ConfigError, match="DPLEDGER_ENV"):
        portal_config.config_from_env()


def test_development_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DPLEDGER_ENV", raising=False)
    assert isinstance(portal_config.config_from_env(), portal_config.DevelopmentConfig)

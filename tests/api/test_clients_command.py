"""``dpledger clients``: create prints the credentials once; the key it prints signs
tokens the API accepts; list and revoke."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from portal import config as portal_config
from portal.api import tokens
from portal.api.clients import client_key
from portal.cli import main
from portal.models import ApiClient


@pytest.fixture()
def cli_database(
    engine: Engine, committed: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> sessionmaker[Session]:
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    return committed


@pytest.mark.parametrize(
    "command", [["clients"], ["clients", "create"], ["clients", "list"], ["clients", "token"],
                ["clients", "revoke"], ["api"], ["api", "spec"]],
)  # fmt: skip
def test_help(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_create_prints_a_key_that_signs_accepted_tokens(
    cli_database: sessionmaker[Session], tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        main,
        ["clients", "create", "council bridge", "--scope", "events:write", "--scope",
         "cards:read", "--provider", "ukbank"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    client_id = re.search(r"client id: (dpc_\S+)", result.output)
    assert client_id is not None
    private = result.output[result.output.index("-----BEGIN PRIVATE KEY-----") :]
    with cli_database() as session:
        stored = session.execute(select(ApiClient)).scalar_one()
        assert stored.scopes == "cards:read events:write" and stored.provider == "ukbank"
        assert "PRIVATE" not in stored.public_key
        assert private.strip() not in stored.public_key

    key_file = tmp_path / "client.pem"
    key_file.write_text(private)
    minted = CliRunner().invoke(
        main,
        ["clients", "token", client_id.group(1), "--key-file", str(key_file),
         "--scope", "cards:read"],
    )  # fmt: skip
    assert minted.exit_code == 0, minted.output
    now = datetime.now(UTC)
    with cli_database() as session:
        principal = tokens.verify(
            minted.output.strip(),
            audience=portal_config.TestConfig.API_AUDIENCE,
            now=now,
            find_client=lambda cid: client_key(session, cid),
        )
    assert principal.scopes == frozenset({"cards:read"}) and principal.provider == "ukbank"

    listed = CliRunner().invoke(main, ["clients", "list"])
    assert "council bridge" in listed.output and client_id.group(1) in listed.output
    again = CliRunner().invoke(
        main, ["clients", "create", "council bridge", "--scope", "cards:read"]
    )
    assert again.exit_code != 0 and "already a client" in again.output

    revoked = CliRunner().invoke(main, ["clients", "revoke", "council bridge"])
    assert revoked.exit_code == 0
    with cli_database() as session, pytest.raises(tokens.InvalidToken):
        tokens.verify(
            minted.output.strip(),
            audience=portal_config.TestConfig.API_AUDIENCE,
            now=now,
            find_client=lambda cid: client_key(session, cid),
        )


def test_create_with_the_clients_own_public_key_prints_no_private_key(
    cli_database: sessionmaker[Session], tmp_path: Path
) -> None:
    key = Ed25519PrivateKey.generate()
    public = tmp_path / "public.pem"
    public.write_text(tokens.public_pem_of(key))
    result = CliRunner().invoke(
        main, ["clients", "create", "own key", "--scope", "inbox:read", "--public-key", str(public)]
    )
    assert result.exit_code == 0, result.output
    assert "PRIVATE KEY" not in result.output
    bad = tmp_path / "not-a-key.pem"
    bad.write_text("hello")
    refused = CliRunner().invoke(
        main, ["clients", "create", "bad key", "--scope", "inbox:read", "--public-key", str(bad)]
    )
    assert refused.exit_code != 0 and "PEM" in refused.output


def test_unknown_scopes_are_refused() -> None:
    result = CliRunner().invoke(main, ["clients", "create", "x", "--scope", "admin"])
    assert result.exit_code != 0 and "events:write" in result.output


def test_tokens_live_at_most_five_minutes(tmp_path: Path) -> None:
    key_file = tmp_path / "client.pem"
    key_file.write_text(tokens.new_key_pair()[0])
    result = CliRunner().invoke(
        main, ["clients", "token", "dpc_x", "--key-file", str(key_file), "--scope", "x",
               "--lifetime", "301"],
    )  # fmt: skip
    assert result.exit_code != 0 and "301" in result.output


def test_a_client_posting_a_signing_providers_events_needs_the_explicit_permission(
    cli_database: sessionmaker[Session],
) -> None:
    refused = CliRunner().invoke(
        main, ["clients", "create", "stripe bridge", "--scope", "events:write",
               "--provider", "stripe"],
    )  # fmt: skip
    assert refused.exit_code != 0 and "events:unsigned" in refused.output
    made = CliRunner().invoke(
        main, ["clients", "create", "stripe bridge", "--scope", "events:write",
               "--scope", "events:unsigned", "--provider", "stripe"],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    with cli_database() as session:
        stored = session.execute(select(ApiClient)).scalar_one()
        assert stored.scopes == "events:unsigned events:write"

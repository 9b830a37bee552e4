"""``dpledger clients …`` (machine clients of the JSON API) and ``dpledger api spec``."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import click

from ledger.clock import SystemClock
from ledger.db import make_engine, make_session_factory, unit_of_work
from ledger.errors import DomainError
from portal.api import tokens
from portal.api.clients import SCOPES, register_client, revoke_client
from portal.repositories import api_clients as repo

_SCOPE_HELP = "; ".join(f"{scope}: {what}" for scope, what in SCOPES.items())


def _audience() -> str:
    from portal.config import Config

    return os.environ.get("DPLEDGER_API_AUDIENCE") or Config.API_AUDIENCE


@click.group("clients")
def clients_group() -> None:
    """Machine clients of the JSON API: their keys and scopes."""


@clients_group.command("create")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(list(SCOPES)),
    help=f"What the client may do (repeatable). {_SCOPE_HELP}.",
)
@click.option(
    "--provider",
    default="simulated",
    show_default=True,
    help="The card provider whose cards the client's canonical events are about.",
)
@click.option(
    "--public-key",
    "public_key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The client's own Ed25519 public key (PEM). Without it a key pair is made and "
    "the private key printed once.",
)
def create(name: str, scopes: tuple[str, ...], provider: str, public_key_file: Path | None) -> None:
    """Register an API client called NAME and print its credentials.

    The private key is printed once and never stored: dpledger keeps only the public key.
    Store it where the client runs (a secrets manager), then delete this output.
    """
    engine = make_engine()
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            made = register_client(
                session,
                SystemClock(),
                name=name,
                scopes=scopes,
                provider=provider,
                public_key_pem=public_key_file.read_text() if public_key_file else None,
            )
            client = made.client
            click.echo(f"client:    {client.name}")
            click.echo(f"client id: {client.client_id}   (the tokens' iss)")
            click.echo(f"audience:  {_audience()}   (the tokens' aud)")
            click.echo(f"scopes:    {client.scopes}")
            click.echo(f"provider:  {client.provider}")
            if made.private_key_pem:
                click.echo(
                    "\nPrivate key (Ed25519, PEM). Shown once, never stored; keep it secret:\n"
                )
                click.echo(made.private_key_pem.rstrip())
    except DomainError as error:
        raise click.ClickException(error.detail) from None
    finally:
        engine.dispose()


@clients_group.command("list")
def list_clients() -> None:
    """List API clients: name, client id, provider, scopes, and whether active."""
    engine = make_engine()
    with make_session_factory(engine)() as session:
        clients = repo.all_clients(session)
        for client in clients:
            state = "active" if client.active else f"revoked {client.revoked_at:%Y-%m-%d}"
            click.echo(
                f"{client.name:<24} {client.client_id:<22} {client.provider:<10} "
                f"{state:<18} {client.scopes}"
            )
        click.echo(f"({len(clients)} clients)")
    engine.dispose()


@clients_group.command("revoke")
@click.argument("name")
def revoke(name: str) -> None:
    """Stop accepting the tokens of the client called NAME, at once."""
    engine = make_engine()
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            client = revoke_client(session, SystemClock(), name)
            click.echo(f"revoked {client.name} ({client.client_id})")
    except DomainError as error:
        raise click.ClickException(error.detail) from None
    finally:
        engine.dispose()


@clients_group.command("token")
@click.argument("client_id")
@click.option(
    "--key-file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The client's Ed25519 private key (PEM).",
)
@click.option(
    "--scope", "scopes", multiple=True, required=True, help="Scopes to ask for (repeatable)."
)
@click.option(
    "--lifetime",
    default=300,
    show_default=True,
    type=click.IntRange(1, 300),
    help="Seconds until it expires (at most 300).",
)
def token(client_id: str, key_file: Path, scopes: tuple[str, ...], lifetime: int) -> None:
    """Print a token for CLIENT_ID, signed with its private key, as a client would make
    one (for trying the API with curl; clients make their own with any JWT library)."""
    try:
        click.echo(
            tokens.mint(
                key_file.read_text(),
                client_id=client_id,
                audience=_audience(),
                scopes=scopes,
                lifetime=timedelta(seconds=lifetime),
            )
        )
    except (DomainError, ValueError) as error:
        raise click.ClickException(str(error)) from None


@click.group("api")
def api_group() -> None:
    """The JSON API's OpenAPI document."""


@api_group.command("spec")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write it to this file (docs/openapi.json is the checked-in copy) instead of printing it.",
)
def spec(output: Path | None) -> None:
    """Print the OpenAPI document served at /api/openapi.json (regenerate the checked-in
    copy with: dpledger api spec -o docs/openapi.json)."""
    text = openapi_text()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text)
        click.echo(f"wrote {output}")


def openapi_text() -> str:
    """The OpenAPI document as the checked-in file holds it (no database is opened)."""
    from sqlalchemy.orm import sessionmaker

    from portal.api import openapi_document
    from portal.app import create_app
    from portal.config import TestConfig

    app = create_app(TestConfig(), sessions=sessionmaker())
    return json.dumps(openapi_document(app), indent=2) + "\n"

"""``dpledger users``: sign-in accounts for holders and council staff."""

from __future__ import annotations

import click

from ledger.clock import SystemClock
from ledger.db import make_engine, make_session_factory, unit_of_work
from ledger.errors import DomainError
from portal.auth import passwords
from portal.auth.users import create_user
from portal.models import Role


@click.group("users")
def users_group() -> None:
    """Sign-in accounts for holders and council staff."""


@users_group.command("create")
@click.option("--email", required=True, help="The address they sign in with.")
@click.option(
    "--role",
    required=True,
    type=click.Choice([role.value for role in Role]),
    help="holder: sees their own cards; officer and senior_officer: council staff; "
    "admin: manages sign-ins.",
)
@click.option(
    "--person-ref",
    help="For a holder: the council reference of the person whose cards they see.",
)
def create(email: str, role: str, person_ref: str | None) -> None:
    """Create a sign-in account. Asks for the password (at least 12 characters)."""
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    engine = make_engine()
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            user = create_user(
                session,
                SystemClock(),
                passwords.hasher(),
                email=email,
                role=Role(role),
                password=password,
                person_ref=person_ref,
            )
            click.echo(f"created {user.role.value} account {user.email}")
    except DomainError as error:
        raise click.ClickException(error.detail) from None
    finally:
        engine.dispose()

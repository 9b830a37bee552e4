"""``dpledger users``: sign-in accounts for holders and council staff."""

from __future__ import annotations

import click

from ledger.clock import SystemClock
from ledger.db import make_engine, make_session_factory, unit_of_work
from ledger.errors import DomainError
from portal.auth import passwords
from portal.auth.users import create_user, set_sign_in_active
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


_BY = click.option(
    "--by",
    required=True,
    help="Who is doing this, for the audit log: your name or sign-in email.",
)
_REASON = click.option(
    "--reason", required=True, help="Why, for the audit log (such as: left the council)."
)


@users_group.command("disable")
@click.option("--email", required=True, help="The address the account signs in with.")
@_BY
@_REASON
def disable(email: str, by: str, reason: str) -> None:
    """Disable a sign-in account (someone who leaves): it cannot sign in, and every session
    it has ends at once. Audited."""
    _set_active(email, active=False, by=by, reason=reason)


@users_group.command("enable")
@click.option("--email", required=True, help="The address the account signs in with.")
@_BY
@_REASON
def enable(email: str, by: str, reason: str) -> None:
    """Enable a disabled sign-in account again (its old sessions stay ended). Audited."""
    _set_active(email, active=True, by=by, reason=reason)


def _set_active(email: str, *, active: bool, by: str, reason: str) -> None:
    state = "enabled" if active else "disabled"
    engine = make_engine()
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            user, changed = set_sign_in_active(
                session, SystemClock(), email=email, active=active, by=by, reason=reason
            )
            if changed:
                click.echo(f"{state} {user.role.value} account {user.email}")
            else:
                click.echo(f"{user.email} was already {state}; nothing changed")
    except DomainError as error:
        raise click.ClickException(error.detail) from None
    finally:
        engine.dispose()

"""``dpledger users create``: prompts for the password, links holders to their person."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.clock import FixedClock
from ledger.enrolment import Enrolment
from portal.auth import passwords
from portal.auth.service import SignIn
from portal.cli import main
from portal.models import Role, User

PASSWORD = "correct horse battery staple"


@pytest.fixture()
def cli_database(
    engine: Engine, committed: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> sessionmaker[Session]:
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    return committed


def test_help() -> None:
    result = CliRunner().invoke(main, ["users", "create", "--help"])
    assert result.exit_code == 0
    assert "--person-ref" in result.output and "--role" in result.output


def test_create_a_holder_linked_to_their_person(
    cli_database: sessionmaker[Session], clock: FixedClock
) -> None:
    with cli_database() as session:
        Enrolment(session, clock).register_person("REF-1", "Ada Lovelace")
        session.commit()
    result = CliRunner().invoke(
        main,
        [
            "users",
            "create",
            "--email",
            "Ada@Example.org",
            "--role",
            "holder",
            "--person-ref",
            "REF-1",
        ],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "created holder account ada@example.org" in result.output
    assert PASSWORD not in result.output
    with cli_database() as session:
        user = session.execute(select(User)).scalar_one()
        assert (user.email, user.role, user.active) == ("ada@example.org", Role.HOLDER, True)
        assert user.person_id is not None
        assert user.password_hash.startswith("$argon2id$")
        signed = SignIn(session, clock, passwords.hasher()).sign_in(
            "ada@example.org", PASSWORD, "127.0.0.1"
        )
        assert signed.user is not None


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--role", "holder"], "needs the council reference"),
        (["--role", "holder", "--person-ref", "NOPE"], "no person has council reference"),
        (["--role", "officer", "--person-ref", "REF-1"], "only a holder's account"),
    ],
)
def test_refusals_are_clear_and_create_nothing(
    cli_database: sessionmaker[Session], arguments: list[str], message: str
) -> None:
    result = CliRunner().invoke(
        main,
        ["users", "create", "--email", "someone@example.org", *arguments],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code != 0
    assert message in result.output
    with cli_database() as session:
        assert session.execute(select(User)).first() is None


def test_a_short_password_is_refused(cli_database: sessionmaker[Session]) -> None:
    result = CliRunner().invoke(
        main,
        ["users", "create", "--email", "o@example.org", "--role", "officer"],
        input="short\nshort\n",
    )
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output


def test_the_same_email_twice_is_refused(cli_database: sessionmaker[Session]) -> None:
    runner = CliRunner()
    args = ["users", "create", "--email", "o@example.org", "--role", "officer"]
    assert runner.invoke(main, args, input=f"{PASSWORD}\n{PASSWORD}\n").exit_code == 0
    again = runner.invoke(main, args, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert again.exit_code != 0
    assert "already has an account" in again.output

"""``dpledger users create``: prompts for the password, links holders to their person."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.clock import FixedClock
from ledger.enrolment import Enrolment
from monitoring.models import AuditEntry
from portal.auth import passwords
from portal.auth.service import SignIn
from portal.auth.users import create_user
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


# -- dpledger users disable / enable (the service: tests/portal/test_disable_sign_in.py) --


@pytest.fixture()
def leaver(cli_database: sessionmaker[Session]) -> sessionmaker[Session]:
    """An officer's account, committed, for ``dpledger users disable`` and ``enable``."""
    with cli_database() as session:
        create_user(
            session, FixedClock(), passwords.hasher("cheapest"), email="leaver@example.org",
            role=Role.OFFICER, password="a long enough password",
        )  # fmt: skip
        session.commit()
    return cli_database


def _run_users(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["users", *args])
    return result.exit_code, result.output


def test_users_disable_and_enable(leaver: sessionmaker[Session]) -> None:
    who = ["--by", "it.team@example.org", "--reason", "Left on 3 April"]
    assert _run_users("disable", "--email", "Leaver@Example.org", *who) == (
        0, "disabled officer account leaver@example.org\n",
    )  # fmt: skip
    assert _run_users("disable", "--email", "leaver@example.org", *who) == (
        0, "leaver@example.org was already disabled; nothing changed\n",
    )  # fmt: skip
    with leaver() as session:
        user = session.execute(select(User)).scalar_one()
        assert (user.active, user.session_epoch) == (False, 1)
        (entry,) = session.execute(select(AuditEntry)).scalars()
        assert (entry.action, entry.actor, entry.reason) == (
            "sign_in_disabled", "it.team@example.org", "Left on 3 April",
        )  # fmt: skip
    assert _run_users("enable", "--email", "leaver@example.org", *who)[0] == 0
    with leaver() as session:
        assert session.execute(select(User.active)).scalar_one() is True


def test_users_disable_refuses_an_unknown_email_or_no_reason(
    leaver: sessionmaker[Session],
) -> None:
    code, output = _run_users(
        "disable", "--email", "nobody@example.org", "--by", "me", "--reason", "Left"
    )
    assert code == 1
    assert "no sign-in account has the email address nobody@example.org" in output
    code, output = _run_users("disable", "--email", "leaver@example.org", "--by", "me")
    assert code == 2 and "--reason" in output
    with leaver() as session:
        assert session.execute(select(User.active)).scalar_one() is True

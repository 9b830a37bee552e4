"""The demo's sign-ins are printed from one place (portal/demo/sign_ins.py): by
`dpledger demo load`, also when --if-empty leaves the database as it is (which is what
`make demo` runs), and by `dpledger demo sign-ins`; the Makefile and the README's table
keep no list of their own that could drift."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ledger.clock import FixedClock
from ledger.enrolment import Enrolment
from portal.auth import passwords
from portal.auth.users import create_user
from portal.cli import main
from portal.demo import DEMO_PASSWORD, DEMO_SIGN_INS
from portal.demo.sign_ins import sign_in_lines
from portal.models import Role

ROOT = Path(__file__).resolve().parents[2]
STAFF = ["officer@example.org", "admin@example.org"]


@pytest.fixture()
def database(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))


def _staff_sign_ins(committed: sessionmaker[Session], *, with_a_person: bool) -> None:
    clock = FixedClock()
    with committed() as session:
        if with_a_person:
            Enrolment(session, clock).register_person("DEMO-0001", "Greg Adams")
        for email in STAFF:
            role = Role.ADMIN if email.startswith("admin") else Role.OFFICER
            create_user(
                session, clock, passwords.hasher("cheapest"),
                email=email, role=role, password=DEMO_PASSWORD,
            )  # fmt: skip
        session.commit()


def test_demo_sign_ins_prints_those_the_database_has(
    database: None, committed: sessionmaker[Session]
) -> None:
    empty = CliRunner().invoke(main, ["demo", "sign-ins"])
    assert empty.exit_code == 0, empty.output
    assert empty.output == "this database has none of the demo's sign-ins\n"
    _staff_sign_ins(committed, with_a_person=False)
    result = CliRunner().invoke(main, ["demo", "sign-ins"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"sign-ins (password for all, demo only: {DEMO_PASSWORD}):",
        "  officer@example.org           monitoring officer",
        "  admin@example.org             admin: sign-in accounts",
    ]


def test_demo_load_if_empty_ends_with_the_sign_ins_when_it_leaves_the_database(
    database: None, committed: sessionmaker[Session]
) -> None:
    _staff_sign_ins(committed, with_a_person=True)
    result = CliRunner().invoke(main, ["demo", "load", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "demo: the database already has people; left as it is",
        *(f"demo: {line}" for line in sign_in_lines(STAFF)),
    ]


def test_every_sign_in_is_printed_from_the_one_list() -> None:
    lines = sign_in_lines()
    assert lines[0] == f"sign-ins (password for all, demo only: {DEMO_PASSWORD}):"
    assert [line.split()[0] for line in lines[1:]] == [email for email, *_ in DEMO_SIGN_INS]


def test_the_makefile_keeps_no_list_of_its_own() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    demo = re.search(r"^demo:.*?(?=^\S)", makefile, re.M | re.S)
    assert demo is not None
    assert "dpledger demo load --if-empty" in demo.group(0)
    assert "@example.org" not in makefile and DEMO_PASSWORD not in makefile


def test_the_readme_table_names_every_demo_sign_in_and_no_other() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The demo's people", 1)[1].split("\n## ", 1)[0]
    table = [row for row in section.splitlines() if row.startswith("| `")]
    named = [re.match(r"\| `([^`]+)`", row).group(1) for row in table]  # type: ignore[union-attr]
    assert named == [email for email, *_ in DEMO_SIGN_INS]
    assert f"`{DEMO_PASSWORD}`" in section

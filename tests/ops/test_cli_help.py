"""Every ``dpledger`` command and group answers ``--help``, found by walking the whole click
tree as click itself resolves it (``list_commands``/``get_command``), so a command added
anywhere is checked without being listed here."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from portal.cli import main


def _walk(
    command: click.Command, path: tuple[str, ...] = (), parent: click.Context | None = None
) -> list[tuple[tuple[str, ...], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        context = click.Context(command, info_name=path[-1] if path else "dpledger", parent=parent)
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            assert sub is not None, f"{' '.join((*path, name))} is listed but does not resolve"
            found += _walk(sub, (*path, name), context)
    return found


TREE = _walk(main)
COMMANDS = [path for path, _ in TREE]


def test_the_walk_finds_the_whole_tree() -> None:
    names = {" ".join(p) for p in COMMANDS}
    assert {
        "",
        "db upgrade",
        "demo load",
        "demo generate",
        "serve",
        "scheduler",
        "import",
        "inbox list",
        "inbox replay",
        "ledger verify",
        "ledger check",
        "monitors list",
        "monitors run",
        "users create",
        "clients create",
        "api spec",
    } <= names
    groups = [c for _, c in TREE if isinstance(c, click.Group)]
    assert len(groups) >= 8 and len(COMMANDS) > 20


@pytest.mark.parametrize(
    ("path", "command"), [pytest.param(p, c, id=" ".join(p) or "dpledger") for p, c in TREE]
)
def test_help(path: tuple[str, ...], command: click.Command) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.exception is None
    assert result.output.startswith(f"Usage: main {' '.join(path)}".replace("  ", " ").rstrip())
    assert command.help and command.help.strip(), "a command says what it does"
    assert command.get_short_help_str(200).split()[0] in result.output
    # Every option is listed with what it is for; every argument is named in the usage.
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"{param.opts[0]} says what it is for"
            assert param.opts[0] in result.output and param.help.split()[0] in result.output
        elif isinstance(param, click.Argument):
            assert param.make_metavar(click.Context(command)) in result.output
    if isinstance(command, click.Group):
        for name in command.list_commands(click.Context(command)):
            assert name in result.output, f"{name} is listed under {' '.join(path)}"


def test_the_demo_and_serve_options_are_documented() -> None:
    generate = CliRunner().invoke(main, ["demo", "generate", "--help"])
    assert generate.exit_code == 0
    for option in ("--people", "--months", "--seed"):
        assert option in generate.output
    serve = CliRunner().invoke(main, ["serve", "--help"])
    assert serve.exit_code == 0 and "--with-scheduler" in serve.output
    assert "scheduler" in serve.output.split("--with-scheduler", 1)[1]

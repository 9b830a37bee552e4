"""Every ``dpledger`` command and group answers ``--help``."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from portal.cli import main


def _walk(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            found += _walk(sub, (*path, name))
    return found


COMMANDS = _walk(main)


def test_the_walk_finds_the_tree() -> None:
    names = {" ".join(p) for p in COMMANDS}
    assert {"", "db", "db upgrade", "serve", "scheduler", "users create"} <= names
    assert len(COMMANDS) > 10


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "dpledger")
def test_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output
    # Beyond the usage line: a description or the options.
    assert len(result.output.strip().splitlines()) > 2
    assert result.exception is None

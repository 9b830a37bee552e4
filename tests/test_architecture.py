"""The architecture in DESIGN.md, kept by a test: dependencies point one way
(``portal -> monitoring -> ledger``, ``portal -> adapters -> ledger``) and only the
portal is a web layer.

Every ``.py`` file under ``ledger/``, ``monitoring/`` and ``adapters/`` is parsed (not
imported) and each import it makes, at any depth (inside functions, under
``TYPE_CHECKING``), is checked.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WEB = {"flask", "werkzeug"}

# What each part must not import (besides the web frameworks).
FORBIDDEN = {
    "ledger": {"monitoring", "adapters", "portal"},
    "monitoring": {"adapters", "portal"},
    "adapters": {"monitoring", "portal"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module name a piece of source imports, relative imports made absolute."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            if not node.level:
                base = []
            target = _join(*base, node.module or "")
            if target:
                found.add(target)
            # ``from portal import views`` imports portal.views as well as portal.
            found.update(_join(target, alias.name) for alias in node.names)
    return found


def _join(*parts: str) -> str:
    return ".".join(part for part in parts if part)


def top_level(name: str) -> str:
    return name.split(".", 1)[0]


def is_web(name: str) -> bool:
    top = top_level(name)
    return top in WEB or top.startswith("flask_")


def python_files(part: str) -> list[Path]:
    return sorted((ROOT / part).rglob("*.py"))


def violations(part: str) -> list[str]:
    found = []
    for path in python_files(part):
        module = module_name(path)
        source = path.read_text(encoding="utf-8")
        for name in sorted(imports(source, module, is_package=path.name == "__init__.py")):
            if is_web(name) or top_level(name) in FORBIDDEN[part]:
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_dependencies_point_one_way_and_only_the_portal_is_web(part: str) -> None:
    assert violations(part) == []


def test_the_ledger_is_scanned() -> None:
    """The scan is not vacuous: the ledger's own modules are found and parsed."""
    files = python_files("ledger")
    assert ROOT / "ledger" / "postings.py" in files
    assert "ledger.models" in imports(
        (ROOT / "ledger" / "postings.py").read_text(), "ledger.postings"
    )


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("import flask", "ledger.x", "flask"),
        ("from werkzeug.exceptions import NotFound", "ledger.x", "werkzeug.exceptions"),
        ("def f():\n    from flask import g", "ledger.x", "flask"),
        ("from .. import portal", "ledger.repositories.x", "ledger.portal"),
        ("from ... import portal", "ledger.repositories.x", "portal"),
        ("from ...portal.app import db_session", "ledger.repositories.x", "portal.app"),
        ("from . import models", "monitoring", "monitoring.models"),
        ("import adapters.inbox as inbox", "monitoring.x", "adapters.inbox"),
    ],
)
def test_the_import_scan_finds(source: str, module: str, expected: str) -> None:
    assert expected in imports(source, module, is_package="." not in module)


def test_a_forbidden_import_is_reported() -> None:
    found = imports("from flask import current_app\nimport monitoring.flags\n", "ledger.bad")
    assert any(is_web(name) for name in found)
    assert any(top_level(name) in FORBIDDEN["ledger"] for name in found)

"""The README and docs/ stay true to the tree: every relative link (and its #anchor)
resolves, every image has alt text, and the reference pages name every environment
variable, config key, command and monitoring setting the code has."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from pathlib import Path

import click
import pytest

from monitoring.settings import MonitoringSettings
from portal.cli import main as dpledger
from portal.config import TestConfig as WebConfig

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCED = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
# [text](target) and ![alt](target); the text may wrap onto the next line.
LINK = re.compile(r"(!?)\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.M)


def prose(text: str) -> str:
    """The page without code: links and headings written in code are not links."""
    return INLINE_CODE.sub("", FENCED.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading).lower()
    kept = "".join(ch for ch in text if ch in " -_" or unicodedata.category(ch)[0] in ("L", "N"))
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, title in HEADING.findall(FENCED.sub("", path.read_text(encoding="utf-8"))):
        base = slug(title)
        count = seen.get(base, 0)
        found.add(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    return found


def links(path: Path) -> list[tuple[bool, str, str]]:
    """(is an image, text, target) for each link on a page."""
    text = prose(path.read_text(encoding="utf-8"))
    return [(bang == "!", label, target) for bang, label, target in LINK.findall(text)]


def broken_links(path: Path) -> list[str]:
    problems = []
    for _, _, target in links(path):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: …
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            problems.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            problems.append(f"{target}: no heading #{anchor} in {linked.name}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    assert broken_links(page) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_image_has_alt_text(page: Path) -> None:
    assert [t for image, alt, t in links(page) if image and not alt.strip()] == []


def test_the_link_checker_finds_a_broken_link_and_anchor(tmp_path: Path) -> None:
    (tmp_path / "there.md").write_text("# A heading (with `code`)\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](there.md#a-heading-with-code) [gone](missing.md) [bad](there.md#nope)\n"
        "[far](https://example.org/x) `[code](missing-too.md)`\n"
        "```\n[fenced](missing-three.md)\n```\n",
        encoding="utf-8",
    )
    assert broken_links(page) == [
        "missing.md: no such file",
        "there.md#nope: no heading #nope in there.md",
    ]


def test_the_readme_links_every_page_in_docs() -> None:
    linked = {target.partition("#")[0] for _, _, target in links(ROOT / "README.md")}
    pages = {f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")}
    assert sorted(pages - linked) == []


# -- reference pages against the code -----------------------------------------------------

SOURCE_DIRS = ("adapters", "benchmarks", "ledger", "monitoring", "portal", "scripts", "tests")
ENV_READ = re.compile(
    r"""environ(?:\.get\(|\[)\s*["']([A-Z][A-Z0-9_]+)["']|getenv\(\s*["']([A-Z][A-Z0-9_]+)"""
)
OURS = re.compile(r"\b((?:DPLEDGER|BENCH)_[A-Z0-9_]*[A-Z0-9])\b")


def environment_variables() -> set[str]:
    """Every variable the code reads by name, and every DPLEDGER_/BENCH_ name it spells."""
    files = [ROOT / "Makefile", ROOT / ".ci" / "run", ROOT / "wsgi.py"]
    for part in SOURCE_DIRS:
        files += [p for p in (ROOT / part).rglob("*.py") if p != Path(__file__).resolve()]
    names: set[str] = set()
    for path in files:
        text = path.read_text(encoding="utf-8")
        names.update(a or b for a, b in ENV_READ.findall(text))
        names.update(OURS.findall(text))
    return names


def test_configuration_names_every_environment_variable() -> None:
    documented = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    names = environment_variables()
    assert {"DATABASE_URL", "SECRET_KEY", "DPLEDGER_ENV"} <= names  # the scan finds them
    assert sorted(n for n in names if f"`{n}`" not in documented) == []


def test_configuration_names_every_flask_config_key() -> None:
    documented = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    keys = {k for k in dir(WebConfig()) if k.isupper()}
    assert "SESSION_COOKIE_SECURE" in keys
    assert sorted(k for k in keys if f"`{k}`" not in documented) == []


def commands(group: click.Group, prefix: str = "dpledger") -> list[str]:
    found = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            found += commands(command, path)
        else:
            found.append(path)
    return found


def test_the_readme_lists_every_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    every = commands(dpledger)
    assert "dpledger ledger verify" in every and "dpledger serve" in every
    assert [c for c in every if not re.search(re.escape(c) + r"\b", readme)] == []


def test_the_monitor_catalogue_names_every_setting() -> None:
    catalogue = (ROOT / "docs" / "monitors.md").read_text(encoding="utf-8")
    spans = " ".join(re.findall(r"`([^`\n]+)`", catalogue))
    missing = [
        f.name
        for f in dataclasses.fields(MonitoringSettings)
        if not re.search(rf"\b{f.name}\b", spans)
    ]
    assert missing == []

"""``dpledger import`` and ``dpledger inbox …``: statement files and the provider inbox."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.orm import Session, sessionmaker

from adapters import inbox
from adapters.models import InboxStatus, QuarantineStatus
from adapters.repositories import inbox as inbox_repo
from adapters.repositories import statements as statements_repo
from adapters.statement_file import HEADER, file_digest, import_statement
from adapters.statement_quarantine import retry_quarantined
from ledger.clock import SystemClock
from ledger.db import INSTANCE_DIR, make_engine, make_session_factory
from ledger.errors import DomainError

_STATUSES = [s.value for s in InboxStatus]


ARCHIVE = INSTANCE_DIR / "statements"


@click.command("import")
@click.argument(
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--provider",
    help="The card provider the file comes from, as its cards are enrolled "
    "(cards.provider): the file's card tokens are that provider's. Required with FILE.",
)
@click.option(
    "--batch-size",
    default=1000,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Lines applied and committed together.",
)
@click.option(
    "--archive",
    type=click.Path(file_okay=False, path_type=Path),
    default=ARCHIVE,
    show_default="statements/ in the instance folder (DPLEDGER_INSTANCE)",
    help="Where each imported file is kept, byte for byte, as <sha256>.csv.",
)
@click.option(
    "--retry-quarantined",
    "retry",
    metavar="IMPORT",
    help="Try the quarantined lines of an import again, once the cause is fixed: the "
    "import's id, or the file it imported.",
)
@click.option("--list", "list_imports", is_flag=True, help="List the latest imports.")
@click.option(
    "--show",
    metavar="IMPORT",
    help="One import (its id, or the file) and its quarantined lines.",
)
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="With --list or --show: show at most this many imports or lines.",
)
def import_command(
    file: Path | None,
    provider: str | None,
    batch_size: int,
    archive: Path,
    retry: str | None,
    list_imports: bool,
    show: str | None,
    limit: int,
) -> None:
    """Import a daily statement FILE (CSV, docs/statement-format.md) from --provider.

    Streams files of any size, committing every batch of lines. Bad lines are reported
    with their line numbers and quarantined while the good lines apply. Importing the
    same file again changes nothing; an interrupted import resumes where it stopped.
    Closing balances are reconciled and every break is recorded. A file whose first line
    is not the header, or none of whose lines names a card of the provider, is rejected
    with nothing applied.

    --retry-quarantined IMPORT tries an import's quarantined lines again (each is applied
    at most once); --list lists imports; --show IMPORT shows one and its quarantined lines.

    Exits 0 when the file was imported (even with quarantined lines) or is already; 1
    when it is rejected, being imported by another process, or the import asked for
    does not exist.
    """
    chosen = [bool(file), bool(retry), list_imports, bool(show)]
    if sum(chosen) != 1:
        raise click.UsageError("give one of FILE, --retry-quarantined, --list or --show")
    if file is not None and not provider:
        raise click.UsageError(
            "--provider is required: the provider whose cards the file's tokens name "
            "(a wrong one would find none of them)"
        )
    engine = make_engine()
    factory = make_session_factory(engine)
    try:
        if file is not None:
            assert provider is not None
            _import_file(factory, file, provider, batch_size, archive)
        elif retry is not None:
            _retry(factory, _import_id(factory, retry), batch_size)
        elif show is not None:
            _show(factory, _import_id(factory, show), limit)
        else:
            _list(factory, limit)
    finally:
        engine.dispose()


def _import_file(
    factory: sessionmaker[Session], file: Path, provider: str, batch_size: int, archive: Path
) -> None:
    size = file.stat().st_size
    with click.progressbar(length=size, label=f"Importing {file.name}", file=None) as bar:
        report = import_statement(
            factory, file, SystemClock(), provider=provider, batch_size=batch_size,
            progress=bar.update, archive=archive,
        )  # fmt: skip
    if report.already_imported:
        click.echo(f"already imported (import {report.import_id}): nothing changed")
        return
    for line_number, reason in report.problems:
        click.echo(f"line {line_number}: {reason}", err=True)
    if report.rejected:
        click.echo(f"import {report.import_id} rejected: {report.rejected}", err=True)
        if report.rejected.startswith("the first line"):
            click.echo(f"the header must be: {HEADER}", err=True)
        raise SystemExit(1)
    shown = len(report.problems)
    if report.quarantined > shown:
        click.echo(f"… and {report.quarantined - shown} more quarantined lines", err=True)
    click.echo(
        f"import {report.import_id}: {report.applied} applied, {report.duplicate} already "
        f"recorded, {report.quarantined} quarantined; {report.balances_checked} closing "
        f"balances checked, {report.breaks} reconciliation breaks recorded"
    )
    if report.stopped:
        click.echo(f"stopped: {report.stopped}", err=True)
        raise SystemExit(1)


def _import_id(factory: sessionmaker[Session], given: str) -> int:
    """An import named by its id or by the file it imported."""
    path = Path(given)
    if path.is_file():
        with factory() as session:
            record = statements_repo.import_by_digest(session, file_digest(path))
        if record is None:
            raise click.ClickException(f"{given} has not been imported")
        return record.id
    if given.isdigit():
        return int(given)
    raise click.ClickException(f"{given!r} is neither an import id nor a file")


def _retry(factory: sessionmaker[Session], import_id: int, batch_size: int) -> None:
    try:
        report = retry_quarantined(factory, SystemClock(), import_id, batch_size=batch_size)
    except DomainError as error:
        raise click.ClickException(error.detail) from None
    for line_number, reason in report.problems:
        click.echo(f"line {line_number}: {reason}", err=True)
    click.echo(
        f"import {import_id}: {report.lines} quarantined lines tried again: "
        f"{report.applied} applied, {report.duplicate} already recorded, "
        f"{report.balances_checked} closing balances checked ({report.breaks} breaks "
        f"recorded), {report.quarantined} still quarantined"
    )


def _list(factory: sessionmaker[Session], limit: int) -> None:
    with factory() as session:
        imports = statements_repo.recent_imports(session, limit)
    for record in imports:
        click.echo(
            f"{record.id:>6}  {record.started_at:%Y-%m-%d %H:%M}  {record.status.value:<11} "
            f"{record.provider:<10} {record.file_name}  {record.lines_applied} applied, "
            f"{record.lines_duplicate} already recorded, {record.lines_quarantined} "
            "quarantined" + (f"  ({record.reason})" if record.reason else "")
        )
    click.echo(f"({len(imports)} shown, latest first; --show IMPORT for its quarantined lines)")


def _show(factory: sessionmaker[Session], import_id: int, limit: int) -> None:
    with factory() as session:
        record = statements_repo.find_import(session, import_id)
        if record is None:
            raise click.ClickException(f"no statement import {import_id}")
        lines = statements_repo.quarantined(session, import_id, limit=limit)
        counts = statements_repo.count_quarantined(session, import_id)
    click.echo(
        f"import {record.id}: {record.file_name} ({record.file_size:,} bytes, sha256 "
        f"{record.file_sha256}) from {record.provider}, {record.status.value}"
        + (f": {record.reason}" if record.reason else "")
    )
    if record.archived_as:
        click.echo(f"kept as {record.archived_as}")
    click.echo(
        f"lines {record.lines_done}: {record.lines_applied} applied, {record.lines_duplicate} "
        f"already recorded, {record.lines_quarantined} quarantined; "
        f"{record.balances_checked} closing balances checked, {record.breaks} breaks"
    )
    for line in lines:
        click.echo(
            f"line {line.line_number:>8}  {line.status.value:<11} tries {line.attempts}  "
            f"{line.reason}\n    {line.raw_line[:300]}"
        )
    summary = ", ".join(f"{counts.get(s, 0)} {s.value}" for s in QuarantineStatus)
    click.echo(f"({len(lines)} shown; quarantine: {summary})")


@click.group("inbox")
def inbox_group() -> None:
    """Provider events as they arrived, and what applying them did."""


@inbox_group.command("list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(_STATUSES),
    help="Only events with this outcome (repeatable). Default: parked and received.",
)
@click.option("--all", "show_all", is_flag=True, help="Every outcome.")
@click.option("--provider", default=None, help="Only this provider's events.")
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Show at most this many events.",
)
def inbox_list(statuses: tuple[str, ...], show_all: bool, provider: str | None, limit: int) -> None:
    """List inbox events, newest first: parked ones (with why) and any not yet applied."""
    wanted = None if show_all else [InboxStatus(s) for s in statuses or ("parked", "received")]
    engine = make_engine()
    with make_session_factory(engine)() as session:
        events = inbox_repo.list_events(session, statuses=wanted, provider=provider, limit=limit)
        counts = inbox_repo.count_by_status(session)
    engine.dispose()
    for event in events:
        click.echo(
            f"{event.id:>8}  {event.received_at:%Y-%m-%d %H:%M:%S}  {event.provider:<9} "
            f"{event.event_type:<40} {event.status.value:<9} tries {event.attempts}"
            + (f"  {event.reason}" if event.reason else "")
        )
    summary = ", ".join(f"{counts.get(s, 0)} {s.value}" for s in InboxStatus)
    click.echo(f"({len(events)} shown; inbox: {summary})")


@inbox_group.command("replay")
@click.option("--event", "event_ids", multiple=True, type=int, help="Only this event (repeatable).")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(["received", "parked"]),
    help="Only events with this status (repeatable). Default: both.",
)
@click.option("--provider", default=None, help="Only this provider's events.")
def inbox_replay(
    event_ids: tuple[int, ...], statuses: tuple[str, ...], provider: str | None
) -> None:
    """Apply events not yet applied: received but interrupted (a crash), or parked (after
    the cause is fixed). Each is applied in its own transaction; a real-time
    authorisation request is never decided late. Exits 1 if any failed."""
    engine = make_engine()

    def show(result: inbox.Delivered) -> None:
        click.echo(
            f"{result.inbox_id:>8}  {result.event_type:<40} {result.status.value}"
            + (f"  {result.reason}" if result.reason else "")
        )

    report = inbox.replay(
        make_session_factory(engine),
        SystemClock(),
        statuses=[InboxStatus(s) for s in statuses or ("received", "parked")],
        event_ids=list(event_ids) or None,
        provider=provider,
        on_event=show,
    )
    engine.dispose()
    for inbox_id, error in report.failed:
        click.echo(f"{inbox_id:>8}  FAILED: {error}", err=True)
    summary = ", ".join(f"{n} {status.value}" for status, n in sorted(report.outcomes.items()))
    click.echo(f"replayed {report.total} events: {summary or 'none waiting'}")
    if report.failed:
        raise SystemExit(1)

"""The UK daily statement file (``docs/statement-format.md``): importing it.

``import_statement`` streams a file of any size in batches (one transaction per batch of
about 1,000 lines), so memory stays flat however long the file is:

- the file is known by the SHA-256 of its bytes, and kept byte for byte under that name
  (``archive``): importing it again changes nothing, and an interrupted import resumes
  after the last committed line;
- each line becomes a canonical event (``adapters.statement_lines``), applied through the
  same code as webhooks, with the provider as idempotency source and the line's
  transaction id as key (so a transaction in two files, or also sent by webhook, has one
  effect);
- a bad line is quarantined with its line number and the reason, and the good lines
  apply; ``adapters.statement_quarantine`` tries quarantined lines again later;
- each ``CLOSING_BALANCE`` line is reconciled against the ledger's posted balance at the
  end of that day (Europe/London), and every difference is recorded as a
  ``ReconciliationBreak``;
- a file is refused as a whole, with nothing applied, when its first line is not the
  header or when no line names a card of the provider given (the wrong ``--provider``
  would otherwise quarantine every line).

Every batch locks the import's row first and goes on only if the import still stands
where this process left it, so two processes importing one file never apply a line
twice: the second waits for the first's batch and stops, saying the file is being
imported.

Lines that link to an authorisation run in a savepoint of their own; the rest rely on the
ledger writing nothing when it refuses. Anything unexpected rolls the batch back and runs
it again line by line, each in a savepoint, so one odd line cannot stop the file.
"""

from __future__ import annotations

import gc
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import IO, Any, NamedTuple

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from adapters import keys
from adapters.apply import EventApplier
from adapters.authorisation import london_midnight
from adapters.canonical import CanonicalEvent
from adapters.errors import UnknownCard
from adapters.models import ImportStatus, InboxStatus, QuarantinedLine, StatementImport
from adapters.repositories import balances as balances_repo
from adapters.repositories import cards as cards_repo
from adapters.repositories import statements as statements_repo
from adapters.repositories.cards import CardRef
from adapters.statement_lines import (
    CLOSING_BALANCE,
    COLUMNS,
    HEADER,
    MAX_LINE,
    RECORD_KINDS,
    BadLine,
    ClosingBalance,
    Line,
    card_token_of,
    parse_line,
    read,
    rows,
)
from ledger import postings
from ledger.clock import Clock
from ledger.errors import DomainError, UnknownRecord

__all__ = [
    "BATCH_SIZE",
    "CLOSING_BALANCE",
    "COLUMNS",
    "HEADER",
    "RECORD_KINDS",
    "BadLine",
    "ClosingBalance",
    "ImportReport",
    "Line",
    "file_digest",
    "import_statement",
    "parse_line",
]

BATCH_SIZE = 1000
_CARD_CACHE_LIMIT = 20_000
_CHUNK = 1 << 20  # bytes read at a time while hashing and archiving
_TOKENS_AT_ONCE = 500  # card tokens looked up together while checking the provider


@dataclass
class ImportReport:
    import_id: int
    already_imported: bool = False
    lines: int = 0
    applied: int = 0
    duplicate: int = 0
    quarantined: int = 0
    balances_checked: int = 0
    breaks: int = 0
    rejected: str | None = None  # the file was refused as a whole: why
    # This process stopped without finishing (another is importing the file): why.
    stopped: str | None = None
    provider: str = ""
    archived_as: str | None = None
    problems: list[tuple[int, str]] = field(default_factory=list)  # the first few


def import_statement(
    factory: sessionmaker[Session],
    path: Path,
    clock: Clock,
    *,
    provider: str,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
    archive: Path | None = None,
) -> ImportReport:
    """Import a statement file (see the module docstring). Commits once per batch.

    With ``archive`` (a folder), the file is first copied there as ``<sha256>.csv`` and the
    lines are read from that copy: what is imported is exactly what is kept.
    ``progress`` is called with the number of bytes read since its last call.
    """
    digest, kept = _digest(path, archive)
    report, go_on = _open_import(factory, path, clock, digest, provider, kept)
    if not go_on:
        if progress is not None:
            progress(path.stat().st_size)
        return report
    importer = _Importer(factory, clock, report.provider, report, batch_size)
    with (kept or path).open("rb") as handle, _few_collections():
        importer.run(handle, progress)
    return report


def file_digest(path: Path) -> str:
    """The SHA-256 (hex) a statement file is known by."""
    return _digest(path, None)[0]


def _digest(path: Path, archive: Path | None) -> tuple[str, Path | None]:
    """The SHA-256 of the file, and where it is kept (copied in the same pass)."""
    digest = hashlib.sha256()
    if archive is None:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(chunk)
        return digest.hexdigest(), None
    archive.mkdir(parents=True, exist_ok=True)
    with (
        path.open("rb") as handle,
        tempfile.NamedTemporaryFile(dir=archive, prefix=".incoming-", delete=False) as copy,
    ):
        try:
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(chunk)
                copy.write(chunk)
            copy.flush()
            os.fsync(copy.fileno())
        except BaseException:
            os.unlink(copy.name)
            raise
    kept = archive / f"{digest.hexdigest()}.csv"
    if kept.exists():
        os.unlink(copy.name)  # kept already, from an earlier import of the same bytes
    else:
        os.replace(copy.name, kept)
    return digest.hexdigest(), kept


def _open_import(
    factory: sessionmaker[Session],
    path: Path,
    clock: Clock,
    digest: str,
    provider: str,
    kept: Path | None,
) -> tuple[ImportReport, bool]:
    """The file's import, created (or begun again, when it was rejected); whether this
    process goes on to import lines."""
    for attempt in range(2):
        try:
            with factory() as session, session.begin():
                record = statements_repo.import_by_digest(session, digest, lock=True)
                if record is None:
                    record = StatementImport(
                        file_sha256=digest,
                        file_name=path.name[:500],
                        file_size=path.stat().st_size,
                        provider=provider,
                        status=ImportStatus.IN_PROGRESS,
                        started_at=clock.now(),
                    )
                    session.add(record)
                elif record.status is ImportStatus.REJECTED:
                    # Nothing of it was applied: try again (with another provider, or
                    # once its cards are enrolled). A file that is not a statement is
                    # rejected again.
                    record.status = ImportStatus.IN_PROGRESS
                    record.provider = provider
                    record.reason = None
                    record.started_at = clock.now()
                    record.finished_at = None
                if kept is not None:
                    record.archived_as = str(kept)[:500]
                session.flush()
                report = _report_of(record)
                if record.status is not ImportStatus.IN_PROGRESS:
                    report.already_imported = True
                    return report, False
                if record.provider != provider:
                    report.stopped = (
                        f"import {record.id} of this file was begun with --provider "
                        f"{record.provider}: finish it with that provider"
                    )
                    return report, False
                return report, True
        except IntegrityError:
            # Another process created the import at the same moment: read theirs.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _report_of(record: StatementImport) -> ImportReport:
    return ImportReport(
        import_id=record.id,
        provider=record.provider,
        lines=int(record.lines_done),
        applied=int(record.lines_applied),
        duplicate=int(record.lines_duplicate),
        quarantined=int(record.lines_quarantined),
        balances_checked=int(record.balances_checked),
        breaks=int(record.breaks),
        archived_as=record.archived_as,
    )


@contextmanager
def _few_collections() -> Iterator[None]:
    """Fewer runs of the cyclic garbage collector while lines are imported.

    Each line allocates a few dozen containers, so the collector's youngest generation
    would run every few lines and its oldest would walk every object the process holds
    (SQLAlchemy's, the models') again and again. Objects alive before the import are set
    aside for its duration (``gc.freeze``) and the youngest generation runs less often;
    a batch's garbage is still collected, so memory stays as flat as before.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], 50_000), thresholds[1], thresholds[2])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


class _Superseded(Exception):
    """The import no longer stands where this process left it: another process has
    imported lines of it (or finished it) meanwhile."""

    def __init__(self, record: StatementImport) -> None:
        super().__init__(record.status.value)
        self.status = record.status


class _Importer:
    """Applies the lines of one import, a batch per transaction.

    ``adapters.statement_quarantine`` builds on it to try quarantined lines again: it
    overrides ``claim``, ``quarantine``, ``applied`` and ``record_progress``.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        clock: Clock,
        provider: str,
        report: ImportReport,
        batch_size: int,
    ) -> None:
        self.factory = factory
        self.clock = clock
        self.provider = provider
        self.report = report
        self.batch_size = batch_size
        self.cards: dict[str, CardRef | None] = {}
        self.statement_date: date | None = None
        self.done = report.lines  # the last line committed

    def run(self, handle: IO[bytes], progress: Callable[[int], None] | None) -> None:
        resume_after = self.report.lines
        lines = rows(handle, progress)
        first = next(lines, None)
        try:
            if first is None or first.fields != list(COLUMNS):
                self._reject("the first line is not the statement header: " + HEADER)
                return
            if resume_after == 0 and not self._names_a_known_card(handle):
                self._reject(
                    f"no line names a {self.provider} card: is --provider right? (nothing "
                    "was applied; import the file again with the right provider, or once "
                    "its cards are enrolled)"
                )
                return
            batch: list[_Line] = []
            for row in lines:
                if row.number <= resume_after:
                    continue
                # Read at once: the batch keeps what each line says, not its fields.
                batch.append(_Line(row.number, row.text, read(row)))
                if len(batch) >= self.batch_size:
                    self._commit_batch(batch)
                    batch = []
            self._commit_batch(batch, final=True)
        except _Superseded as superseded:
            done = {ImportStatus.COMPLETED: "finished", ImportStatus.REJECTED: "rejected"}
            self.report.stopped = (
                f"import {self.report.import_id} was {done[superseded.status]} by another process"
                if superseded.status in done
                else f"import {self.report.import_id} is being imported by another process"
            )

    def _names_a_known_card(self, handle: IO[bytes]) -> bool:
        """Whether some line names a card of this provider (or no line names a card at
        all). Reads the file only until the first such card, which is nearly always on
        its first lines; then puts the handle back where it was."""
        position = handle.tell()
        handle.seek(0)
        try:
            tokens: set[str] = set()
            for row in rows(handle):
                token = card_token_of(row) if row.number > 1 else None
                if token is not None and token not in self.cards:
                    tokens.add(token)
                if len(tokens) >= _TOKENS_AT_ONCE and self._any_known(tokens):
                    return True
            return self._any_known(tokens) or not self.cards
        finally:
            handle.seek(position)

    def _any_known(self, tokens: set[str]) -> bool:
        if not tokens:
            return False
        with self.factory() as session, session.begin():
            found = cards_repo.card_refs(session, self.provider, tokens)
        for token in tokens:
            self.cards[token] = found.get(token)
        tokens.clear()
        return bool(found)

    def claim(self, session: Session) -> StatementImport:
        """Lock the import's row for this transaction; stop if another process has moved
        it on since this one last committed."""
        record = statements_repo.lock_import(session, self.report.import_id)
        if record.status is not ImportStatus.IN_PROGRESS or record.lines_done != self.done:
            raise _Superseded(record)
        return record

    def _commit_batch(self, batch: list[_Line], final: bool = False) -> None:
        counts = _Counts()
        session = self.factory()
        try:
            with session.begin():
                record = self.claim(session)  # before the ledger's head: a lock order
                # The ledger keeps the batch's postings in memory and writes them together.
                with postings.deferred(session):
                    self._apply_batch(session, batch, counts, careful=False)
                self.record_progress(session, record, batch, counts, final)
        except _Retry:
            session.close()
            session = self.factory()
            counts = _Counts()
            with session.begin():
                record = self.claim(session)
                self._apply_batch(session, batch, counts, careful=True)
                self.record_progress(session, record, batch, counts, final)
        finally:
            session.close()
        if batch:
            self.done = batch[-1].number
        counts.add_to(self.report)

    def _apply_batch(
        self,
        session: Session,
        batch: Sequence[_Line],
        counts: _Counts,
        *,
        careful: bool,
    ) -> None:
        applier = EventApplier(
            session, self.clock, provider=self.provider, cards=lambda t: self._card(session, t)
        )
        self._cards(session, [r.line.card_token for r in batch if not isinstance(r.line, str)])
        if not careful:
            events = [r.line for r in batch if isinstance(r.line, CanonicalEvent)]
            # The batch's keys first, by the lookup that stays one probe a key however
            # many transfers the provider has (``statements_repo.idempotency_keys_used``).
            postings.prefetch_keys_with(
                session,
                self.provider,
                [keys.ledger_key(e.event_id) for e in events],
                partial(statements_repo.idempotency_keys_used, session, self.provider),
            )
            applier.prepare(events)
        # Closing balances change nothing, so a run of them is reconciled in one go, after
        # the lines before it and before the lines after it, as if one by one.
        run: list[tuple[_Line, ClosingBalance]] = []
        for row in batch:
            line = row.line
            if isinstance(line, str):
                self.quarantine(session, counts, row, line)
                continue
            if isinstance(line, ClosingBalance) and not careful:
                run.append((row, line))
                continue
            if run:
                self._reconcile(session, run, counts)
                run = []
            try:
                if careful or (isinstance(line, CanonicalEvent) and line.payment_id):
                    postings.write_pending(session)  # a savepoint cannot hold them back
                    with session.begin_nested():
                        self._apply_line(session, applier, row, line, counts)
                else:
                    self._apply_line(session, applier, row, line, counts)
            except DomainError as error:
                self.quarantine(session, counts, row, f"{error.code}: {error.detail}")
            except Exception as error:
                if not careful:
                    raise _Retry() from error
                self.quarantine(session, counts, row, f"error: {type(error).__name__}: {error}")
        if run:
            self._reconcile(session, run, counts)
        counts.problems.sort()

    def _apply_line(
        self, session: Session, applier: EventApplier, row: _Line, line: Line, counts: _Counts
    ) -> None:
        if isinstance(line, ClosingBalance):
            self._reconcile(session, [(row, line)], counts)
            return
        outcome = applier.apply(line)
        if outcome.status is InboxStatus.DUPLICATE:
            counts.duplicate += 1
        else:
            counts.applied += 1
        self.applied(row, outcome.status)

    def applied(self, row: _Line, status: InboxStatus) -> None:
        """A line applied (``DUPLICATE``: its effect was already there), or a closing
        balance reconciled (``APPLIED``). An import needs no more than its counts."""

    def _reconcile(
        self, session: Session, run: list[tuple[_Line, ClosingBalance]], counts: _Counts
    ) -> None:
        """Reconcile closing balances against the ledger, a few statements for the run."""
        checked: list[tuple[_Line, ClosingBalance, CardRef]] = []
        for row, line in run:
            card = self._card(session, line.card_token)
            if card is None:
                error = UnknownCard(f"no {self.provider} card with token {line.card_token!r}")
                self.quarantine(session, counts, row, f"{error.code}: {error.detail}")
            else:
                checked.append((row, line, card))
        if not checked:
            return
        # What the budget owes beyond zero sits in its arrears account.
        arrears = cards_repo.arrears_account_ids(
            session, [card.account_id for _, _, card in checked if card.pot_id is None]
        )
        source = f"statement:{self.provider}"
        balances: dict[date, dict[int, int]] = {}
        with_breaks: dict[date, set[int]] = {}
        for day in sorted({line.as_of for _, line, _ in checked}):
            accounts = [c.account_id for _, line, c in checked if line.as_of == day]
            accounts += [arrears[a] for a in accounts if a in arrears]
            end_of_day = london_midnight(day + timedelta(days=1))
            balances[day] = balances_repo.posted_balances_at(session, accounts, end_of_day)
            with_breaks[day] = statements_repo.cards_with_breaks(
                session, source, [c.card_id for _, line, c in checked if line.as_of == day], day
            )
        breaks: list[dict[str, Any]] = []
        for row, line, card in checked:
            on_the_day = balances[line.as_of]
            if card.account_id not in on_the_day:
                missing = UnknownRecord(f"account {card.account_id} does not exist")
                self.quarantine(session, counts, row, f"{missing.code}: {missing.detail}")
                continue
            ledger_balance = on_the_day[card.account_id]
            if card.pot_id is None and card.account_id in arrears:
                ledger_balance += on_the_day.get(arrears[card.account_id], 0)
            counts.balances_checked += 1
            self.applied(row, InboxStatus.APPLIED)
            self.statement_date = max(self.statement_date or line.as_of, line.as_of)
            if ledger_balance == line.balance or card.card_id in with_breaks[line.as_of]:
                continue
            with_breaks[line.as_of].add(card.card_id)  # once per card and day
            breaks.append(
                {
                    "source": source,
                    "card_id": card.card_id,
                    "account_id": card.account_id,
                    "as_of": line.as_of,
                    "provider_balance": line.balance,
                    "ledger_balance": ledger_balance,
                    "detected_at": self.clock.now(),
                    "detail": (
                        f"closing balance {line.balance}p on the statement, "
                        f"{ledger_balance}p in the ledger at the end of {line.as_of}"
                    ),
                }
            )
            counts.breaks += 1
        statements_repo.record_breaks(session, breaks)

    def _cards(self, session: Session, tokens: list[str]) -> None:
        """Look up, in a few statements, the cards of a batch not looked up before."""
        missing = {t for t in tokens if t not in self.cards}
        if not missing:
            return
        if len(self.cards) + len(missing) > _CARD_CACHE_LIMIT:
            self.cards.clear()
            missing = set(tokens)
        found = cards_repo.card_refs(session, self.provider, missing)
        for token in missing:
            self.cards[token] = found.get(token)

    def _card(self, session: Session, token: str) -> CardRef | None:
        if token not in self.cards:
            if len(self.cards) >= _CARD_CACHE_LIMIT:
                self.cards.clear()
            self.cards[token] = cards_repo.card_ref(session, self.provider, token)
        return self.cards[token]

    def quarantine(self, session: Session, counts: _Counts, row: _Line, reason: str) -> None:
        session.add(
            QuarantinedLine(
                import_id=self.report.import_id,
                line_number=row.number,
                # A line too long to be one is kept just too long, so it reads the same.
                raw_line=row.text[: MAX_LINE + 1],
                reason=reason[:500],
                quarantined_at=self.clock.now(),
            )
        )
        counts.note_problem(self.report, row.number, reason)

    def record_progress(
        self,
        session: Session,
        record: StatementImport,
        batch: Sequence[_Line],
        counts: _Counts,
        final: bool,
    ) -> None:
        if batch:
            record.lines_done = batch[-1].number
        record.lines_applied += counts.applied
        record.lines_duplicate += counts.duplicate
        record.lines_quarantined += counts.quarantined
        record.balances_checked += counts.balances_checked
        record.breaks += counts.breaks
        if self.statement_date is not None:
            record.statement_date = max(
                record.statement_date or self.statement_date, self.statement_date
            )
        if final:
            record.status = ImportStatus.COMPLETED
            record.finished_at = self.clock.now()

    def _reject(self, reason: str) -> None:
        with self.factory() as session, session.begin():
            record = self.claim(session)
            record.status = ImportStatus.REJECTED
            record.reason = reason[:500]
            record.finished_at = self.clock.now()
        self.report.rejected = reason
        self.report.problems.append((1, reason))


class _Retry(Exception):
    """The batch met something unexpected: run it again line by line."""


@dataclass
class _Counts:
    applied: int = 0
    duplicate: int = 0
    quarantined: int = 0
    balances_checked: int = 0
    breaks: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)

    def note_problem(self, report: ImportReport, line_number: int, reason: str) -> None:
        self.quarantined += 1
        if len(report.problems) + len(self.problems) < 20:
            self.problems.append((line_number, reason))

    def add_to(self, report: ImportReport) -> None:
        report.applied += self.applied
        report.duplicate += self.duplicate
        report.quarantined += self.quarantined
        report.balances_checked += self.balances_checked
        report.breaks += self.breaks
        report.problems.extend(self.problems)


class _Line(NamedTuple):
    """One line of a batch: its number and text, and what it says (or why it is bad)."""

    number: int
    text: str
    line: Line | str

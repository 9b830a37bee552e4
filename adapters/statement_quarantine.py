"""Quarantined statement lines, tried again once the cause is fixed
(``dpledger import --retry-quarantined``).

A line is quarantined when it cannot be read or applied. When the cause lies outside
the line (its card was not enrolled yet, say), trying it again applies it, exactly as the
import would have: read from the text kept in the quarantine, applied through the same
code. Lines are tried in line order, each in a savepoint of its own, a batch of lines a
transaction, under the import's row lock (as an import's batches are), so two retries at
once never try one line twice:

- a line that applies is marked ``applied`` (``duplicate`` when its effect was already
  there, brought by a webhook or another file meanwhile) and is never tried again;
- a line that still fails stays quarantined with the latest reason, and its attempts are
  counted. A line that is not UTF-8 is kept with its bad bytes replaced, so it is never
  applied: it stays quarantined as it was.

The import's counts follow: applied or duplicate lines move there from the quarantined.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from adapters.models import (
    ImportStatus,
    InboxStatus,
    QuarantinedLine,
    QuarantineStatus,
    StatementImport,
)
from adapters.repositories import statements as statements_repo
from adapters.statement_file import BATCH_SIZE, ImportReport, _Counts, _Importer, _Line
from adapters.statement_lines import NOT_UTF8, Line, read, row_of
from ledger.clock import Clock
from ledger.errors import DomainError, UnknownRecord


class ImportNotRetryable(DomainError):
    """The import's lines cannot be tried again yet (or ever): the detail says why."""

    code = "import_not_retryable"
    title = "The import's quarantined lines cannot be tried again"
    http_status = 409


def retry_quarantined(
    factory: sessionmaker[Session],
    clock: Clock,
    import_id: int,
    *,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Try an import's quarantined lines again; commits once per batch of lines.

    The report counts the lines tried (``lines``), those applied, those found already
    recorded (``duplicate``), the closing balances reconciled and breaks recorded, and
    the lines still quarantined (``quarantined``, with the first few reasons in
    ``problems``). Raises ``UnknownRecord`` for no such import, ``ImportNotRetryable``
    for one rejected or not finished.
    """
    with factory() as session:
        record = statements_repo.find_import(session, import_id)
        if record is None:
            raise UnknownRecord(f"no statement import {import_id}", import_id=import_id)
        if record.status is ImportStatus.REJECTED:
            raise ImportNotRetryable(
                f"import {import_id} was rejected, nothing of it applied: {record.reason}",
                import_id=import_id,
            )
        if record.status is not ImportStatus.COMPLETED:
            raise ImportNotRetryable(
                f"import {import_id} is not finished: it is being imported, or was "
                "interrupted (import the file again to finish it first)",
                import_id=import_id,
            )
        report = ImportReport(import_id=import_id, provider=record.provider, lines=0)
    _Retrier(factory, clock, report.provider, report, batch_size).run_all()
    return report


class _Retrier(_Importer):
    """The import's machinery, over the quarantine instead of the file."""

    waiting: dict[int, QuarantinedLine]

    def run_all(self) -> None:
        after = 0
        while True:
            counts = _Counts()
            with self.factory() as session, session.begin():
                record = self.claim(session)
                found = statements_repo.quarantined(
                    session,
                    self.report.import_id,
                    status=QuarantineStatus.QUARANTINED,
                    after_line=after,
                    limit=self.batch_size,
                    lock=True,
                )
                if not found:
                    return
                self.waiting = {q.line_number: q for q in found}
                batch = [_Line(q.line_number, q.raw_line, _again(q)) for q in found]
                self._apply_batch(session, batch, counts, careful=True)
                self.record_progress(session, record, batch, counts, final=False)
            after = found[-1].line_number
            self.report.lines += len(found)
            counts.add_to(self.report)

    def claim(self, session: Session) -> StatementImport:
        # A finished import stays finished: the lock is all a retry needs.
        return statements_repo.lock_import(session, self.report.import_id)

    def applied(self, row: _Line, status: InboxStatus) -> None:
        line = self.waiting[row.number]
        line.status = (
            QuarantineStatus.DUPLICATE
            if status is InboxStatus.DUPLICATE
            else QuarantineStatus.APPLIED
        )
        line.attempts += 1
        line.resolved_at = self.clock.now()

    def quarantine(self, session: Session, counts: _Counts, row: _Line, reason: str) -> None:
        # Also after ``applied``, if the line's savepoint then failed: it stays quarantined.
        line = self.waiting[row.number]
        line.status = QuarantineStatus.QUARANTINED
        line.resolved_at = None
        line.reason = reason[:500]
        line.attempts += 1
        counts.note_problem(self.report, row.number, reason)

    def record_progress(
        self,
        session: Session,
        record: StatementImport,
        batch: object,
        counts: _Counts,
        final: bool,
    ) -> None:
        record.lines_applied += counts.applied
        record.lines_duplicate += counts.duplicate
        record.balances_checked += counts.balances_checked
        record.breaks += counts.breaks
        record.lines_quarantined -= len(self.waiting) - counts.quarantined


def _again(line: QuarantinedLine) -> Line | str:
    """What a quarantined line says, read as the import read it."""
    if line.reason == NOT_UTF8:
        return line.reason
    return read(row_of(line.line_number, line.raw_line))

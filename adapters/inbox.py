"""The inbox: every provider event is stored raw before it is applied.

- ``store`` keeps the delivery byte for byte (with the headers needed to verify it) and
  one inbox row per provider event, unique by (provider, provider event id): a retry or a
  duplicate finds the row already there.
- ``apply_event`` applies one stored event in one transaction (a savepoint inside the
  caller's) and records the outcome: applied, duplicate, ignored, or parked with a reason.
- ``deliver`` is the whole of it for a webhook: store and commit, then apply each new (or
  still unapplied) event and commit. A crash between the two loses nothing: the event
  stays ``received`` and ``replay`` applies it later: the scheduler's ``inbox_replay`` job
  (``replay_unapplied``) once the provider's real-time deadline has passed, or
  ``dpledger inbox replay``.

Durability on PostgreSQL (see ``_defer_flush`` and ``make_durable``): the
commits of a delivery do not wait for the disk, and the delivery waits once, after its
last commit and before anything is answered, until the write-ahead log holds everything
it committed or read. So the ledger's locks (the chain head, above all) are released
before the disk flush instead of after it, and no answer is ever given from a state a
crash could lose.

``deliver`` and ``replay`` own their transactions (they commit); the rest flush only.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, Row, Table, text
from sqlalchemy.orm import Session, sessionmaker

from adapters import keys
from adapters.apply import EventApplier
from adapters.authorisation import AuthorisationPolicy, Decision
from adapters.canonical import CanonicalEvent
from adapters.formats import Ignore, RawEvent, format_for
from adapters.models import UNAPPLIED, InboundEvent, InboxStatus
from adapters.payments import Outcome, recorded_decision
from adapters.repositories import inbox as inbox_repo
from adapters.repositories import rows
from ledger import hot_sql
from ledger.clock import Clock
from ledger.errors import DomainError, LedgerWriteFailed

log = logging.getLogger(__name__)

# Stripe and Marqeta wait about 2 s for a real-time answer.
REALTIME_DEADLINE = timedelta(seconds=2)

_EVENTS: Table = InboundEvent.__table__  # type: ignore[assignment]

Responder = Callable[[RawEvent, Outcome], dict[str, Any] | None]


@dataclass(frozen=True)
class StoredEvent:
    inbox_id: int
    raw: RawEvent
    new: bool  # stored by this delivery (not a redelivery)


@dataclass(frozen=True)
class Delivered:
    """One event of a delivery and what became of it."""

    inbox_id: int
    provider_event_id: str
    event_type: str
    status: InboxStatus
    reason: str | None
    response: dict[str, Any] | None = None


def store(
    session: Session,
    *,
    provider: str,
    channel: str,
    body: bytes,
    headers: Mapping[str, str],
    received_at: datetime,
    events: Sequence[RawEvent],
    commit_without_waiting: bool = False,
) -> list[StoredEvent]:
    """Store the delivery and its events not seen before. Flushes, never commits.

    A delivery whose events are all known already is not stored again.
    ``commit_without_waiting``: see ``_defer_flush`` (for ``deliver`` only).
    """
    if len(events) == 1 and _on_postgresql(session):
        return [
            _store_one(
                session, provider, channel, body, headers, received_at, events[0],
                commit_without_waiting=commit_without_waiting,
            )
        ]  # fmt: skip
    if commit_without_waiting:
        _defer_flush(session)
    known = inbox_repo.find_events(session, provider, [raw.provider_event_id for raw in events])
    out: list[StoredEvent] = []
    delivery_id: int | None = None
    for raw in events:
        existing = known.get(keys.fit(raw.provider_event_id))
        if existing is not None:
            out.append(StoredEvent(existing, raw, new=False))
            continue
        if delivery_id is None:
            delivery_id = inbox_repo.insert_delivery(
                session,
                provider=provider,
                channel=channel,
                body=body,
                body_sha256=hashlib.sha256(body).hexdigest(),
                headers=dict(headers),
                received_at=received_at,
            )
        inbox_id = rows.insert_new(
            session,
            _EVENTS,
            {
                "delivery_id": delivery_id,
                "position": raw.position,
                "provider": provider,
                "provider_event_id": keys.fit(raw.provider_event_id),
                "event_type": raw.event_type[:100],
                "received_at": received_at,
                "status": InboxStatus.RECEIVED,
                "attempts": 0,
            },
        )
        if inbox_id is None:
            # The same event arriving at the same moment by another delivery.
            found = inbox_repo.find_event(session, provider, keys.fit(raw.provider_event_id))
            assert found is not None
            out.append(StoredEvent(found.id, raw, new=False))
            continue
        out.append(StoredEvent(inbox_id, raw, new=True))
    return out


def _store_one(
    session: Session,
    provider: str,
    channel: str,
    body: bytes,
    headers: Mapping[str, str],
    received_at: datetime,
    raw: RawEvent,
    *,
    commit_without_waiting: bool,
    on: Connection | None = None,
) -> StoredEvent:
    """``store`` for a delivery of one event (every real-time request), on PostgreSQL: one
    statement (with the ``_defer_flush`` setting, when asked for); run on ``on`` (a
    connection in autocommit, past the session) when given."""
    event_id = keys.fit(raw.provider_event_id)
    inbox_id = inbox_repo.insert_single_event_delivery(
        on if on is not None else session,
        delivery={
            "provider": provider,
            "channel": channel,
            "body": body,
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "headers": dict(headers),
            "received_at": received_at,
        },
        event={
            "position": raw.position,
            "provider": provider,
            "provider_event_id": event_id,
            "event_type": raw.event_type[:100],
            "received_at": received_at,
            "status": InboxStatus.RECEIVED,
            "attempts": 0,
        },
        commit_without_waiting=commit_without_waiting,
    )
    if inbox_id is not None:
        return StoredEvent(inbox_id, raw, new=True)
    found = inbox_repo.find_event(session, provider, event_id)
    assert found is not None  # stored before, or just now by a concurrent delivery
    return StoredEvent(found.id, raw, new=False)


def apply_event(
    session: Session,
    inbox_id: int,
    clock: Clock,
    *,
    live: bool = False,
    policy: AuthorisationPolicy | None = None,
    respond: Responder | None = None,
    raw: tuple[RawEvent, str] | None = None,
    leave_young: bool = False,
    isolated: bool = True,
    commit_without_waiting: bool = False,
) -> Delivered:
    """Apply one stored event, once: an event already applied, ignored or found a
    duplicate is left as it is. Flushes, never commits.

    ``raw`` is the event and its channel when the caller has just read them from the
    delivery (saves reading the stored body again). ``leave_young`` (replays): an event
    received within the real-time deadline is left to the delivery that stored it, which
    is applying it now and must answer the provider from its own decision.

    ``isolated``: the event is applied in a savepoint, so a ``DomainError`` parks it in
    the caller's transaction. Without (``deliver``: two statements fewer on the real-time
    path), the ``DomainError`` is raised and the caller must roll back the transaction.

    ``commit_without_waiting``: the transaction commits without waiting for the disk
    (``_defer_flush``; set in the statement that locks the event), for ``deliver``."""
    row = inbox_repo.lock_event_row(
        session, inbox_id, commit_without_waiting=commit_without_waiting
    )
    if row is None:
        raise DomainError(f"no inbox event {inbox_id}")
    if row.status not in UNAPPLIED:
        return _delivered(row)
    now = clock.now()
    if (
        leave_young
        and row.status is InboxStatus.RECEIVED
        and now - row.received_at <= REALTIME_DEADLINE
    ):
        return _delivered(row)
    # Still within the provider's deadline (a concurrent duplicate delivery, say), a
    # real-time request may be decided by whoever gets here first.
    live = live or (
        row.status is InboxStatus.RECEIVED and now - row.received_at <= REALTIME_DEADLINE
    )
    stored = raw or _raw_of(session, row)
    try:
        if isolated:
            with session.begin_nested():
                outcome = _apply(session, clock, row, stored, live=live, policy=policy)
        else:
            outcome = _apply(session, clock, row, stored, live=live, policy=policy)
    except DomainError as error:
        if not isolated:
            raise
        outcome = Outcome(InboxStatus.PARKED, f"{error.code}: {error.detail}")
    now = clock.now()
    attempt: dict[str, Any] = {
        "attempts": row.attempts + 1,
        "last_attempt_at": now,
        "status": outcome.status,
        "reason": (outcome.detail or "")[:500] or None,
        "applied_at": None if outcome.status is InboxStatus.PARKED else now,
    }
    if respond is not None and stored is not None:
        attempt["response"] = respond(stored[0], outcome)
    session.flush()  # what the apply left in the ORM (cheap when nothing)
    inbox_repo.record_attempt(session, inbox_id, **attempt)
    return Delivered(
        inbox_id=row.id,
        provider_event_id=row.provider_event_id,
        event_type=row.event_type,
        status=outcome.status,
        reason=attempt["reason"],
        response=attempt.get("response", row.response),
    )


def _apply(
    session: Session,
    clock: Clock,
    row: Row[Any],
    stored: tuple[RawEvent, str] | None,
    *,
    live: bool,
    policy: AuthorisationPolicy | None,
) -> Outcome:
    if stored is None:
        return Outcome(InboxStatus.PARKED, "the stored delivery no longer holds this event")
    raw, channel = stored
    canonical = format_for(row.provider, channel).to_canonical(raw)
    if isinstance(canonical, Ignore):
        return Outcome(InboxStatus.IGNORED, canonical.reason)
    applier = EventApplier(session, clock, provider=row.provider, policy=policy)
    return applier.apply(canonical, inbound_event_id=row.id, live=live)


def _raw_of(session: Session, row: Row[Any]) -> tuple[RawEvent, str] | None:
    """The stored event as the provider sent it, and the channel it came by."""
    delivery = inbox_repo.get_delivery(session, row.delivery_id)
    if delivery is None:
        return None
    try:
        events = format_for(row.provider, delivery.channel).split(delivery.body, delivery.channel)
    except DomainError:
        return None
    for raw in events:
        if (
            raw.position == row.position
            and keys.fit(raw.provider_event_id) == row.provider_event_id
        ):
            return raw, delivery.channel
    return None


def _delivered(row: Row[Any]) -> Delivered:
    return Delivered(
        inbox_id=row.id,
        provider_event_id=row.provider_event_id,
        event_type=row.event_type,
        status=row.status,
        reason=row.reason,
        response=row.response,
    )


def deliver(
    session: Session,
    clock: Clock,
    *,
    provider: str,
    channel: str,
    body: bytes,
    headers: Mapping[str, str],
    events: Sequence[RawEvent],
    policy: AuthorisationPolicy | None = None,
    respond: Responder | None = None,
) -> list[Delivered]:
    """Store a verified delivery (commit), then apply its unapplied events, each in its own
    transaction (commit), then wait until all of it is durable (``make_durable``). Only
    events new in this delivery are applied ``live``.

    An event the ledger refuses (a ``DomainError``) is parked with the reason, in a
    transaction of its own after the refused one is rolled back. An unexpected error
    while applying parks the event with the error and is raised again (the provider
    should retry; the retry applies the event again).
    """
    if not _own_transactions(session):
        return _deliver(
            session, clock, None, provider, channel, body, headers, events, policy, respond
        )
    with _one_connection(session) as connection:
        return _deliver(
            session, clock, connection, provider, channel, body, headers, events, policy, respond
        )


def _deliver(
    session: Session,
    clock: Clock,
    connection: Connection | None,
    provider: str,
    channel: str,
    body: bytes,
    headers: Mapping[str, str],
    events: Sequence[RawEvent],
    policy: AuthorisationPolicy | None,
    respond: Responder | None,
) -> list[Delivered]:
    """``deliver``; ``connection``: the one connection the session is bound to for the
    delivery (``_one_connection``), or None (the session's own binding)."""
    if connection is not None and len(events) == 1:
        # On PostgreSQL a single event is stored in one statement (``_store_one``): run it
        # as its own transaction (autocommit), without a BEGIN and a COMMIT round trip,
        # on the connection itself (the session has no transaction to begin and end).
        with hot_sql.autocommit(connection):
            stored = [
                _store_one(
                    session, provider, channel, body, headers, clock.now(), events[0],
                    commit_without_waiting=True, on=connection,
                )
            ]  # fmt: skip
            if session.in_transaction():  # a redelivery's lookup began one
                session.commit()
    else:
        stored = store(
            session,
            provider=provider,
            channel=channel,
            body=body,
            headers=headers,
            received_at=clock.now(),
            events=events,
            commit_without_waiting=True,
        )
        session.commit()
    out = []
    for item in stored:
        apply = partial(
            _apply_and_commit,
            session,
            item.inbox_id,
            clock,
            live=item.new,
            policy=policy,
            respond=respond,
            raw=(item.raw, channel),
        )
        try:
            try:
                out.append(apply(isolated=False))
            except DomainError:
                # Refused: nothing of it stays. Apply it again in a savepoint, which
                # parks it with the reason (or finds another delivery has applied it).
                session.rollback()
                out.append(apply(isolated=True))
        except Exception as error:
            session.rollback()
            _park_after_error(session, item.inbox_id, clock, error)
            raise
    if connection is None:
        make_durable(session)
    else:
        # The barrier in autocommit, on the delivery's connection (see ``make_durable``).
        hot_sql.execute_between_transactions(connection, _BARRIER)
    return out


@contextmanager
def _one_connection(session: Session) -> Iterator[Connection]:
    """The session bound, for the delivery, to one connection from its engine: its
    transactions (the store, the apply, the barrier) follow each other on that connection,
    checked out (and, with ``pool_pre_ping``, pinged) once, not once each. The session
    has no transaction in progress (``_own_transactions``); it is left with none, bound to
    its engine again."""
    engine = session.get_bind()
    assert isinstance(engine, Engine), "a delivery's session is bound to its engine"
    with engine.connect() as connection:
        session.bind = connection
        try:
            yield connection
        finally:
            try:
                if session.in_transaction():
                    session.rollback()
            finally:
                session.bind = engine


def _apply_and_commit(session: Session, inbox_id: int, clock: Clock, **options: Any) -> Delivered:
    """``apply_event`` in a transaction of its own that commits without waiting for the
    disk (``_defer_flush``)."""
    result = apply_event(session, inbox_id, clock, commit_without_waiting=True, **options)
    session.commit()
    return result


def _on_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _own_transactions(session: Session) -> bool:
    """PostgreSQL, a session that takes its connections from an engine (not one joined
    to a caller's transaction, as in the tests) and has no transaction in progress."""
    return (
        _on_postgresql(session)
        and isinstance(session.get_bind(), Engine)
        and not session.in_transaction()
    )


def _defer_flush(session: Session) -> None:
    """PostgreSQL: the transaction (about to begin, or begun) commits without waiting for
    the disk.

    The commit is visible at once and its locks are released; a crash before the log
    reaches the disk could lose it. So it is only for ``deliver``, which answers nothing
    before ``make_durable``: PostgreSQL writes its log in order, so a crash can lose only
    work never answered (which the provider therefore sends again or, for a real-time
    request, settles by its own timeout rule), and any later transaction that commits
    durably (one that saw this commit's effects among them) makes this one durable too.
    What it saves: the commit that releases the ledger's chain-head lock no longer holds
    that lock through a disk flush (3 ms typically, tens of ms on a busy disk), during
    which every other posting waits.
    """
    if _on_postgresql(session):
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))


def durable_recorded_decision(
    session: Session, provider: str, event: object, *, what: str
) -> Decision | None:
    """For a real-time request that another delivery applied without answering: the
    decision recorded for it, once a crash cannot take it back (``make_durable``). None
    when none was recorded, ``event`` is not a canonical event, or the database fails us
    (logged, naming ``what``): the caller answers None with a decline, never an approval.

    Ends the session's transaction before the barrier, so its connection goes back to the
    pool before the barrier takes one (holding one while waiting for another can starve a
    busy pool) and SQLite's write lock is released."""
    try:
        decision = (
            recorded_decision(session, provider, event)
            if isinstance(event, CanonicalEvent)
            else None
        )
        session.commit()
        make_durable(session)
    except Exception:
        log.exception("%s: its recorded decision could not be read and made durable", what)
        with suppress(Exception):
            session.rollback()
        return None
    return decision


def make_durable(session: Session) -> None:
    """PostgreSQL: return once everything committed so far (by this delivery, or by any
    transaction whose effects it read) is on disk, waiting for at most one flush, shared
    with any other transaction flushing at the time. Call before answering from the
    database after commits that did not wait (``_defer_flush``).

    PostgreSQL flushes its log, in order, up to the commit record of a transaction that
    wrote to the log and commits with ``synchronous_commit`` as configured (normally on):
    the barrier is such a transaction, one logical-decoding message (any user may write
    one; it touches no table, and it is its own transaction in autocommit: one round
    trip), on a connection of its own when the session is bound to an engine, else in the
    session's transaction (tests). SQLite: nothing to do (nothing there commits without
    waiting)."""
    if not _on_postgresql(session):
        return
    bind = session.get_bind()
    if isinstance(bind, Engine):
        with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(_BARRIER)
        return
    session.execute(text(_BARRIER))
    session.commit()


# A transactional message: it takes a transaction id, so its commit record is flushed.
_BARRIER = "SELECT pg_logical_emit_message(true, 'dpledger.durable', '')"


def _park_after_error(session: Session, inbox_id: int, clock: Clock, error: Exception) -> None:
    log.exception("applying inbox event %s failed", inbox_id)
    try:
        row = inbox_repo.lock_event(session, inbox_id)
        if row is not None and row.status in UNAPPLIED:
            row.status = InboxStatus.PARKED
            row.attempts += 1
            row.last_attempt_at = clock.now()
            row.reason = f"error: {type(error).__name__}: {error}"[:500]
        session.commit()
    except Exception:
        session.rollback()
        log.exception("could not record the failure of inbox event %s", inbox_id)


@dataclass
class ReplayReport:
    outcomes: dict[InboxStatus, int] = field(default_factory=dict)
    failed: list[tuple[int, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.outcomes.values()) + len(self.failed)


def replay(
    factory: sessionmaker[Session],
    clock: Clock,
    *,
    statuses: Sequence[InboxStatus] = UNAPPLIED,
    event_ids: Sequence[int] | None = None,
    provider: str | None = None,
    policy: AuthorisationPolicy | None = None,
    on_event: Callable[[Delivered], None] | None = None,
) -> ReplayReport:
    """Apply stored events not yet applied (received after a crash, or parked), oldest
    first, each in its own transaction. A real-time request is never decided late, and an
    event received within the real-time deadline is left to the delivery applying it."""
    report = ReplayReport()
    ids: Sequence[int]
    after = 0
    while True:
        if event_ids is not None:
            ids, event_ids = list(event_ids), []
        else:
            with factory() as session:
                ids = inbox_repo.unapplied_ids(session, statuses, provider=provider, after_id=after)
        if not ids:
            return report
        for inbox_id in ids:
            after = max(after, inbox_id)
            with factory() as session:
                try:
                    with session.begin():
                        result = apply_event(
                            session, inbox_id, clock, policy=policy, leave_young=True
                        )
                except Exception as error:
                    report.failed.append((inbox_id, f"{type(error).__name__}: {error}"))
                    _park_after_error(session, inbox_id, clock, error)
                    continue
            report.outcomes[result.status] = report.outcomes.get(result.status, 0) + 1
            if on_event is not None:
                on_event(result)


# Parked for a cause that may pass by itself (the database was unreachable, locked or
# chose this transaction to abort): worth trying again without anyone fixing anything.
_TRANSIENT_ERRORS = frozenset(
    {
        "OperationalError",
        "InterfaceError",
        "DisconnectionError",
        "TimeoutError",
        "ConnectionError",
        "DeadlockDetected",
        "SerializationFailure",
        "LockNotAvailable",
    }
)
# Domain refusals that are the database's, not the event's: ``LedgerWriteFailed`` (the
# database refused the ledger's writes after every check had passed: a lost connection,
# a lock timeout). Parked with their code like any refusal, and tried again like an error.
_TRANSIENT_CODES = frozenset({LedgerWriteFailed.code})
# How the reasons of events parked for such causes begin (for the replay's query).
_TRANSIENT_PREFIXES = ("error: ", *(f"{code}: " for code in sorted(_TRANSIENT_CODES)))


def is_transient(reason: str | None) -> bool:
    """Whether a parked event's reason is an error that may pass by itself."""
    prefix, _, rest = (reason or "").partition(": ")
    if prefix in _TRANSIENT_CODES:
        return True
    return prefix == "error" and rest.partition(":")[0].strip() in _TRANSIENT_ERRORS


def replay_unapplied(
    session: Session,
    clock: Clock,
    *,
    policy: AuthorisationPolicy | None = None,
    max_attempts: int = 5,
    limit: int = 500,
) -> ReplayReport:
    """The scheduler's ``inbox_replay``: apply stored events nobody applied, namely events
    still ``received`` after the real-time deadline (the process stopped between storing
    and applying them) and parked events whose reason is transient (a database error, or
    ``ledger_write_failed``: the database refused the ledger's writes), each tried at most
    ``max_attempts`` times. Events parked for a cause someone must fix
    (an unknown card, a card status to reconcile, a malformed payload) wait for
    ``dpledger inbox replay``.

    Each event is applied and committed in a transaction of its own, so the ledger's lock
    is held for one event at a time, never for the batch; ``session`` (the job's) is used
    only to reach its database, and is left untouched."""
    factory = sessionmaker(
        bind=session.get_bind(), expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    with factory() as lookup:
        candidates = inbox_repo.replay_candidates(
            lookup,
            received_before=clock.now() - REALTIME_DEADLINE,
            max_attempts=max_attempts,
            limit=limit,
            reason_prefixes=_TRANSIENT_PREFIXES,
        )
    ids = [
        i
        for i, status, reason in candidates
        if status is InboxStatus.RECEIVED or is_transient(reason)
    ]
    if not ids:
        return ReplayReport()
    return replay(factory, clock, event_ids=ids, policy=policy)

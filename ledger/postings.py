"""The posting engine: the only code that writes transfers and account totals.

Every posting, in one database transaction:

1. locks the chain head (``ledger_head``), which serialises postings across processes,
   makes transfer ids gap-free and in commit order, and makes every read below current;
2. looks up the idempotency key: the same key with the same request returns the
   original transfers, with another request raises ``IdempotencyConflict``;
3. checks every account (exists, open, no overdraft) for the whole linked set before
   writing anything, so linked transfers commit together or not at all;
4. updates the four running totals, inserts the transfers with their chain hashes and
   moves the head.

It flushes through the caller's session and never commits: the caller owns the unit
of work. The head row and the account rows read under its lock are cached for the rest
of the transaction (dropped when it ends, or when it or a savepoint is rolled back).

Few statements per posting: the first posting of a transaction locks the head and looks
up its key together; a card's account is read with the council's system accounts; what
a posting writes goes together (``HotPath.write``). Batches read ahead what their
postings will touch (``prefetch_keys``, ``prefetch_cards``, ``prefetch_arrears``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import String, Table, bindparam, event, select
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from ledger.chain import link_hash
from ledger.errors import (
    AccountClosed,
    HalfWrittenPosting,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    InvalidRecord,
    LedgerWriteFailed,
    SameAccount,
    UnknownRecord,
)
from ledger.hot_sql import KEY_OF_AN_AUTHORISATION, HotPath
from ledger.models import Account, AccountKind, Phase, Transfer, TransferCode
from ledger.repositories.accounts import SYSTEM_ACCOUNTS

_CACHE_KEY = "dpledger.ledger_cache"
_SYSTEM_KINDS = {kind.value: kind for kind in SYSTEM_ACCOUNTS}
_DEFERRING_KEY = "dpledger.deferring"
# The transaction (or savepoint) in which writing a posting failed: see ``write_pending``.
_HALF_WRITTEN_KEY = "dpledger.half_written"


class TransferSpec(NamedTuple):
    """What to post. ``pending`` is the hold a post_pending/void_pending resolves.

    Immutable, like a frozen dataclass, and several times cheaper to build (one is built
    for every transfer); change one with ``spec._replace(...)``."""

    debit_account_id: int
    credit_account_id: int
    amount: int
    code: TransferCode
    phase: Phase = Phase.POSTED
    pending_id: int | None = None
    pending_amount: int = 0
    reverses_id: int | None = None
    card_id: int | None = None
    merchant_name: str | None = None
    mcc: str | None = None
    category: str | None = None
    payee: str | None = None
    reference: str | None = None
    inbound_event_id: int | None = None


@dataclass(frozen=True)
class TransferRecord:
    """A transfer as written: immutable, like the row it mirrors."""

    id: int
    debit_account_id: int
    credit_account_id: int
    amount: int
    code: TransferCode
    phase: Phase
    pending_id: int | None
    reverses_id: int | None
    link_group: str | None
    idempotency_source: str
    idempotency_key: str
    request_digest: str
    effective_at: datetime
    created_at: datetime
    card_id: int | None
    merchant_name: str | None
    mcc: str | None
    category: str | None
    payee: str | None
    reference: str | None
    inbound_event_id: int | None
    chain_hash: str

    @classmethod
    def of(cls, transfer: Transfer) -> TransferRecord:
        return cls(**{f.name: getattr(transfer, f.name) for f in fields(cls)})

    @classmethod
    def _of_row(cls, row: dict[str, Any]) -> TransferRecord:
        """The record of a row the engine built (every field, nothing else), sharing the
        row's dict. A frozen dataclass's ``__init__`` sets each field through
        ``object.__setattr__``, a cost paid for every transfer an import writes; the row
        needs no checking, and nothing changes it once the record exists."""
        record = object.__new__(cls)
        object.__setattr__(record, "__dict__", row)
        return record


@dataclass
class _AccountState:
    id: int
    kind: AccountKind
    parent_id: int | None
    no_overdraft: bool
    closed: bool
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int

    @property
    def available(self) -> int:
        return self.credits_posted - self.debits_posted - self.debits_pending


@dataclass
class _Cache:
    """What the posting engine knows under the head lock, for this transaction only."""

    hot: HotPath
    head_id: int
    head_hash: str
    accounts: dict[int, _AccountState] = field(default_factory=dict)
    system_accounts: dict[AccountKind, int] = field(default_factory=dict)
    card_accounts: dict[int, int] = field(default_factory=dict)
    pot_accounts: dict[int, tuple[int, int]] = field(default_factory=dict)
    arrears_accounts: dict[int, int] = field(default_factory=dict)
    system_loaded: bool = False  # every system account that exists is in system_accounts
    # Keys a ``prefetch_keys`` call found unused, so posting them needs no lookup.
    unused_keys: set[tuple[str, str]] = field(default_factory=set)
    # Deferred mode (see ``deferred``): what is checked and chained but not yet written.
    pending_rows: list[dict[str, Any]] = field(default_factory=list)
    # Where each key's rows are in pending_rows (start, count): ints, which the garbage
    # collector need not follow, for every posting a batch holds.
    pending_keys: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    dirty_accounts: set[int] = field(default_factory=set)
    writing: bool = False


# The full-record reads of a replay go through SQLAlchemy (types converted for us); the
# hot statements of a new posting go through ledger.hot_sql.
_TRANSFERS = cast(Table, Transfer.__table__)
_KEY_LENGTH = cast(String, _TRANSFERS.c.idempotency_key.type).length or 200
_SOURCE_LENGTH = cast(String, _TRANSFERS.c.idempotency_source.type).length or 64
_LINK_GROUP_LENGTH = cast(String, _TRANSFERS.c.link_group.type).length or 64
_TRANSFER_COLUMNS = [_TRANSFERS.c[f.name] for f in fields(TransferRecord)]
_SELECT_BY_KEY = select(*_TRANSFER_COLUMNS).where(
    _TRANSFERS.c.idempotency_source == bindparam("source"),
    _TRANSFERS.c.idempotency_key == bindparam("key"),
)
_SELECT_LINKED = (
    select(*_TRANSFER_COLUMNS)
    .where(_TRANSFERS.c.link_group == bindparam("link_group"))
    .order_by(_TRANSFERS.c.id)
)


Builder = Callable[[], Sequence[TransferSpec]]


def link_key(key: str, index: int) -> str:
    """The idempotency key of the index-th transfer of a linked set (the first keeps it)."""
    return key if index == 0 else f"{key}#{index + 1}"


def _link_group(source: str, key: str) -> str:
    """What ties a linked set's transfers together: ``source:key``, or when that is longer
    than its column, its start, ``~`` and 40 hex digits of its SHA-256, the column's
    full length (a group that fits is always shorter, so the two kinds never meet). It
    is stored, and read back (``find_replay``), never worked out again."""
    group = f"{source}:{key}"
    if len(group) < _LINK_GROUP_LENGTH:
        return group
    digest = hashlib.sha256(group.encode()).hexdigest()[:40]
    return f"{group[: _LINK_GROUP_LENGTH - 41]}~{digest}"


def request_digest(request: Mapping[str, Any]) -> str:
    """A stable digest of what was asked for: the same request gives the same digest.

    Requests hold only str, int, bool, None and lists or tuples of them, whose repr is
    stable across runs and versions.
    """
    return hashlib.sha256(repr(sorted(request.items())).encode()).hexdigest()


def request_time(value: datetime | None) -> str | None:
    """A time as a request holds it (``request_digest``): the instant in UTC, so the same
    moment written in another zone is the same request; None when the caller gave none."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise InvalidRecord("a time must be timezone-aware (UTC inside the ledger)")
    return value.astimezone(UTC).isoformat()


def post(
    session: Session,
    *,
    source: str,
    key: str,
    request: Mapping[str, Any],
    build: Builder,
    effective_at: datetime,
    created_at: datetime,
) -> list[TransferRecord]:
    """Post what ``build`` returns: one transfer, or a linked set that commits all together
    or not at all.

    ``request`` describes what the caller asked for; it decides idempotency. If the key was
    used before with the same request, the transfers written then are returned and
    ``build`` is not called. With a different request, ``IdempotencyConflict``; also when
    a card authorisation has the key (within a source a key names one request, a posting
    or a decision: an approval's hold has its authorisation's key). Otherwise ``build``
    runs under the chain-head lock, so it sees current totals.

    A linked set's later transfers take the keys ``key#2`` … ``key#n`` (``link_key``):
    if one of those is taken, by a posting of its own or by another set, the set is an
    ``IdempotencyConflict``; so is a key that is a later transfer's of another set.

    Raises ``InsufficientFunds``, ``AccountClosed``, ``UnknownRecord``, ``SameAccount``,
    ``InvalidAmount``, ``InvalidRecord`` (a key too long for its column) or
    ``IdempotencyConflict`` (or what ``build`` raises); when it raises, nothing has been
    written. ``LedgerWriteFailed`` when the database refuses the writes after every check
    passed: the transaction may then hold part of the posting, and cannot be committed
    (see ``write_pending``).
    """
    if not key or not source:
        raise InvalidAmount("an idempotency source and key are required")
    if len(key) > _KEY_LENGTH or len(source) > _SOURCE_LENGTH:
        raise InvalidRecord(
            f"an idempotency key has at most {_KEY_LENGTH} characters and its source "
            f"{_SOURCE_LENGTH}",
            source=source[:_SOURCE_LENGTH],
        )
    digest = request_digest(request)
    session.flush()  # cheap when clean; the statements below bypass the ORM's autoflush
    cache = session.info.get(_CACHE_KEY) or _take_head(session, (source, key))

    existing = None
    waiting = cache.pending_keys.get((source, key))
    if waiting is not None:
        start, count = waiting
        existing = [
            TransferRecord._of_row(row) for row in cache.pending_rows[start : start + count]
        ]
    elif (source, key) in cache.unused_keys:
        cache.unused_keys.discard((source, key))
    elif (use := cache.hot.key_use(source, key)) == KEY_OF_AN_AUTHORISATION:
        raise IdempotencyConflict(
            f"idempotency key {key!r} from {source!r} was already used for a card authorisation",
            source=source,
            key=key,
        )
    elif use is not None:
        existing = find_replay(session, source, key)
    if existing is not None:
        if existing[0].idempotency_key != key:
            raise IdempotencyConflict(
                f"idempotency key {key!r} from {source!r} is the key of a later transfer of "
                f"the linked set posted under {existing[0].idempotency_key!r}",
                source=source,
                key=key,
            )
        if existing[0].request_digest != digest:
            raise IdempotencyConflict(
                f"idempotency key {key!r} from {source!r} was already used for a different request",
                source=source,
                key=key,
            )
        return existing

    specs = build()
    if not specs:
        raise InvalidAmount("nothing to post")
    cache = lock_head(session)  # build may have ended a savepoint of its own
    later_keys = _check_later_keys(cache, source, key, len(specs)) if len(specs) > 1 else []
    _check_all(session, cache, specs)

    link_group = _link_group(source, key) if later_keys else None
    rows: list[dict[str, Any]] = []
    head_id, head_hash = cache.head_id, cache.head_hash
    for index, spec in enumerate(specs):
        _apply_totals(session, cache, spec)
        head_id += 1
        row = {
            "id": head_id,
            "debit_account_id": spec.debit_account_id,
            "credit_account_id": spec.credit_account_id,
            "amount": spec.amount,
            "code": spec.code,
            "phase": spec.phase,
            "pending_id": spec.pending_id,
            "reverses_id": spec.reverses_id,
            "link_group": link_group,
            "idempotency_source": source,
            "idempotency_key": link_key(key, index),
            "request_digest": digest,
            "effective_at": effective_at,
            "created_at": created_at,
            "card_id": spec.card_id,
            "merchant_name": spec.merchant_name,
            "mcc": spec.mcc,
            "category": spec.category,
            "payee": spec.payee,
            "reference": spec.reference,
            "inbound_event_id": spec.inbound_event_id,
        }
        row["chain_hash"] = head_hash = link_hash(head_hash, row)
        rows.append(row)

    records = [TransferRecord._of_row(row) for row in rows]
    for later in later_keys:
        cache.unused_keys.discard((source, later))
    if _deferring(session):
        waiting = (len(cache.pending_rows), len(rows))
        cache.pending_keys[(source, key)] = waiting
        for later in later_keys:
            cache.pending_keys[(source, later)] = waiting
        cache.pending_rows += rows
        cache.head_id, cache.head_hash = head_id, head_hash
    else:
        # The head moves in the cache once the database has taken the rows.
        cache.pending_rows += rows
        write_pending(session, head=(head_id, head_hash))
    return records


def _check_later_keys(cache: _Cache, source: str, key: str, count: int) -> list[str]:
    """The keys of a linked set's later transfers, in one lookup at most: refuse the set
    if one of them is taken (a posting of its own, another set's, or too long)."""
    later = [link_key(key, index) for index in range(1, count)]
    if len(later[-1]) > _KEY_LENGTH:
        raise InvalidRecord(
            f"idempotency key {key!r} leaves no room in its column for the keys of the "
            f"{count} transfers of its linked set",
            source=source,
        )
    taken = [k for k in later if (source, k) in cache.pending_keys]
    unknown = [k for k in later if (source, k) not in cache.unused_keys]
    if not taken and unknown:
        taken = sorted(cache.hot.keys_used(source, unknown))
    if taken:
        raise IdempotencyConflict(
            f"idempotency key {key!r} from {source!r} needs {taken[0]!r} for a later "
            "transfer of its linked set, and that key was already used",
            source=source,
            key=key,
        )
    return later


@contextmanager
def deferred(session: Session) -> Iterator[None]:
    """Post many transfers with few statements (as TigerBeetle batches).

    Inside the block, postings are checked, chained and kept in memory under the head
    lock; they are written (one multi-row insert, one update per account touched, one
    head update) when the block ends, and before anything could see the database without
    them: any ORM query or flush, and commit. What ``post`` returned is in the
    transaction either way. A savepoint cannot begin while postings wait.
    """
    session.info[_DEFERRING_KEY] = session.info.get(_DEFERRING_KEY, 0) + 1
    try:
        yield
    except BaseException:
        _leave_deferred(session)
        # If this fails too, the transaction is broken and will be rolled back (and
        # write_pending has dropped the cache); the first error is the one to report.
        with suppress(Exception):
            write_pending(session)
        raise
    _leave_deferred(session)
    write_pending(session)


def _leave_deferred(session: Session) -> None:
    depth = session.info.get(_DEFERRING_KEY, 1) - 1
    if depth:
        session.info[_DEFERRING_KEY] = depth
    else:
        session.info.pop(_DEFERRING_KEY, None)


def _deferring(session: Session) -> bool:
    return _DEFERRING_KEY in session.info


def write_pending(session: Session, *, head: tuple[int, str] | None = None) -> None:
    """Write the postings a ``deferred`` block holds in memory, if any (``head``: where
    the chain stands after them, when the cache does not say so yet).

    The write phase is the only one that can fail half-way: some of its statements may
    have run when the database refuses another (a row written outside the ledger, a
    value too long for its column, a lost connection). Then the cache is dropped (it
    counts what the database may not hold), the transaction (or savepoint) is marked so
    that committing it, or releasing a savepoint around it, raises
    ``HalfWrittenPosting``, and the driver's error is raised as ``LedgerWriteFailed``.
    Rolling back the transaction, or the savepoint the failure happened in, clears it.
    """
    cache: _Cache | None = session.info.get(_CACHE_KEY)
    if cache is None or not cache.pending_rows or cache.writing:
        return
    head_id, head_hash = head or (cache.head_id, cache.head_hash)
    cache.writing = True
    try:
        _write(cache, head_id, head_hash)
    except BaseException as error:
        session.info.pop(_CACHE_KEY, None)
        session.info[_HALF_WRITTEN_KEY] = (
            session.get_nested_transaction() or session.get_transaction()
        )
        if isinstance(error, cache.hot.driver_error):
            raise LedgerWriteFailed(
                f"the database refused a posting's writes ({type(error).__name__}: "
                f"{str(error).splitlines()[0] if str(error) else ''}); the transaction "
                "must be rolled back"
            ) from error
        raise
    finally:
        cache.writing = False
    cache.head_id, cache.head_hash = head_id, head_hash


def _write(cache: _Cache, head_id: int, head_hash: str) -> None:
    rows, cache.pending_rows = cache.pending_rows, []
    cache.pending_keys.clear()
    dirty, cache.dirty_accounts = cache.dirty_accounts, set()
    accounts = cache.accounts
    cache.hot.write(
        rows,
        [
            (s.id, s.debits_pending, s.debits_posted, s.credits_pending, s.credits_posted)
            for s in (accounts[a] for a in sorted(dirty))
        ],
        head_id,
        head_hash,
    )


@event.listens_for(Session, "do_orm_execute")
def _write_before_reading(orm_execute_state: ORMExecuteState) -> None:
    write_pending(orm_execute_state.session)


@event.listens_for(Session, "before_commit")
def _write_before_commit(session: Session) -> None:
    # Also before a savepoint is released.
    if _HALF_WRITTEN_KEY in session.info:
        raise HalfWrittenPosting(
            "a posting failed while it was being written (LedgerWriteFailed) and this "
            "transaction may hold part of it: roll it back"
        )
    write_pending(session)


@event.listens_for(Session, "after_transaction_create")
def _no_savepoint_while_deferring(session: Session, transaction: SessionTransaction) -> None:
    cache: _Cache | None = session.info.get(_CACHE_KEY)
    if transaction.nested and cache is not None and cache.pending_rows:
        raise RuntimeError("write deferred postings before opening a savepoint")


def lock_head(session: Session) -> _Cache:
    """Take the chain-head lock for this transaction (once) and return the cache."""
    cache: _Cache | None = session.info.get(_CACHE_KEY)
    if cache is not None:
        return cache
    return _take_head(session, None)


def _take_head(session: Session, key: tuple[str, str] | None) -> _Cache:
    """Lock the head and start the cache; with ``key``, learn whether it is used too."""
    session.flush()  # what the ORM holds back must reach the database before we read
    hot = HotPath(session)
    head = hot.lock_head(key)
    if head is None:
        raise RuntimeError("the ledger_head row is missing: run `dpledger db upgrade`")
    head_id, head_hash, used = head
    cache = _Cache(hot=hot, head_id=head_id, head_hash=head_hash)
    if key is not None and not used:
        cache.unused_keys.add(key)
    session.info[_CACHE_KEY] = cache
    return cache


@event.listens_for(Session, "after_transaction_end")
def _forget_cache(session: Session, transaction: SessionTransaction) -> None:
    # The end of the transaction ends the head lock. A savepoint released keeps what the
    # cache knows: its postings stand (and were written before it was released, see
    # _write_before_commit), and the lock stays with the transaction. A savepoint rolled
    # back is handled by _forget_cache_on_rollback.
    if transaction.parent is None:
        session.info.pop(_CACHE_KEY, None)
    # A half-written posting is undone when the transaction (or savepoint) it was
    # written in ends, or one around it: that can only be a rollback, as committing it
    # is refused.
    half_written = session.info.get(_HALF_WRITTEN_KEY)
    while half_written is not None:
        if half_written is transaction:
            session.info.pop(_HALF_WRITTEN_KEY, None)
            break
        half_written = half_written.parent


@event.listens_for(Session, "after_rollback")
def _forget_cache_on_rollback(session: Session) -> None:
    # A rollback (of the transaction or of a savepoint) undoes postings the cache counts,
    # and on PostgreSQL a savepoint rolled back releases a head lock taken inside it.
    session.info.pop(_CACHE_KEY, None)


@event.listens_for(Session, "before_flush")
def _forget_changed_accounts(session: Session, _context: Any, _instances: Any) -> None:
    # Rows the ORM is about to write may refer to deferred transfers: write those first.
    # An account changed through the ORM (closed, say) must then be read afresh.
    write_pending(session)
    cache: _Cache | None = session.info.get(_CACHE_KEY)
    if cache is not None and any(isinstance(obj, Account) for obj in session.dirty):
        cache.accounts.clear()


def account_state(session: Session, cache: _Cache, account_id: int) -> _AccountState:
    """The account's totals as they stand under the head lock."""
    state = cache.accounts.get(account_id)
    if state is None:
        _load_accounts(cache, [account_id])
        state = cache.accounts.get(account_id)
        if state is None:
            raise UnknownRecord(f"account {account_id} does not exist", account_id=account_id)
    return state


def prefetch_accounts(session: Session, account_ids: Sequence[int]) -> None:
    """Read several accounts under the head lock in one statement (saves round trips)."""
    _load_accounts(lock_head(session), account_ids)


def _load_accounts(cache: _Cache, account_ids: Sequence[int]) -> None:
    """Read into the cache, in one statement, the accounts it does not hold yet."""
    accounts = cache.accounts
    missing = [a for a in account_ids if a not in accounts]
    if missing:
        for row in cache.hot.select_accounts(sorted(set(missing))):
            _keep_state(cache, row)


def _keep_state(cache: _Cache, row: Sequence[Any]) -> int:
    """Cache an account read from the database, unless the cache already holds it: the
    cache may be ahead of the database (postings waiting in a deferred block)."""
    account_id, kind, parent_id, no_overdraft, closed, dp, d_p, cp, c_p = row
    if account_id not in cache.accounts:
        cache.accounts[account_id] = _AccountState(
            account_id, AccountKind(kind), parent_id, bool(no_overdraft), bool(closed),
            dp, d_p, cp, c_p,
        )  # fmt: skip
    return int(account_id)


def _load_cards(cache: _Cache, card_ids: Sequence[int]) -> None:
    """Read the accounts of the cards the cache does not know yet, and (once per
    transaction) the council's system accounts, in one statement."""
    missing = sorted({c for c in card_ids if c not in cache.card_accounts})
    if not missing and cache.system_loaded:
        return
    for start in range(0, max(len(missing), 1), 500):
        chunk = missing[start : start + 500]
        rows = cache.hot.card_accounts(chunk, system=not cache.system_loaded)
        for card_id, system_key, *account in rows:
            account_id = _keep_state(cache, account)
            if card_id is not None:
                cache.card_accounts[card_id] = account_id
            elif system_key in _SYSTEM_KINDS:
                cache.system_accounts[_SYSTEM_KINDS[system_key]] = account_id
        cache.system_loaded = True


def prefetch_cards(session: Session, card_ids: Sequence[int]) -> None:
    """Read the accounts these cards draw on, and the council's system accounts, with
    their totals, in one statement (a batch of postings then reads no more of them)."""
    _load_cards(lock_head(session), card_ids)


def prefetch_arrears(session: Session, budget_account_ids: Sequence[int]) -> None:
    """Read these budgets' arrears accounts, with their totals, in one statement."""
    cache = lock_head(session)
    missing = sorted({b for b in budget_account_ids if b not in cache.arrears_accounts})
    for start in range(0, len(missing), 500):
        for budget_id, *account in cache.hot.arrears_accounts(missing[start : start + 500]):
            cache.arrears_accounts[budget_id] = _keep_state(cache, account)


def _check_all(session: Session, cache: _Cache, specs: Sequence[TransferSpec]) -> None:
    """Check the whole linked set against a scratch copy of the totals."""
    _load_accounts(
        cache, [a for spec in specs for a in (spec.debit_account_id, spec.credit_account_id)]
    )
    if len(specs) == 1:  # the common case needs no scratch copy
        _check_one(cache.accounts, specs[0])
        return
    scratch = {
        a: replace(cache.accounts[a])
        for spec in specs
        for a in (spec.debit_account_id, spec.credit_account_id)
    }
    for spec in specs:
        _check_one(scratch, spec)
        _move(scratch[spec.debit_account_id], scratch[spec.credit_account_id], spec)


def _check_one(states: Mapping[int, _AccountState], spec: TransferSpec) -> None:
    if spec.amount <= 0:
        raise InvalidAmount("a transfer amount must be more than zero", amount=spec.amount)
    if spec.debit_account_id == spec.credit_account_id:
        raise SameAccount("a transfer needs two different accounts")
    debit = states.get(spec.debit_account_id)
    credit = states.get(spec.credit_account_id)
    for account_id, state in ((spec.debit_account_id, debit), (spec.credit_account_id, credit)):
        if state is None:
            raise UnknownRecord(f"account {account_id} does not exist", account_id=account_id)
    assert debit is not None and credit is not None
    opening = spec.phase in (Phase.POSTED, Phase.PENDING)
    for account in (debit, credit):
        if account.closed and opening:
            raise AccountClosed(f"account {account.id} is closed", account_id=account.id)
    if debit.no_overdraft and opening and debit.available < spec.amount:
        raise InsufficientFunds(
            f"account {debit.id} has {debit.available}p available, {spec.amount}p was asked for",
            account_id=debit.id,
            available=debit.available,
            amount=spec.amount,
        )


def _move(debit: _AccountState, credit: _AccountState, spec: TransferSpec) -> None:
    """The effect of one transfer on the two accounts' totals."""
    if spec.phase is Phase.POSTED:
        debit.debits_posted += spec.amount
        credit.credits_posted += spec.amount
    elif spec.phase is Phase.PENDING:
        debit.debits_pending += spec.amount
        credit.credits_pending += spec.amount
    else:
        debit.debits_pending -= spec.pending_amount
        credit.credits_pending -= spec.pending_amount
        if spec.phase is Phase.POST_PENDING:
            debit.debits_posted += spec.amount
            credit.credits_posted += spec.amount


def _apply_totals(session: Session, cache: _Cache, spec: TransferSpec) -> None:
    """Move the totals in memory; ``_write`` sends them with the posting's rows."""
    debit = account_state(session, cache, spec.debit_account_id)
    credit = account_state(session, cache, spec.credit_account_id)
    _move(debit, credit, spec)
    cache.dirty_accounts.update((debit.id, credit.id))
    _expire_loaded_account(session, debit.id)
    _expire_loaded_account(session, credit.id)


def _expire_loaded_account(session: Session, account_id: int) -> None:
    """An Account object already loaded in this session must not show stale totals."""
    loaded = session.identity_map.get((Account, (account_id,), None))
    if loaded is not None:
        session.expire(
            loaded, ["debits_pending", "debits_posted", "credits_pending", "credits_posted"]
        )


def find_replay(session: Session, source: str, key: str) -> list[TransferRecord] | None:
    """The transfers already written under this idempotency key, if any."""
    connection = session.connection()
    first = connection.execute(_SELECT_BY_KEY, {"source": source, "key": key}).first()
    if first is None:
        return None
    if first.link_group is None:
        return [TransferRecord(**first._mapping)]
    linked = connection.execute(_SELECT_LINKED, {"link_group": first.link_group})
    return [TransferRecord(**row._mapping) for row in linked]


def system_account_id(session: Session, kind: AccountKind, now: datetime) -> int:
    """The council's account of this kind, created on first use (under the head lock)."""
    cache = lock_head(session)
    found = cache.system_accounts.get(kind)
    if found is None:
        found = None if cache.system_loaded else cache.hot.system_account(kind.value)
        if found is None:
            account = Account(
                kind=kind,
                name=SYSTEM_ACCOUNTS[kind],
                system_key=kind.value,
                no_overdraft=False,
                created_at=now,
            )
            session.add(account)
            session.flush()
            found = account.id
        cache.system_accounts[kind] = found
    return found


def claim_key_for_decision(session: Session, source: str, key: str) -> None:
    """Refuse, as an ``IdempotencyConflict``, a key that a transfer (written, or waiting in
    a deferred block) or another decision already has, for a decision that writes no
    transfer of its own (a declined authorisation). A key read ahead as unused stops
    being so: a posting of it later looks it up and finds the decision."""
    cache = lock_head(session)
    if (source, key) in cache.pending_keys or (
        (source, key) not in cache.unused_keys and cache.hot.key_use(source, key) is not None
    ):
        raise IdempotencyConflict(
            f"idempotency key {key!r} from {source!r} was already used for another request",
            source=source,
            key=key,
        )
    cache.unused_keys.discard((source, key))


def prefetch_keys(session: Session, source: str, keys: Sequence[str]) -> None:
    """Look up many idempotency keys in one statement before posting them (imports); a key
    a card authorisation has counts as used."""
    cache = lock_head(session)
    unused = cache.unused_keys
    for start in range(0, len(keys), 500):
        chunk = [k for k in dict.fromkeys(keys[start : start + 500]) if (source, k) not in unused]
        used = cache.hot.keys_used(source, chunk) if chunk else set()
        unused.update((source, k) for k in chunk if k not in used)


def prefetch_keys_with(
    session: Session, source: str, keys: Sequence[str], used: Callable[[Sequence[str]], set[str]]
) -> None:
    """``prefetch_keys`` with the caller's lookup: ``used(keys)`` says which of them a
    transfer or a card authorisation from ``source`` already has; it runs under the head
    lock, so what it reads is current."""
    cache = lock_head(session)
    wanted = [k for k in dict.fromkeys(keys) if (source, k) not in cache.unused_keys]
    if wanted:
        taken = used(wanted)
        cache.unused_keys.update((source, k) for k in wanted if k not in taken)


def pot_account_ids(session: Session, pot_id: int) -> tuple[int, int]:
    """(the cared-for person's budget account, the pot's own account) of a companion pot."""
    cache = lock_head(session)
    found = cache.pot_accounts.get(pot_id)
    if found is None:
        found = cache.hot.pot_accounts(pot_id)
        if found is None:
            raise UnknownRecord(f"companion pot {pot_id} does not exist", pot_id=pot_id)
        cache.pot_accounts[pot_id] = found
    return found


def arrears_account_id(session: Session, budget_account_id: int) -> int:
    """The arrears account that records shortfalls on a personal budget."""
    cache = lock_head(session)
    found = cache.arrears_accounts.get(budget_account_id)
    if found is None:
        found = cache.hot.arrears_account(budget_account_id)
        if found is None:
            raise UnknownRecord(f"budget account {budget_account_id} has no arrears account")
        cache.arrears_accounts[budget_account_id] = found
    return found


def card_account_id(session: Session, card_id: int) -> int:
    """The account a card draws on (a card never changes account)."""
    cache = lock_head(session)
    found = cache.card_accounts.get(card_id)
    if found is None:
        # Its account is about to be posted to, and usually a system account too.
        _load_cards(cache, [card_id])
        found = cache.card_accounts.get(card_id)
        if found is None:
            raise UnknownRecord(f"card {card_id} does not exist", card_id=card_id)
    return found

"""Tamper evidence: a SHA-256 hash chain over the transfer log.

Each transfer's ``chain_hash`` is SHA-256 over the previous transfer's hash and this
transfer's canonical content. Ids are gap-free (assigned under the chain-head lock), and
the head row holds the last id and hash, so:

- an UPDATE of any column changes the content and breaks that transfer's hash;
- a DELETE leaves a gap in the ids (or, for the last transfer, a head that points past
  the end);
- an INSERT made outside the ledger either lands beyond the head, or leaves the chain
  unable to reproduce its hash.

``verify_chain`` walks the log in id order with constant memory and names the first
broken link, including a row holding a value the ledger could never have written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256
from operator import itemgetter
from typing import Any

from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session

from ledger.models import LedgerHead, Phase, Transfer, TransferCode

GENESIS_HASH = "0" * 64

# The order here is part of the chain format: changing it invalidates every chain.
CHAINED_FIELDS = (
    "id",
    "debit_account_id",
    "credit_account_id",
    "amount",
    "code",
    "phase",
    "pending_id",
    "reverses_id",
    "link_group",
    "idempotency_source",
    "idempotency_key",
    "request_digest",
    "effective_at",
    "created_at",
    "card_id",
    "merchant_name",
    "mcc",
    "category",
    "payee",
    "reference",
    "inbound_event_id",
)


_NULL = "\u2400"  # a visible "null", distinct from the empty string


# A posting's effective and created times are usually the same object: format it once.
_last_time: tuple[object, str] = (None, "")


def _canonical(value: Any) -> str:
    """One value as the chain writes it: ``None`` as ``_NULL``, a datetime in UTC with
    microseconds, anything else as ``str()`` (every enum in the chain is a StrEnum, whose
    str() is its stored value)."""
    global _last_time
    if value is None:
        return _NULL
    if type(value) is datetime:
        seen, text = _last_time  # one tuple read: safe across threads
        if seen is not value:
            text = value.astimezone(UTC).isoformat(timespec="microseconds")
            _last_time = (value, text)
        return text
    return str(value)


_chained = itemgetter(*CHAINED_FIELDS)


def link_hash(previous_hash: str, transfer: Mapping[str, Any]) -> str:
    """The chain hash of a transfer, given the hash of the one before it: SHA-256 of
    ``previous_hash``, a record separator (0x1e), then each of ``CHAINED_FIELDS`` as
    ``_canonical`` writes it, joined by unit separators (0x1f).

    Written out as one f-string (``{x!s}`` is ``str(x)``): the same text, byte for byte,
    as joining ``_canonical`` of each field, without a call per field. Every posting is
    hashed once, and ``verify_chain`` hashes every transfer again.
    """
    (
        id_, debit, credit, amount, code, phase, pending, reverses, link, source, key,
        digest, effective, created, card, merchant, mcc, category, payee, reference, inbound,
    ) = _chained(transfer)  # fmt: skip
    n = _NULL
    text = (
        f"{previous_hash}\x1e"
        f"{n if id_ is None else id_!s}\x1f"
        f"{n if debit is None else debit!s}\x1f"
        f"{n if credit is None else credit!s}\x1f"
        f"{n if amount is None else amount!s}\x1f"
        f"{n if code is None else code!s}\x1f"
        f"{n if phase is None else phase!s}\x1f"
        f"{n if pending is None else pending!s}\x1f"
        f"{n if reverses is None else reverses!s}\x1f"
        f"{n if link is None else link!s}\x1f"
        f"{n if source is None else source!s}\x1f"
        f"{n if key is None else key!s}\x1f"
        f"{n if digest is None else digest!s}\x1f"
        f"{_canonical(effective)}\x1f"
        f"{_canonical(created)}\x1f"
        f"{n if card is None else card!s}\x1f"
        f"{n if merchant is None else merchant!s}\x1f"
        f"{n if mcc is None else mcc!s}\x1f"
        f"{n if category is None else category!s}\x1f"
        f"{n if payee is None else payee!s}\x1f"
        f"{n if reference is None else reference!s}\x1f"
        f"{n if inbound is None else inbound!s}"
    )
    return sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    transfers_checked: int
    problem: str | None = None
    transfer_id: int | None = None


# Read as stored and parsed row by row, so that a value the ledger could never have
# written (a code it does not know, a timestamp that is not one) names its transfer
# instead of stopping the walk with a traceback.
_ENUM_VALUES = {
    "code": frozenset(c.value for c in TransferCode),
    "phase": frozenset(p.value for p in Phase),
}
_TIMESTAMPS = ("effective_at", "created_at")


def _rows(session: Session, batch: int = 5000) -> Iterator[dict[str, Any]]:
    """Every transfer in id order, as read; ``_unreadable`` checks and parses a row."""
    table = Transfer.__table__
    columns = [
        type_coerce(table.c[name], String()).label(name)
        if name in _ENUM_VALUES or name in _TIMESTAMPS
        else table.c[name]
        for name in (*CHAINED_FIELDS, "chain_hash")
    ]
    result = session.execute(
        select(*columns).order_by(table.c.id).execution_options(yield_per=batch)
    )
    for row in result:
        yield dict(row._mapping)


def _timestamp_parsers(session: Session) -> dict[str, Callable[[Any], Any]]:
    """How the models' own column type reads each timestamp on this database."""
    dialect = session.get_bind().dialect
    parsers: dict[str, Callable[[Any], Any]] = {}
    for name in _TIMESTAMPS:
        column_type = Transfer.__table__.c[name].type.dialect_impl(dialect)
        processor = column_type.result_processor(dialect, None)
        parsers[name] = processor if processor is not None else _as_is
    return parsers


def _as_is(value: Any) -> Any:
    return value


def _unreadable(row: dict[str, Any], parsers: Mapping[str, Callable[[Any], Any]]) -> str | None:
    """Parse the row's enum and timestamp columns in place; the first one that cannot be
    read, if any, by name."""
    for name, known in _ENUM_VALUES.items():
        if row[name] not in known:
            return name
    for name, parse in parsers.items():
        try:
            value = parse(row[name])
        except (ValueError, TypeError, OverflowError, LookupError):
            return name
        if not isinstance(value, datetime):
            return name
        row[name] = value
    return None


def verify_chain(session: Session) -> ChainReport:
    """Recompute the chain from the first transfer; report the first broken link."""
    previous_hash = GENESIS_HASH
    expected_id = 1
    checked = 0
    parsers = _timestamp_parsers(session)
    for row in _rows(session):
        tid = row["id"]
        if tid != expected_id:
            if tid > expected_id:
                return ChainReport(
                    False,
                    checked,
                    f"transfer {expected_id} is missing: the log jumps from "
                    f"{expected_id - 1} to {tid} (a transfer was deleted)",
                    expected_id,
                )
            return ChainReport(False, checked, f"transfer {tid} is out of order", tid)
        unreadable = _unreadable(row, parsers)
        if unreadable is not None:
            return ChainReport(
                False,
                checked,
                f"transfer {tid} has an unreadable {unreadable} "
                f"({_shown(row[unreadable])}): it was altered outside the ledger",
                tid,
            )
        if link_hash(previous_hash, row) != row["chain_hash"]:
            return ChainReport(
                False,
                checked,
                f"transfer {tid} does not match its chain hash: it was altered, or "
                f"inserted or replaced outside the ledger",
                tid,
            )
        previous_hash = row["chain_hash"]
        expected_id += 1
        checked += 1

    head = session.execute(
        select(LedgerHead.last_transfer_id, LedgerHead.last_hash).where(LedgerHead.id == 1)
    ).one_or_none()
    head_id, head_hash = head if head is not None else (0, GENESIS_HASH)
    last_id = expected_id - 1
    if head_id > last_id:
        return ChainReport(
            False,
            checked,
            f"transfer {last_id + 1} is missing: the chain head records {head_id} "
            f"transfers but the log ends at {last_id} (a transfer was deleted)",
            last_id + 1,
        )
    if head_id < last_id:
        return ChainReport(
            False,
            checked,
            f"transfer {head_id + 1} is beyond the chain head ({head_id}): "
            f"it was inserted outside the ledger",
            head_id + 1,
        )
    if head_hash != previous_hash:
        return ChainReport(
            False, checked, f"the chain head does not match transfer {last_id}", last_id
        )
    return ChainReport(True, checked)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."

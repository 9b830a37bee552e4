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
broken link.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import LedgerHead, Transfer

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
    # Every enum in the chain is a StrEnum, whose str() is its stored value.
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


def link_hash(previous_hash: str, transfer: Mapping[str, Any]) -> str:
    """The chain hash of a transfer, given the hash of the one before it."""
    content = "\x1f".join([_canonical(transfer[name]) for name in CHAINED_FIELDS])
    return hashlib.sha256(f"{previous_hash}\x1e{content}".encode()).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    transfers_checked: int
    problem: str | None = None
    transfer_id: int | None = None


def _rows(session: Session, batch: int = 5000) -> Iterator[dict[str, Any]]:
    columns = [getattr(Transfer, name) for name in (*CHAINED_FIELDS, "chain_hash")]
    result = session.execute(
        select(*columns).order_by(Transfer.id).execution_options(yield_per=batch)
    )
    for row in result:
        yield dict(row._mapping)


def verify_chain(session: Session) -> ChainReport:
    """Recompute the chain from the first transfer; report the first broken link."""
    previous_hash = GENESIS_HASH
    expected_id = 1
    checked = 0
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

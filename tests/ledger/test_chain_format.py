"""The chain's text is its format: ``link_hash`` writes, byte for byte, what the chain has
always hashed, whatever a transfer holds (a change would break every existing chain)."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from ledger.chain import CHAINED_FIELDS, GENESIS_HASH, link_hash
from ledger.models import Phase, TransferCode

_NULL = "\u2400"


def _reference_text(value: Any) -> str:
    """How the chain was first written: one value at a time."""
    if value is None:
        return _NULL
    if type(value) is datetime:
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return str(value)


def _reference_hash(previous_hash: str, transfer: dict[str, Any]) -> str:
    content = "\x1f".join([_reference_text(transfer[name]) for name in CHAINED_FIELDS])
    return hashlib.sha256(f"{previous_hash}\x1e{content}".encode()).hexdigest()


class _LaterDatetime(datetime):
    """A datetime subclass: written with str(), as the chain always wrote it."""


def _value(rng: random.Random, name: str) -> Any:
    if rng.random() < 0.15:
        return None
    if name in ("effective_at", "created_at"):
        zone = rng.choice([UTC, timezone(timedelta(hours=1)), timezone(timedelta(minutes=-90))])
        moment = datetime(2026, 4, 6, 8, 10, rng.randrange(60), rng.randrange(10**6), tzinfo=zone)
        if rng.random() < 0.1:
            return _LaterDatetime.fromtimestamp(moment.timestamp(), zone)
        return moment
    if name == "code":
        return rng.choice([*TransferCode, "load"])
    if name == "phase":
        return rng.choice([*Phase, "posted"])
    return rng.choice(
        [
            rng.randrange(-(10**12), 10**12),
            "".join(rng.choice("aé€~#:\x1f\x1e \u2400-0") for _ in range(rng.randrange(12))),
            True,
            0,
            "",
        ]
    )


def test_link_hash_writes_what_the_chain_always_hashed() -> None:
    rng = random.Random(20260406)
    previous = GENESIS_HASH
    shared = datetime(2026, 4, 6, 9, 0, tzinfo=UTC)
    for n in range(3000):
        transfer = {name: _value(rng, name) for name in CHAINED_FIELDS}
        if n % 3 == 0:  # a posting's effective and created times are often one object
            transfer["effective_at"] = transfer["created_at"] = shared
        expected = _reference_hash(previous, transfer)
        assert link_hash(previous, transfer) == expected, transfer
        previous = expected


def test_a_known_transfer_keeps_its_known_hash() -> None:
    transfer = {name: None for name in CHAINED_FIELDS} | {
        "id": 1,
        "debit_account_id": 2,
        "credit_account_id": 3,
        "amount": 1234,
        "code": TransferCode.LOAD,
        "phase": Phase.POSTED,
        "idempotency_source": "council",
        "idempotency_key": "load-1",
        "request_digest": "d" * 64,
        "effective_at": datetime(2026, 4, 6, 9, 10, tzinfo=timezone(timedelta(hours=1))),
        "created_at": datetime(2026, 4, 6, 8, 10, tzinfo=UTC),
    }
    text = (
        f"{GENESIS_HASH}\x1e1\x1f2\x1f3\x1f1234\x1fload\x1fposted\x1f\u2400\x1f\u2400\x1f"
        f"\u2400\x1fcouncil\x1fload-1\x1f{'d' * 64}\x1f2026-04-06T08:10:00.000000+00:00\x1f"
        "2026-04-06T08:10:00.000000+00:00" + "\x1f\u2400" * 7
    )
    assert link_hash(GENESIS_HASH, transfer) == hashlib.sha256(text.encode()).hexdigest()

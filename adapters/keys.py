"""Keys that fit their columns without colliding.

Idempotency keys, inbox event ids and card-payment part keys are stored in ``String(200)``
columns. Cutting a longer key at 200 characters would make two keys that differ only
after that point the same key: a second, different event taken for a duplicate. A key
that does not fit is therefore replaced by a readable prefix of it and the SHA-256 of the
whole key, which is unique for every key and stable (the same key always fits the same
way).
"""

from __future__ import annotations

import hashlib

COLUMN = 200  # the length of the key columns
# The ledger gives the second and later transfers of a linked set the key "{key}#{n}":
# leave room for that suffix in the keys we hand it.
LEDGER = COLUMN - 10
_DIGEST = 64  # SHA-256, hex


def fit(key: str, limit: int = COLUMN) -> str:
    """``key`` itself when it fits ``limit`` characters, else its first characters, a
    ``~`` and the SHA-256 (hex) of all of it, ``limit`` characters in all."""
    if len(key) <= limit:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{key[: limit - _DIGEST - 1]}~{digest}"


def ledger_key(key: str) -> str:
    """An idempotency key for the ledger (room left for its linked-set suffix)."""
    return fit(key, LEDGER)

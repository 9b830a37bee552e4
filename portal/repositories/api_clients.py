"""Queries on API clients and their Idempotency-Key records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from adapters.repositories.rows import insert_new
from portal.models import ApiClient, ApiIdempotencyKey

_KEYS: Table = ApiIdempotencyKey.__table__  # type: ignore[assignment]


def by_client_id(session: Session, client_id: str) -> ApiClient | None:
    return session.execute(
        select(ApiClient).where(ApiClient.client_id == client_id)
    ).scalar_one_or_none()


def by_name(session: Session, name: str) -> ApiClient | None:
    return session.execute(select(ApiClient).where(ApiClient.name == name)).scalar_one_or_none()


def all_clients(session: Session) -> Sequence[ApiClient]:
    return session.execute(select(ApiClient).order_by(ApiClient.name)).scalars().all()


def claim_key(
    session: Session, client_id: int, key: str, request_hash: str, now: datetime
) -> int | None:
    """Insert the key as in flight; its id, or None when the client has used it before."""
    return insert_new(
        session,
        _KEYS,
        {"client_id": client_id, "key": key, "request_hash": request_hash, "started_at": now},
    )


def find_key(session: Session, client_id: int, key: str) -> ApiIdempotencyKey | None:
    return session.execute(
        select(ApiIdempotencyKey)
        .where(ApiIdempotencyKey.client_id == client_id, ApiIdempotencyKey.key == key)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def take_over_key(
    session: Session, key_id: int, started_at: datetime, request_hash: str, now: datetime
) -> bool:
    """Restart a key whose earlier request was abandoned (or expired), unless another
    request took it over first."""
    result = session.execute(
        update(ApiIdempotencyKey)
        .where(ApiIdempotencyKey.id == key_id, ApiIdempotencyKey.started_at == started_at)
        .values(
            request_hash=request_hash,
            started_at=now,
            completed_at=None,
            response_status=None,
            response_content_type=None,
            response_body=None,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def complete_key(
    session: Session, key_id: int, status: int, content_type: str, body: bytes, now: datetime
) -> None:
    session.execute(
        update(ApiIdempotencyKey)
        .where(ApiIdempotencyKey.id == key_id)
        .values(
            completed_at=now,
            response_status=status,
            response_content_type=content_type[:100],
            response_body=body,
        )
    )


def release_key(session: Session, key_id: int) -> None:
    """Forget an in-flight key whose request failed on our side: a retry may run again."""
    session.execute(_KEYS.delete().where(_KEYS.c.id == key_id))

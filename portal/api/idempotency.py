"""``Idempotency-Key`` on the API's POSTs (after the IETF httpapi draft).

A client may send ``Idempotency-Key: <up to 255 printable characters>`` with a POST. The
key is kept per client with a hash of the request (method, path and query, body):

- the first request with a key runs, and its response (status and body, errors
  included) is stored once it has finished;
- the same key and the same request again: the stored response, byte for byte, with
  ``Idempotent-Replayed: true``; the request does not run again;
- the same key with a different request: 422 ``idempotency_key_reused``;
- the same key while the first is still running: 409 ``idempotency_key_in_flight``
  (with ``Retry-After``);
- a request that failed on our side (5xx) keeps nothing, so a retry runs again; so does
  a key whose request was abandoned (in flight for over a minute: a worker died) or is
  more than a day old.

The key is claimed in a transaction of its own (committed before the request runs), so
concurrent requests on any worker see it.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import current_app, request
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from ledger.errors import DomainError
from portal.api.access import current_client
from portal.api.problems import domain_problem, http_problem
from portal.app import clock, db_session
from portal.repositories import api_clients as repo

F = TypeVar("F", bound=Callable[..., Any])

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
IN_FLIGHT_TIMEOUT = timedelta(seconds=60)
KEY_LIFETIME = timedelta(hours=24)


class InvalidIdempotencyKey(DomainError):
    code = "invalid_idempotency_key"
    title = "The Idempotency-Key header is not valid"
    http_status = 400


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    title = "The Idempotency-Key was already used for a different request"
    http_status = 422


class IdempotencyKeyInFlight(DomainError):
    code = "idempotency_key_in_flight"
    title = "A request with this Idempotency-Key is still being processed"
    http_status = 409
    headers = {"Retry-After": "1"}


HEADER_DOC = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "description": "Makes a retry safe: the same key and body return the stored response; "
    "the same key with a different body is refused (422), and while the first request is "
    "still running a retry gets 409.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


def idempotent(blueprint: Any) -> Callable[[F], F]:
    """Honour ``Idempotency-Key`` on this view (place it above the argument parsing, so
    a refused body is stored too), and document the header and its answers."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = request.headers.get(HEADER)
            if key is None:
                return view(*args, **kwargs)
            return _run_once(key, lambda: view(*args, **kwargs))

        documented = blueprint.doc(parameters=[HEADER_DOC])(wrapper)
        documented = blueprint.alt_response(409, "CONFLICT")(documented)
        return blueprint.alt_response(422, "UNPROCESSABLE_ENTITY")(documented)  # type: ignore[no-any-return]

    return decorator


def _run_once(key: str, run: Callable[[], Any]) -> Response:
    if not (0 < len(key) <= 255) or not key.isprintable():
        raise InvalidIdempotencyKey("an Idempotency-Key is 1 to 255 printable characters")
    client_id = current_client().id
    session = db_session()
    digest = _request_hash()
    claimed = _claim(session, client_id, key, digest)
    if isinstance(claimed, Response):
        return claimed
    try:
        response: Response = current_app.make_response(run())
    except DomainError as error:
        session.rollback()
        response = domain_problem(error)
    except HTTPException as error:
        session.rollback()
        if (error.code or 500) >= 500:
            _release(session, claimed)
            raise
        response = http_problem(error)
    except Exception:
        session.rollback()
        _release(session, claimed)
        raise
    if response.status_code >= 500:
        session.rollback()
        _release(session, claimed)
        return response
    repo.complete_key(
        session,
        claimed,
        response.status_code,
        response.content_type or "application/json",
        response.get_data(),
        clock().now(),
    )
    session.commit()
    return response


def _claim(session: Session, client_id: int, key: str, digest: str) -> int | Response:
    """The key's id, claimed for this request (committed); or the stored response."""
    now = clock().now()
    key_id = repo.claim_key(session, client_id, key, digest, now)
    if key_id is not None:
        session.commit()
        return key_id
    row = repo.find_key(session, client_id, key)
    if row is None:  # released by a failed request a moment ago: claim it afresh
        key_id = repo.claim_key(session, client_id, key, digest, now)
        if key_id is None:
            raise IdempotencyKeyInFlight("another request with this key has just started")
        session.commit()
        return key_id
    abandoned = row.response_status is None and now - row.started_at > IN_FLIGHT_TIMEOUT
    expired = now - row.started_at > KEY_LIFETIME
    if abandoned or expired:
        if repo.take_over_key(session, row.id, row.started_at, digest, now):
            session.commit()
            return row.id
        raise IdempotencyKeyInFlight("another request with this key has just started")
    if row.request_hash != digest:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used with a different request; use a new key"
        )
    if row.response_status is None:
        raise IdempotencyKeyInFlight("the first request with this key has not finished yet")
    stored = Response(
        row.response_body or b"",
        status=row.response_status,
        content_type=row.response_content_type,
    )
    stored.headers[REPLAYED_HEADER] = "true"
    return stored


def _release(session: Session, key_id: int) -> None:
    repo.release_key(session, key_id)
    session.commit()


def _request_hash() -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.full_path}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()

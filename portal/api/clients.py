"""API clients: registering one (with its public key and scopes), listing, revoking.

Flushes, never commits: the command or request that calls it owns the transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from ledger.clock import Clock
from ledger.errors import DomainError
from portal.api.tokens import ClientKey, new_key_pair
from portal.models import ApiClient
from portal.repositories import api_clients as repo

# Providers whose events reach us signed by the provider itself (their webhooks).
SIGNED_PROVIDERS = frozenset({"stripe", "marqeta"})
UNSIGNED_EVENTS = "events:unsigned"

# Scope -> what it allows. Each endpoint needs exactly one; ``events:unsigned`` is the
# explicit permission ``POST /api/events`` needs besides for a signing provider's cards.
SCOPES: Mapping[str, str] = {
    "events:write": "post canonical events (POST /api/events) about the client's provider's cards",
    "cards:read": "read the balance and transactions of the client's provider's cards",
    "inbox:read": "list the client's provider's parked inbox events",
    "inbox:replay": "replay one of the client's provider's inbox events",
    UNSIGNED_EVENTS: "with events:write, post canonical events about the cards of a "
    "provider whose own webhooks are signed (stripe, marqeta), without that signature: "
    "only for a bridge the council trusts as much",
}


class ClientExists(DomainError):
    code = "client_exists"
    title = "An API client with that name exists"
    http_status = 409


class InvalidClient(DomainError):
    code = "invalid_client"
    title = "The API client cannot be registered as asked"


class UnsignedEventsRefused(DomainError):
    """Events about a signing provider's cards come through its signed webhook."""

    code = "unsigned_events_refused"
    title = "These events must come signed by the card provider"
    http_status = 403


def check_may_post_events(provider: str, scopes: Iterable[str]) -> None:
    """Refuse canonical events about a signing provider's cards unless the client holds
    the explicit ``events:unsigned`` permission."""
    if provider in SIGNED_PROVIDERS and UNSIGNED_EVENTS not in scopes:
        raise UnsignedEventsRefused(
            f"events about {provider} cards come through {provider}'s signed webhook; a "
            f"client posting them without that signature needs the scope {UNSIGNED_EVENTS!r}",
            provider=provider,
        )


class UnknownClient(DomainError):
    code = "unknown_client"
    title = "No such API client"
    http_status = 404


@dataclass(frozen=True)
class NewClient:
    client: ApiClient
    # Only when dpledger made the key pair: shown once, never stored.
    private_key_pem: str | None


def register_client(
    session: Session,
    clock: Clock,
    *,
    name: str,
    scopes: Iterable[str],
    provider: str,
    public_key_pem: str | None = None,
) -> NewClient:
    """Register a client. With no public key given, a key pair is made and the private
    key returned (to be shown once); dpledger stores only the public key."""
    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidClient("a client needs a name of 1 to 120 characters")
    wanted = sorted(set(scopes))
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown or not wanted:
        raise InvalidClient(
            f"scopes must be some of {', '.join(SCOPES)}" + (f"; not {unknown}" if unknown else "")
        )
    if not provider or len(provider) > 32:
        raise InvalidClient("a client names the card provider its events are about")
    if "events:write" in wanted:
        try:
            check_may_post_events(provider, wanted)
        except UnsignedEventsRefused as refused:
            raise InvalidClient(refused.detail) from None
    if repo.by_name(session, name) is not None:
        raise ClientExists(f"there is already a client called {name!r}")
    private_pem = None
    if public_key_pem is None:
        private_pem, public_key_pem = new_key_pair()
    else:
        public_key_pem = _checked_public_key(public_key_pem)
    client = ApiClient(
        client_id="dpc_" + secrets.token_urlsafe(12),
        name=name,
        public_key=public_key_pem,
        scopes=" ".join(wanted),
        provider=provider,
        active=True,
        created_at=clock.now(),
    )
    session.add(client)
    session.flush()
    return NewClient(client, private_pem)


def revoke_client(session: Session, clock: Clock, name: str) -> ApiClient:
    """Stop accepting the client's tokens, at once."""
    client = repo.by_name(session, name)
    if client is None:
        raise UnknownClient(f"no API client called {name!r}")
    if client.active:
        client.active = False
        client.revoked_at = clock.now()
        session.flush()
    return client


def client_key(session: Session, client_id: str) -> ClientKey | None:
    """What verifying a token from ``client_id`` needs (one query)."""
    client = repo.by_client_id(session, client_id)
    if client is None:
        return None
    return ClientKey(
        id=client.id,
        client_id=client.client_id,
        name=client.name,
        public_key=client.public_key,
        scopes=frozenset(client.scopes.split()),
        provider=client.provider,
        active=client.active,
    )


def _checked_public_key(pem: str) -> str:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError:
        raise InvalidClient("the public key is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidClient("the public key must be an Ed25519 key (tokens are EdDSA)")
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()

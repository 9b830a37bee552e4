"""Short-lived JWTs for machine clients: EdDSA (Ed25519) only, per-client keys.

A client signs its own tokens with its private key; dpledger keeps only the public key,
so nothing stored here can mint a token. A token is accepted when:

- its header says ``alg: EdDSA`` (pinned: ``none``, HS256 and the rest are refused before
  any key is looked at, so a public key can never be used as an HMAC secret);
- ``iss`` names an active client, and the signature verifies with that client's key;
- ``aud`` is this service's audience (``DPLEDGER_API_AUDIENCE``);
- ``iat`` and ``exp`` are present, ``exp - iat`` is at most five minutes, it was not issued
  in the future and has not expired, each with at most 30 seconds of clock skew (and
  ``nbf``, if present, has passed);
- ``scope`` (space-separated) holds the scope the endpoint needs. What a token may carry
  is bounded by the client's own scopes: a token asking for more gets only those.

Times are checked against the service's clock (tests move it), not the wall clock.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.errors import DomainError

ALGORITHM = "EdDSA"
MAX_LIFETIME = timedelta(minutes=5)
LEEWAY = timedelta(seconds=30)
REQUIRED_CLAIMS = ("iss", "aud", "iat", "exp")


class NotAuthenticated(DomainError):
    """No bearer token came with the request."""

    code = "not_authenticated"
    title = "A bearer token is required"
    http_status = 401
    headers = {"WWW-Authenticate": 'Bearer realm="dpledger"'}


class InvalidToken(DomainError):
    """The token is not one this service accepts (RFC 6750 ``invalid_token``)."""

    code = "invalid_token"
    title = "The bearer token is not valid"
    http_status = 401

    @property
    def headers(self) -> dict[str, str]:
        detail = self.detail.replace('"', "'")
        return {
            "WWW-Authenticate": f'Bearer realm="dpledger", error="invalid_token", '
            f'error_description="{detail}"'
        }


class InsufficientScope(DomainError):
    code = "insufficient_scope"
    title = "The token does not allow this"
    http_status = 403

    def __init__(self, needed: str) -> None:
        super().__init__(f"this needs a token with the scope {needed!r}", needed=needed)
        self.headers = {
            "WWW-Authenticate": f'Bearer realm="dpledger", error="insufficient_scope", '
            f'scope="{needed}"'
        }


@dataclass(frozen=True)
class ClientKey:
    """What verifying a client's token needs to know about the client."""

    id: int
    client_id: str
    name: str
    public_key: str  # PEM
    scopes: frozenset[str]
    provider: str
    active: bool


@dataclass(frozen=True)
class Principal:
    """The client a request acts for, and what its token allows."""

    id: int
    client_id: str
    name: str
    provider: str
    scopes: frozenset[str]


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("send Authorization: Bearer <token> (a JWT signed by the client)")
    return token.strip()


def verify(
    token: str,
    *,
    audience: str,
    now: datetime,
    find_client: Callable[[str], ClientKey | None],
) -> Principal:
    """The principal a token speaks for; ``InvalidToken`` says why it is refused."""
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise InvalidToken("the token is not a JWT") from None
    if header.get("alg") != ALGORITHM:
        raise InvalidToken(
            f"tokens are signed with {ALGORITHM} (Ed25519); not {header.get('alg')!r}"
        )
    issuer = unverified.get("iss")
    client = find_client(issuer) if isinstance(issuer, str) and issuer else None
    if client is None or not client.active:
        raise InvalidToken("the issuer (iss) is not an active API client")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=public_key(client.public_key),
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=client.client_id,
            options={
                "require": list(REQUIRED_CLAIMS),
                # Times are checked below, against our clock.
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.MissingRequiredClaimError as error:
        raise InvalidToken(f"the token has no {error.claim!r} claim") from None
    except jwt.InvalidAudienceError:
        raise InvalidToken(f"the token's audience (aud) is not {audience!r}") from None
    except jwt.InvalidSignatureError:
        raise InvalidToken("the signature does not verify with the client's key") from None
    except jwt.PyJWTError as error:
        raise InvalidToken(f"the token is not valid: {error}") from None
    _check_times(claims, now)
    granted = frozenset(str(claims.get("scope") or "").split()) & client.scopes
    return Principal(client.id, client.client_id, client.name, client.provider, granted)


def _check_times(claims: dict[str, Any], now: datetime) -> None:
    moment = now.timestamp()
    leeway = LEEWAY.total_seconds()
    times = {name: claims.get(name) for name in ("iat", "exp", "nbf")}
    for name, value in times.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InvalidToken(f"the {name!r} claim must be a number of seconds since the epoch")
    iat, exp, nbf = times["iat"], times["exp"], times["nbf"]
    assert iat is not None and exp is not None  # required above
    if iat > moment + leeway:
        raise InvalidToken("the token was issued in the future (iat)")
    if exp <= iat:
        raise InvalidToken("the token expires before it was issued")
    if exp - iat > MAX_LIFETIME.total_seconds():
        raise InvalidToken(f"tokens live at most {MAX_LIFETIME.seconds // 60} minutes (exp - iat)")
    if moment >= exp + leeway:
        raise InvalidToken("the token has expired (exp)")
    if nbf is not None and nbf > moment + leeway:
        raise InvalidToken("the token is not valid yet (nbf)")


def require_scope(principal: Principal, needed: str) -> None:
    if needed not in principal.scopes:
        raise InsufficientScope(needed)


@functools.lru_cache(maxsize=512)
def public_key(pem: str) -> Ed25519PublicKey:
    """A stored public key, parsed once per worker."""
    loaded = serialization.load_pem_public_key(pem.encode())
    if not isinstance(loaded, Ed25519PublicKey):
        raise InvalidToken("the client's stored key is not an Ed25519 public key")
    return loaded


def new_key_pair() -> tuple[str, str]:
    """A fresh Ed25519 key pair as PEM text: (private, public)."""
    private = Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return private_pem, public_pem_of(private)


def public_pem_of(private: Ed25519PrivateKey) -> str:
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def mint(
    private_key_pem: str,
    *,
    client_id: str,
    audience: str,
    scopes: Iterable[str],
    issued_at: float | None = None,
    lifetime: timedelta = MAX_LIFETIME,
) -> str:
    """A token as a client makes one (for ``dpledger clients token``, tests, benchmarks)."""
    now = int(time.time() if issued_at is None else issued_at)
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise DomainError("the private key is not an Ed25519 key")
    claims = {
        "iss": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + int(lifetime.total_seconds()),
        "scope": " ".join(sorted(scopes)),
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)

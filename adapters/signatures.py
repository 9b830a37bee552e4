"""Request signatures: Stripe's ``t=…,v1=…`` scheme (also used by the simulated provider),
Marqeta's body HMAC, and the Basic Auth Marqeta's webhooks and gateway sign in with.

Stripe's scheme: HMAC-SHA256 over ``"{t}.{raw body}"`` with the endpoint secret, hex, in a
``v1`` entry; a header may carry several ``v1`` entries (while Stripe rolls a secret) and
we may hold several secrets (while we roll ours): any match is accepted. The HMAC check is
the ``stripe`` package's own verifier. The timestamp is checked here against our clock in
both directions (the package checks only staleness, and only against the wall clock), so a
captured request cannot be replayed after the tolerance; within it, the inbox's unique
provider event id makes a replay a harmless duplicate.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime

import stripe

from adapters.errors import NotAuthenticated, SignatureInvalid


def verify_timestamped(
    body: bytes,
    signature_header: str | None,
    secrets: Sequence[str],
    now: datetime,
    tolerance_seconds: int = 300,
) -> int:
    """Verify a ``t=…,v1=…`` signature; return its timestamp. Raises ``SignatureInvalid``."""
    if not signature_header:
        raise SignatureInvalid("the signature header is missing")
    if not secrets:
        raise SignatureInvalid("no webhook secret is configured for this provider")
    timestamp = _timestamp(signature_header)
    if not any(_stripe_verifies(body, signature_header, secret) for secret in secrets):
        raise SignatureInvalid("no signature matches the body with any configured secret")
    skew = abs(now.timestamp() - timestamp)
    if skew > tolerance_seconds:
        raise SignatureInvalid(
            f"the signed timestamp is {skew:.0f} s from now (at most {tolerance_seconds} s)"
        )
    return timestamp


def _timestamp(signature_header: str) -> int:
    """The header's one timestamp, read exactly as the ``stripe`` package reads it (items
    split on ``,`` and ``=``, nothing stripped), so the time we check for freshness is the
    time its HMAC covers. A header with more than one timestamp, spaces around one
    (``x=y, t=NOW,t=OLD,v1=…`` would have the package check the HMAC against OLD while a
    lenient reader took NOW) or none is refused."""
    items = [item.split("=", 2) for item in signature_header.split(",")]
    stamps = [item for item in items if item[0].strip() == "t"]
    if len(stamps) != 1 or stamps[0][0] != "t" or len(stamps[0]) < 2:
        raise SignatureInvalid("the signature header must carry exactly one timestamp, t=…")
    try:
        return int(stamps[0][1])
    except ValueError:
        raise SignatureInvalid("the signature header has no valid timestamp") from None


def _stripe_verifies(body: bytes, signature_header: str, secret: str) -> bool:
    try:
        # tolerance=None: the package checks the HMAC only; we check time with our clock.
        stripe.WebhookSignature.verify_header(body, signature_header, secret, tolerance=None)
    except (stripe.SignatureVerificationError, UnicodeDecodeError):
        return False
    return True


def sign_timestamped(body: bytes, secret: str, timestamp: int) -> str:
    """A ``t=…,v1=…`` header for ``body`` (for the simulated provider and tests)."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_body_hmac(body: bytes, signature: str | None, secrets: Sequence[str]) -> None:
    """Marqeta's ``X-Marqeta-Signature``: hex HMAC of the raw body, SHA-256 or (older
    webhooks) SHA-1, with any configured secret."""
    if not signature:
        raise SignatureInvalid("the X-Marqeta-Signature header is missing")
    given = signature.strip().lower()
    for secret in secrets:
        for algorithm in (hashlib.sha256, hashlib.sha1):
            expected = hmac.new(secret.encode(), body, algorithm).hexdigest()
            if hmac.compare_digest(expected, given):
                return
    raise SignatureInvalid("the X-Marqeta-Signature does not match the body")


def sign_body_hmac(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_basic_auth(
    authorization: str | None, credentials: Sequence[tuple[str, str]], what: str
) -> None:
    """An ``Authorization: Basic …`` header against the configured ``(user, password)``
    pairs (several while one is rolled). Raises ``NotAuthenticated``."""
    if not credentials:
        raise NotAuthenticated(f"no {what} credentials are configured")
    scheme, _, encoded = (authorization or "").partition(" ")
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise NotAuthenticated("Basic Auth credentials are required") from None
    if scheme.lower() != "basic" or not any(
        hmac.compare_digest(user.encode(), u.encode())
        & hmac.compare_digest(password.encode(), p.encode())
        for u, p in credentials
    ):
        raise NotAuthenticated(f"the {what} Basic Auth credentials are wrong")

"""Password hashing (argon2id) and the password rules."""

from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from ledger.errors import DomainError

MIN_LENGTH = 12
MAX_LENGTH = 256

_PROFILES = {
    "default": profiles.RFC_9106_LOW_MEMORY,
    # Far too weak for real use: tests only, so the suite stays fast.
    "cheapest": profiles.CHEAPEST,
}


class WeakPassword(DomainError):
    code = "weak_password"
    title = "Choose a different password"
    http_status = 400


def hasher(profile: str = "default") -> PasswordHasher:
    return PasswordHasher.from_parameters(_PROFILES[profile])


def check_new_password(password: str) -> None:
    """Length is what makes a password strong (NCSC): at least 12 characters."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Your password must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Your password must be {MAX_LENGTH} characters or fewer")
    if not password.strip():
        raise WeakPassword("Your password must not be only spaces")


def verify(password_hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False

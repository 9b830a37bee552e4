"""Signing in, lock-out, and password resets. Flushes, never commits.

Promises:
- every sign-in attempt that checks a password is recorded, known email or not, so a
  lock-out says nothing about which addresses have accounts;
- after ``max_failures`` failures for one email address within ``lockout``, that address
  cannot sign in until the oldest of those failures is ``lockout`` old (attempts while
  locked are not counted, so they do not prolong it); a success or a password reset
  starts the count again;
- a source address with ``max_failures_per_address`` failures within ``lockout`` is
  refused too, whichever emails it tries;
- a reset token is kept only as its SHA-256 hash, expires, works once, and a newer one
  retires the older; a reset signs out every session of that user;
- the reset email is written to monitoring's notification outbox in the same transaction
  as its token, addressed to the sign-in's email (not a person's), and sent by the
  scheduler's notifications job.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from sqlalchemy import update
from sqlalchemy.orm import Session

from ledger.clock import Clock
from ledger.errors import DomainError
from monitoring.notifications import Message, enqueue
from portal.auth import passwords
from portal.models import PasswordResetToken, SignInAttempt, User
from portal.repositories import users as users_repo

# A reset email in the notification outbox: sent to the sign-in's address, never listed
# among a holder's notices (those are audience "holder", by person).
PASSWORD_RESET_AUDIENCE = "sign_in"  # noqa: S105  (an audience, not a secret)
PASSWORD_RESET_CAUSE = "password_reset"  # noqa: S105  (a cause, not a secret)

# Verified against when the email has no account, so both cases take as long.
_no_account_hashes: dict[tuple[int, int, int], str] = {}


def _no_account_hash(password_hasher: PasswordHasher) -> str:
    key = (password_hasher.time_cost, password_hasher.memory_cost, password_hasher.parallelism)
    if key not in _no_account_hashes:
        _no_account_hashes[key] = password_hasher.hash("no account has this password")
    return _no_account_hashes[key]


@dataclass(frozen=True)
class SignInPolicy:
    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)
    max_failures_per_address: int = 50
    reset_valid_for: timedelta = timedelta(hours=1)


class Refusal(StrEnum):
    """Each way a sign-in can be refused."""

    WRONG_EMAIL_OR_PASSWORD = "wrong_email_or_password"  # noqa: S105  (a reason, not a secret)
    LOCKED_OUT = "locked_out"
    TOO_MANY_FROM_ADDRESS = "too_many_from_address"


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    refusal: Refusal | None = None
    locked_until: datetime | None = None


class InvalidResetLink(DomainError):
    code = "reset_link_invalid"
    title = "The password reset link has expired or has already been used"
    http_status = 400


def normalise_email(email: str) -> str:
    return email.strip().lower()[:254]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SignIn:
    """Sign-in and password reset (see the module docstring for the promises)."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        password_hasher: PasswordHasher,
        policy: SignInPolicy | None = None,
    ) -> None:
        self.session = session
        self.clock = clock
        self.hasher = password_hasher
        self.policy = policy or SignInPolicy()

    def sign_in(self, email: str, password: str, remote_addr: str) -> SignInResult:
        """Check the password unless the email or the source address is locked out."""
        email = normalise_email(email)
        now = self.clock.now()
        since = now - self.policy.lockout
        user = users_repo.by_email(self.session, email)
        locked_until = self.locked_until(email, user, now)
        if locked_until is not None:
            return SignInResult(None, Refusal.LOCKED_OUT, locked_until)
        from_address = users_repo.failures_from_address(self.session, remote_addr, since)
        if from_address >= self.policy.max_failures_per_address:
            return SignInResult(None, Refusal.TOO_MANY_FROM_ADDRESS)

        if user is None:
            passwords.verify(self.hasher, _no_account_hash(self.hasher), password)
            ok = False
        else:
            ok = passwords.verify(self.hasher, user.password_hash, password) and user.active
        self.session.add(
            SignInAttempt(email=email, remote_addr=remote_addr[:45], succeeded=ok, attempted_at=now)
        )
        if not ok or user is None:
            self.session.flush()
            return SignInResult(None, Refusal.WRONG_EMAIL_OR_PASSWORD)
        if self.hasher.check_needs_rehash(user.password_hash):
            user.password_hash = self.hasher.hash(password)
        user.last_signed_in_at = now
        self.session.flush()
        return SignInResult(user)

    def locked_until(self, email: str, user: User | None, now: datetime) -> datetime | None:
        """When the email's lock-out ends, or None when it is not locked out."""
        since = now - self.policy.lockout
        last_success = users_repo.last_success_at(self.session, email)
        for moment in (last_success, user.password_changed_at if user else None):
            if moment is not None and moment > since:
                since = moment
        failures = users_repo.recent_failures(self.session, email, since)
        if len(failures) < self.policy.max_failures:
            return None
        return failures[self.policy.max_failures - 1] + self.policy.lockout

    # -- password resets ---------------------------------------------------------------

    def request_password_reset(
        self, email: str, link_for: Callable[[str], str], service_name: str
    ) -> None:
        """Email a reset link if the address has an active account; say nothing either way
        (the page shows the same thing), so the form cannot be used to find accounts."""
        user = users_repo.by_email(self.session, normalise_email(email))
        if user is None or not user.active:
            return
        now = self.clock.now()
        users_repo.retire_reset_tokens(self.session, user.id, now)
        token = secrets.token_urlsafe(32)
        expires_at = now + self.policy.reset_valid_for
        self.session.add(
            PasswordResetToken(
                user_id=user.id, token_hash=token_hash(token), created_at=now, expires_at=expires_at
            )
        )
        minutes = int(self.policy.reset_valid_for.total_seconds() // 60)
        # Monitoring's notification outbox, in this transaction: the scheduler's
        # notifications job sends it (or, with no mail server, logs its recipient and
        # subject, never the body with the link).
        reset_email = Message(
            dedupe_key=f"password_reset|{token_hash(token)}",
            audience=PASSWORD_RESET_AUDIENCE,
            subject=f"Reset your password for {service_name}",
            body=(
                f"Someone asked to reset the password for {service_name}.\n\n"
                f"To choose a new password, open this link within {minutes} minutes:\n\n"
                f"{link_for(token)}\n\n"
                "The link works once. If you did not ask for this, you can ignore this "
                "email: your password has not changed.\n"
            ),
            cause=PASSWORD_RESET_CAUSE,
            to_address=user.email,
        )
        enqueue(self.session, self.clock, [reset_email], officer_email=None)

    def valid_reset_token(self, token: str) -> PasswordResetToken | None:
        """The token's record while it may still set a password: unused, not expired, and
        its account not disabled."""
        record = users_repo.reset_token(self.session, token_hash(token))
        if record is None or record.used_at is not None:
            return None
        if record.expires_at <= self.clock.now():
            return None
        user = users_repo.get(self.session, record.user_id)
        if user is None or not user.active:
            return None
        return record

    def reset_password(self, token: str, new_password: str) -> User:
        """Set a new password with a reset token, once. Ends the user's other sessions."""
        passwords.check_new_password(new_password)
        record = self.valid_reset_token(token)
        if record is None:
            raise InvalidResetLink("Ask for a new link to reset your password")
        now = self.clock.now()
        # Claimed with a conditional update so two requests with one token cannot both win.
        claimed = self.session.execute(
            update(PasswordResetToken)
            .where(PasswordResetToken.id == record.id, PasswordResetToken.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            raise InvalidResetLink("Ask for a new link to reset your password")
        user = users_repo.get(self.session, record.user_id)
        assert user is not None
        user.password_hash = self.hasher.hash(new_password)
        user.password_changed_at = now
        user.session_epoch += 1
        users_repo.retire_reset_tokens(self.session, user.id, now)
        self.session.flush()
        return user

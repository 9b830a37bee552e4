"""Queries on sign-in accounts, sign-in attempts and password reset tokens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal.models import PasswordResetToken, SignInAttempt, User


def get(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def by_email(session: Session, email: str) -> User | None:
    return session.execute(select(User).where(User.email == email)).scalar_one_or_none()


def emails_with_accounts(session: Session, emails: Sequence[str]) -> set[str]:
    """Those of ``emails`` (lower case) that have an account."""
    found = session.execute(select(User.email).where(User.email.in_(emails))).scalars()
    return set(found)


def all_users(session: Session) -> Sequence[User]:
    return session.execute(select(User).order_by(User.role, User.email)).scalars().all()


def last_success_at(session: Session, email: str) -> datetime | None:
    return session.execute(
        select(func.max(SignInAttempt.attempted_at)).where(
            SignInAttempt.email == email, SignInAttempt.succeeded.is_(True)
        )
    ).scalar_one()


def recent_failures(session: Session, email: str, since: datetime) -> Sequence[datetime]:
    """When the email's failed attempts since ``since`` happened, newest first."""
    return (
        session.execute(
            select(SignInAttempt.attempted_at)
            .where(
                SignInAttempt.email == email,
                SignInAttempt.succeeded.is_(False),
                SignInAttempt.attempted_at > since,
            )
            .order_by(SignInAttempt.attempted_at.desc())
        )
        .scalars()
        .all()
    )


def failures_from_address(session: Session, remote_addr: str, since: datetime) -> int:
    return session.execute(
        select(func.count()).where(
            SignInAttempt.remote_addr == remote_addr,
            SignInAttempt.succeeded.is_(False),
            SignInAttempt.attempted_at > since,
        )
    ).scalar_one()


def reset_token(session: Session, token_hash: str) -> PasswordResetToken | None:
    return session.execute(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == token_hash)
    ).scalar_one_or_none()


def retire_reset_tokens(session: Session, user_id: int, now: datetime) -> None:
    """Mark every unused token of the user as used: only the newest link works."""
    session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )

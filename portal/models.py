"""Sign-in accounts and the records that keep access accountable.

- ``User``: who may sign in, with an argon2 hash of their password and a role. A holder's
  account is linked to the person whose cards they see.
- ``SignInAttempt``: every sign-in attempt, by email address and source address. Lock-out
  and rate limits are counted from it, so they hold across web workers.
- ``PasswordResetToken``: only a SHA-256 hash of the emailed token is kept; it expires and
  is used at most once. The email itself goes through monitoring's notification outbox.
- ``RecordView``: each time an officer opens a person's record (Caldicott: every access
  accountable).
- ``ApiClient`` and ``ApiIdempotencyKey``: machine clients of the JSON API (their public
  keys and scopes), and the ``Idempotency-Key`` of each POST they made with one.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.functions import FunctionElement

from ledger.db import Base, BigId, UTCDateTime
from ledger.models import Person
from ledger.models.types import str_enum


class Role(StrEnum):
    """What a signed-in user may do. Carers and companions are holders of their cards."""

    HOLDER = "holder"
    OFFICER = "officer"
    SENIOR_OFFICER = "senior_officer"  # an officer who may also approve
    ADMIN = "admin"  # manages sign-ins; sees no one's records

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


OFFICER_ROLES = frozenset({Role.OFFICER, Role.SENIOR_OFFICER})


class User(Base):
    """A sign-in account. Emails are kept in lower case; a holder is linked to a person."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("(role = 'holder') = (person_id IS NOT NULL)", name="holder_has_person"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped when the password changes: sessions signed in before it stop working.
    session_epoch: Mapped[int] = mapped_column(default=0)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignInAttempt(Base):
    """One sign-in attempt, whether or not the email belongs to an account (so a lock-out
    says nothing about which addresses have accounts)."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index("ix_sign_in_attempts_email_at", "email", "attempted_at"),
        Index("ix_sign_in_attempts_remote_addr_at", "remote_addr", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    remote_addr: Mapped[str] = mapped_column(String(45))
    succeeded: Mapped[bool]
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PasswordResetToken(Base):
    """A password reset link's token, kept only as its SHA-256 hash."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RecordView(Base):
    """An officer opened a page of a person's record: who, whom, when, which page."""

    __tablename__ = "record_views"
    __table_args__ = (
        Index("ix_record_views_person_at", "person_id", "viewed_at"),
        # The officers' audit log: newest first, and by who viewed.
        Index("ix_record_views_viewed_at", "viewed_at", "id"),
        Index("ix_record_views_viewer_at", "viewer_id", "viewed_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    viewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    page: Mapped[str] = mapped_column(String(200))
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiClient(Base):
    """A machine client of the JSON API. It signs short-lived JWTs (EdDSA, Ed25519) with
    its private key, which dpledger never keeps: only the public key is stored.
    ``client_id`` is the tokens' ``iss``; ``scopes`` (space-separated) bound what any of
    its tokens may ask for; ``provider`` names the card provider whose cards the
    canonical events it posts are about."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    public_key: Mapped[str] = mapped_column(Text)
    scopes: Mapped[str] = mapped_column(String(400))
    provider: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiIdempotencyKey(Base):
    """An ``Idempotency-Key`` a client sent with a POST: the request's hash, and once it
    has finished, the response to send again for a retry with the same key and body."""

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (UniqueConstraint("client_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_status: Mapped[int | None]
    response_content_type: Mapped[str | None] = mapped_column(String(100))
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)


class SearchKey(FunctionElement[str]):
    """A text column as the officers' People page sorts and searches it, ignoring the
    case of the letters A to Z: ``lower(x COLLATE "C")`` on PostgreSQL, ``x COLLATE
    NOCASE`` on SQLite. Both fold A to Z only and compare in code point order, so they
    sort alike, and a prefix is one range of the index whatever the server's locale (in
    a linguistic collation it is not: punctuation is ignored)."""

    type = String()
    name = "search_key"
    inherit_cache = True


@compiles(SearchKey)
def _search_key(element: SearchKey, compiler: Any, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(SearchKey, "postgresql")
def _search_key_postgresql(element: SearchKey, compiler: Any, **kw: Any) -> str:
    return f'lower({compiler.process(element.clauses, **kw)} COLLATE "C")'


@compiles(SearchKey, "sqlite")
def _search_key_sqlite(element: SearchKey, compiler: Any, **kw: Any) -> str:
    return f"{compiler.process(element.clauses, **kw)} COLLATE NOCASE"


# The ledger's people, as the officers' People page finds them (migration 0017): by name
# a page at a time, by the start of a name, and by council reference.
Index("ix_people_name_key", SearchKey(Person.full_name), Person.id)
Index("ix_people_reference_key", SearchKey(Person.council_reference))

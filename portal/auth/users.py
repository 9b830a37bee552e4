"""Creating sign-in accounts (the ``dpledger users`` command and the demo). Flushes only."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from ledger.clock import Clock
from ledger.errors import DomainError, InvalidRecord, UnknownRecord
from portal.auth import passwords
from portal.auth.service import normalise_email
from portal.models import Role, User
from portal.repositories import people as people_repo
from portal.repositories import users as users_repo

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UserExists(DomainError):
    code = "user_exists"
    title = "There is already an account with that email address"
    http_status = 409


def create_user(
    session: Session,
    clock: Clock,
    password_hasher: PasswordHasher,
    *,
    email: str,
    role: Role,
    password: str,
    person_ref: str | None = None,
) -> User:
    """A new active account. A holder's account is linked to the person with council
    reference ``person_ref``; staff accounts are linked to no one."""
    email = normalise_email(email)
    if not _EMAIL.match(email):
        raise InvalidRecord(f"{email!r} is not an email address")
    if users_repo.by_email(session, email) is not None:
        raise UserExists(f"{email} already has an account")
    person_id = None
    if role is Role.HOLDER:
        if not person_ref:
            raise InvalidRecord("a holder's account needs the council reference of their person")
        person = people_repo.by_reference(session, person_ref)
        if person is None:
            raise UnknownRecord(f"no person has council reference {person_ref!r}")
        person_id = person.id
    elif person_ref:
        raise InvalidRecord("only a holder's account is linked to a person")
    passwords.check_new_password(password)
    now = clock.now()
    user = User(
        email=email,
        password_hash=password_hasher.hash(password),
        role=role,
        person_id=person_id,
        active=True,
        session_epoch=0,
        password_changed_at=now,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user

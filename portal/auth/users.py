"""Creating sign-in accounts (the ``dpledger users`` command and the demo), and disabling
them for someone who leaves (and enabling them again). Flushes only."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from ledger.clock import Clock
from ledger.errors import DomainError, InvalidRecord, UnknownRecord
from monitoring.audit import record_action, require_officer, require_reason
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


# audit_entries.actor is String(120).
ACTOR_MAX = 120


def set_sign_in_active(
    session: Session, clock: Clock, *, email: str, active: bool, by: str, reason: str
) -> tuple[User, bool]:
    """Disable a sign-in (someone has left), or enable it again; returns the account and
    whether it changed. Disabling ends every session it has at once (``session_epoch``
    moves on, so not even enabling it again brings one back) and retires its reset
    links; signing in is then refused as a wrong password is. Each change is in the
    audit log (``sign_in_disabled`` or ``sign_in_enabled``) with who and why; one that
    changes nothing is not recorded."""
    by, reason = require_officer(by), require_reason(reason)
    if len(by) > ACTOR_MAX:
        raise InvalidRecord(f"name who is doing this in {ACTOR_MAX} characters or fewer")
    user = users_repo.by_email(session, normalise_email(email))
    if user is None:
        raise UnknownRecord(f"no sign-in account has the email address {normalise_email(email)}")
    if user.active == active:
        return user, False
    now = clock.now()
    user.active = active
    if not active:
        user.session_epoch += 1
        users_repo.retire_reset_tokens(session, user.id, now)
    session.flush()
    record_action(
        session,
        clock,
        actor=by,
        action="sign_in_enabled" if active else "sign_in_disabled",
        subject_type="user",
        subject_id=user.id,
        reason=reason,
        before={"active": not active},
        after={"active": active, "sign_in": user.email},
    )
    return user, True

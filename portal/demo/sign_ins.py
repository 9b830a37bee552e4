"""The demo's sign-ins: a holder, a carer, a budget owner with a companion pot, a
companion, two officers and an admin, all with the same demo-only password."""

from __future__ import annotations

from collections.abc import Collection

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from ledger.clock import Clock
from portal.auth import passwords
from portal.auth.users import create_user
from portal.models import Role
from portal.repositories import users as users_repo

# For the demo database only: printed by `dpledger demo load` (which `make demo` runs)
# and `dpledger demo sign-ins`, always from here.
DEMO_PASSWORD = "demo-only-password"  # noqa: S105
DEMO_SIGN_INS: tuple[tuple[str, Role, str | None, str], ...] = (
    ("margaret.hughes@example.org", Role.HOLDER, "DEMO-0003", "holder: Margaret's card"),
    ("harry.hughes@example.org", Role.HOLDER, "DEMO-0004", "carer: Harry's carer's card"),
    ("vivian.shaw@example.org", Role.HOLDER, "DEMO-0007", "holder: sees John's companion pot"),
    ("john.shaw@example.org", Role.HOLDER, "DEMO-0008", "companion: John's card and pot only"),
    ("officer@example.org", Role.OFFICER, None, "monitoring officer"),
    ("senior.officer@example.org", Role.SENIOR_OFFICER, None, "senior officer (approves)"),
    ("admin@example.org", Role.ADMIN, None, "admin: sign-in accounts"),
)


def sign_in_lines(emails: Collection[str] | None = None) -> list[str]:
    """The lines that print the demo's sign-ins: every one, or those in ``emails``."""
    shown = [
        (email, note) for email, _, _, note in DEMO_SIGN_INS if emails is None or email in emails
    ]
    if not shown:
        return ["this database has none of the demo's sign-ins"]
    lines = [f"sign-ins (password for all, demo only: {DEMO_PASSWORD}):"]
    lines += [f"  {email:<29} {note}" for email, note in shown]
    return lines


def existing_sign_in_lines(session: Session) -> list[str]:
    """The lines for the demo's sign-ins that this database has."""
    emails = [email for email, *_ in DEMO_SIGN_INS]
    return sign_in_lines(users_repo.emails_with_accounts(session, emails))


def create_sign_ins(
    session: Session, clock: Clock, password_hasher: PasswordHasher | None = None
) -> list[str]:
    """Create every demo sign-in; returns the lines that print them."""
    hasher = password_hasher or passwords.hasher()
    for email, role, person_ref, _ in DEMO_SIGN_INS:
        create_user(
            session,
            clock,
            hasher,
            email=email,
            role=role,
            password=DEMO_PASSWORD,
            person_ref=person_ref,
        )
    return sign_in_lines()

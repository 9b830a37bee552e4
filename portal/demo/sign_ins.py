"""The demo's sign-ins: a holder, a carer, a budget owner with a companion pot, a
companion, two officers and an admin, all with the same demo-only password."""

from __future__ import annotations

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from ledger.clock import Clock
from portal.auth import passwords
from portal.auth.users import create_user
from portal.models import Role

# For the demo database only: printed by `dpledger demo load` and `make demo`.
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


def create_sign_ins(
    session: Session, clock: Clock, password_hasher: PasswordHasher | None = None
) -> list[str]:
    """Create every demo sign-in; returns the lines that print them."""
    hasher = password_hasher or passwords.hasher()
    lines = [f"sign-ins (password for all, demo only: {DEMO_PASSWORD}):"]
    for email, role, person_ref, note in DEMO_SIGN_INS:
        create_user(
            session,
            clock,
            hasher,
            email=email,
            role=role,
            password=DEMO_PASSWORD,
            person_ref=person_ref,
        )
        lines.append(f"  {email:<29} {note}")
    return lines

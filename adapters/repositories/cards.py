"""Read-only queries on the ledger's cards, in the shape the adapters need."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Row, bindparam, select
from sqlalchemy.exc import MultipleResultsFound
from sqlalchemy.orm import Session

from ledger import hot_sql
from ledger.models import Account, AccountKind, Card, CardStatus, CompanionPot


@dataclass(frozen=True)
class CardRef:
    """A card and the accounts it touches: what it draws on, and the personal budget that
    account is (or belongs to, for a companion pot)."""

    card_id: int
    provider: str
    token: str
    status: CardStatus
    account_id: int
    pot_id: int | None
    budget_account_id: int


_CARD_REF_COLUMNS = (
    Card.provider_card_token,
    Card.id,
    Card.status,
    Card.account_id,
    Card.pot_id,
    CompanionPot.budget_account_id,
)
_CHUNK = 500  # values in one IN (...) list
# Built once: every provider event looks its card up.
_CARD_REF = (
    select(*_CARD_REF_COLUMNS)
    .outerjoin(CompanionPot, CompanionPot.id == Card.pot_id)
    .where(Card.provider == bindparam("provider"), Card.provider_card_token == bindparam("token"))
)


def card_ref(session: Session, provider: str, token: str) -> CardRef | None:
    """The card with this provider token. Read through the session's connection rather
    than the ORM: it needs nothing a deferred batch of postings holds back, so it does not
    make the ledger write them early."""
    found = hot_sql.run(session, _CARD_REF, {"provider": provider, "token": token})
    if len(found) > 1:
        raise MultipleResultsFound(f"{len(found)} {provider} cards with one token")
    return _card_ref(provider, found[0]) if found else None


def card_refs(session: Session, provider: str, tokens: Iterable[str]) -> dict[str, CardRef]:
    """The cards with these provider tokens (those that exist), a few statements for any
    number of tokens; read like ``card_ref``."""
    wanted = sorted(set(tokens))
    found: dict[str, CardRef] = {}
    connection = session.connection()
    for start in range(0, len(wanted), _CHUNK):
        rows = connection.execute(
            select(*_CARD_REF_COLUMNS)
            .outerjoin(CompanionPot, CompanionPot.id == Card.pot_id)
            .where(
                Card.provider == provider,
                Card.provider_card_token.in_(wanted[start : start + _CHUNK]),
            )
        )
        for row in rows:
            found[row[0]] = _card_ref(provider, row)
    return found


_CardRow = Row[str, int, CardStatus, int, int | None, int]


def _card_ref(provider: str, row: _CardRow) -> CardRef:
    token, card_id, status, account_id, pot_id, pot_budget = row
    return CardRef(
        card_id=card_id,
        provider=provider,
        token=token,
        status=status,
        account_id=account_id,
        pot_id=pot_id,
        budget_account_id=pot_budget if pot_id is not None else account_id,
    )


def card_token(session: Session, card_id: int) -> tuple[str, str] | None:
    """(provider, provider card token) of a card."""
    row = session.execute(
        select(Card.provider, Card.provider_card_token).where(Card.id == card_id)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def arrears_account_id(session: Session, budget_account_id: int) -> int | None:
    return session.execute(
        select(Account.id).where(
            Account.parent_id == budget_account_id, Account.kind == AccountKind.ARREARS
        )
    ).scalar()


def arrears_account_ids(session: Session, budget_account_ids: Sequence[int]) -> dict[int, int]:
    """{budget account id: its arrears account id} for these budgets (those that have one)."""
    wanted = sorted(set(budget_account_ids))
    found: dict[int, int] = {}
    for start in range(0, len(wanted), _CHUNK):
        rows = session.execute(
            select(Account.parent_id, Account.id).where(
                Account.parent_id.in_(wanted[start : start + _CHUNK]),
                Account.kind == AccountKind.ARREARS,
            )
        )
        found.update({int(parent): int(arrears) for parent, arrears in rows if parent is not None})
    return found

"""cards by companion pot: a budget's pots and their cards, and a holder's companion cards

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The holder's card page lists the companion cards on each pot of the budget, and the
    # holder's cards page the companion cards on pots of their budget: without this, each
    # read every card (portal/repositories/holder_cards.py).
    op.create_index("ix_cards_pot_id", "cards", ["pot_id"])


def downgrade() -> None:
    op.drop_index("ix_cards_pot_id", table_name="cards")

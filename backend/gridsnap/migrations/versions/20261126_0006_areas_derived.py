"""areas: which ones were derived from their children (recomputed by later imports)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 12:00:00

An ancestor that a grid file did not contain is made as the union of its children and named by
its code; such an area is marked `derived`, and every later import that adds or changes one of
its children recomputes it. Areas stored before this column existed are marked derived by that
same sign: a district, street or community whose name is its code.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('areas', sa.Column('derived', sa.Boolean(), server_default='false',
                                     nullable=False))
    op.execute("UPDATE areas SET derived = true WHERE level <> 'cell' AND name = code")


def downgrade() -> None:
    op.drop_column('areas', 'derived')

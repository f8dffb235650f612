"""case_events.public_note and photos.public_at: only what staff mark public leaves by Open311

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 10:00:00

Until now Open311 showed the note of the latest answer/resolve/close/verify/reject/reopen as
`status_notes` and the first photo of a public case as `media_url`. Staff wrote those notes as
internal notes (a phone number, a name), and a worker's photo may show a licence plate or a
face. From here on a note is internal; the public reply is its own field, and a photo is
public only once staff mark it so. Existing notes and photos stay internal: nothing written
before this revision was written for the public.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('case_events', sa.Column('public_note', sa.Text(), nullable=True))
    op.add_column('photos', sa.Column('public_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('photos', 'public_at')
    op.drop_column('case_events', 'public_note')

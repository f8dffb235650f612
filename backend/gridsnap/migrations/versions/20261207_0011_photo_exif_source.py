"""photos.exif_source: where a photo's EXIF time and place came from

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 12:00:00

'file': read by the photo job from the stored bytes; 'device': only the values the phone sent
with them (a photo it made smaller before it copied the camera's EXIF into it). Photos processed
before this column are left NULL: which one it was is not known any more.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('photos', sa.Column('exif_source', sa.String(length=6), nullable=True))
    op.create_check_constraint(op.f('ck_photos_exif_source_known'), 'photos',
                               "exif_source IN ('file', 'device')")


def downgrade() -> None:
    op.drop_constraint(op.f('ck_photos_exif_source_known'), 'photos', type_='check')
    op.drop_column('photos', 'exif_source')

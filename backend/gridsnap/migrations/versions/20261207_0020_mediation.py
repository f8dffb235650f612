"""矛盾纠纷: photos of the signed agreement (人民调解协议书) on a dispute

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 13:00:00

The bytes are in the photo store (gridsnap.storage), keyed by content hash like a case photo's;
a row per photo the phone sent, under the phone's id.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'dispute_photos',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('dispute_id', sa.UUID(), nullable=False),
        sa.Column('uploader_id', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('content_type', sa.String(length=20), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('original_key', sa.Text(), nullable=False),
        sa.Column('thumb_key', sa.Text(), nullable=False),
        sa.Column('display_key', sa.Text(), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.CheckConstraint("content_type IN ('image/jpeg', 'image/png', 'image/webp')",
                           name=op.f('ck_dispute_photos_content_type_known')),
        sa.CheckConstraint('size_bytes > 0 AND width > 0 AND height > 0',
                           name=op.f('ck_dispute_photos_sizes_positive')),
        sa.ForeignKeyConstraint(['dispute_id'], ['disputes.id'],
                                name=op.f('fk_dispute_photos_dispute_id_disputes'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['uploader_id'], ['users.id'],
                                name=op.f('fk_dispute_photos_uploader_id_users'),
                                ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dispute_photos')),
    )
    op.create_index('ix_dispute_photos_dispute_uploaded', 'dispute_photos',
                    ['dispute_id', 'uploaded_at'])


def downgrade() -> None:
    op.drop_index('ix_dispute_photos_dispute_uploaded', table_name='dispute_photos')
    op.drop_table('dispute_photos')

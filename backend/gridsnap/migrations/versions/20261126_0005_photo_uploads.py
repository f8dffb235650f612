"""photos: resumable (tus) uploads in progress

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('photo_uploads',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('report_id', sa.UUID(), nullable=False),
    sa.Column('photo_id', sa.UUID(), nullable=False),
    sa.Column('uploader_id', sa.BigInteger(), nullable=False),
    sa.Column('purpose', sa.String(length=12), nullable=False),
    sa.Column('content_type', sa.String(length=20), nullable=False),
    sa.Column('device_exif', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('length_bytes', sa.Integer(), nullable=False),
    sa.Column('offset_bytes', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("content_type IN ('image/jpeg', 'image/png', 'image/webp')", name=op.f('ck_photo_uploads_content_type_known')),
    sa.CheckConstraint("purpose IN ('report', 'resolution', 'verification')", name=op.f('ck_photo_uploads_purpose_known')),
    sa.CheckConstraint('length_bytes > 0', name=op.f('ck_photo_uploads_length_positive')),
    sa.CheckConstraint('offset_bytes >= 0 AND offset_bytes <= length_bytes', name=op.f('ck_photo_uploads_offset_within_length')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_photo_uploads_report_id_reports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploader_id'], ['users.id'], name=op.f('fk_photo_uploads_uploader_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photo_uploads'))
    )
    op.create_index('ix_photo_uploads_expires_at', 'photo_uploads', ['expires_at'], unique=False)
    op.create_index(op.f('ix_photo_uploads_report_id'), 'photo_uploads', ['report_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_photo_uploads_report_id'), table_name='photo_uploads')
    op.drop_index('ix_photo_uploads_expires_at', table_name='photo_uploads')
    op.drop_table('photo_uploads')

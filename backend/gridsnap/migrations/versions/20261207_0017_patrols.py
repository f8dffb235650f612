"""按时巡: patrols, their track points, the coverage per cell, the patrol plans

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 13:00:00

Track points are personal data, purged after the retention period (patrols.purge_tracks);
patrols and patrol_cells keep the figures.
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'patrols',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('worker_id', sa.BigInteger(), nullable=False),
        sa.Column('worker_scopes', postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.Column('points', sa.Integer(), server_default='0', nullable=False),
        sa.Column('distance_m', sa.Float(), server_default='0', nullable=False),
        sa.Column('seconds', sa.Float(), server_default='0', nullable=False),
        sa.Column('max_speed_mps', sa.Float(), nullable=True),
        sa.Column('flags', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
        sa.Column('track_purged_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('ended_at IS NULL OR ended_at >= started_at',
                           name=op.f('ck_patrols_ends_after_start')),
        sa.ForeignKeyConstraint(['worker_id'], ['users.id'],
                                name=op.f('fk_patrols_worker_id_users'), ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_patrols')),
    )
    op.create_index('ix_patrols_worker_started', 'patrols', ['worker_id', 'started_at'])
    op.create_index('ix_patrols_started_at', 'patrols', ['started_at'])
    op.create_table(
        'track_points',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('patrol_id', sa.UUID(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('location', geoalchemy2.types.Geometry(
            geometry_type='POINT', srid=4326, spatial_index=False,
            from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
        sa.Column('accuracy_m', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(['patrol_id'], ['patrols.id'],
                                name=op.f('fk_track_points_patrol_id_patrols'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_track_points')),
    )
    op.create_index('ix_track_points_patrol_at', 'track_points', ['patrol_id', 'recorded_at'])
    op.create_table(
        'patrol_cells',
        sa.Column('patrol_id', sa.UUID(), nullable=False),
        sa.Column('cell_code', sa.String(length=15), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.Column('length_m', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['cell_code'], ['areas.code'],
                                name=op.f('fk_patrol_cells_cell_code_areas'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['patrol_id'], ['patrols.id'],
                                name=op.f('fk_patrol_cells_patrol_id_patrols'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('patrol_id', 'cell_code', name=op.f('pk_patrol_cells')),
    )
    op.create_index('ix_patrol_cells_cell_code', 'patrol_cells', ['cell_code'])
    op.create_table(
        'patrol_plans',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('area_prefix', sa.String(length=15), nullable=False),
        sa.Column('visits_per_week', sa.SmallInteger(), nullable=False),
        sa.Column('window_start', sa.Time(), nullable=True),
        sa.Column('window_end', sa.Time(), nullable=True),
        sa.Column('created_by_id', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.CheckConstraint("area_prefix ~ '^[0-9]{0,15}$'",
                           name=op.f('ck_patrol_plans_area_prefix_digits')),
        sa.CheckConstraint('visits_per_week BETWEEN 1 AND 100',
                           name=op.f('ck_patrol_plans_visits_range')),
        sa.CheckConstraint('(window_start IS NULL) = (window_end IS NULL)',
                           name=op.f('ck_patrol_plans_window_whole')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_patrol_plans_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_patrol_plans')),
        sa.UniqueConstraint('area_prefix', name=op.f('uq_patrol_plans_area_prefix')),
    )


def downgrade() -> None:
    op.drop_table('patrol_plans')
    op.drop_table('patrol_cells')
    op.drop_table('track_points')
    op.drop_table('patrols')

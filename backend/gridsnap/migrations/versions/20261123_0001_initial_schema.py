"""create grid, catalogue, users, reports, photos, events and outbox

Revision ID: 0001
Revises:
Create Date: 2026-11-23 15:32:52.036523
"""

from collections.abc import Sequence

import geoalchemy2  # noqa: F401  (geometry column types)
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # PostGIS must exist before the first geometry column (a superuser, or an operator, creates it)
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table('areas',
    sa.Column('code', sa.String(length=15), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('parent_code', sa.String(length=15), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('name_en', sa.Text(), nullable=True),
    sa.Column('boundary', geoalchemy2.types.Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(level = 'district' AND code ~ '^[0-9]{6}$') OR (level = 'street' AND code ~ '^[0-9]{9}$') OR (level = 'community' AND code ~ '^[0-9]{12}$') OR (level = 'cell' AND code ~ '^[0-9]{14,15}$')", name=op.f('ck_areas_level_matches_code')),
    sa.CheckConstraint('ST_IsValid(boundary)', name=op.f('ck_areas_boundary_valid')),
    sa.CheckConstraint('parent_code IS NULL OR starts_with(code, parent_code)', name=op.f('ck_areas_code_extends_parent')),
    sa.ForeignKeyConstraint(['parent_code'], ['areas.code'], name=op.f('fk_areas_parent_code_areas'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_areas'))
    )
    op.create_index('ix_areas_boundary', 'areas', ['boundary'], unique=False, postgresql_using='gist')
    op.create_index('ix_areas_cell_boundary', 'areas', ['boundary'], unique=False, postgresql_using='gist', postgresql_where="level = 'cell'")
    op.create_index('ix_areas_code_prefix', 'areas', ['code'], unique=False, postgresql_ops={'code': 'text_pattern_ops'})
    op.create_index(op.f('ix_areas_parent_code'), 'areas', ['parent_code'], unique=False)
    op.create_table('departments',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('name_en', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_departments'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('topic', sa.String(length=60), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('enqueued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('job_id', sa.String(length=120), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    op.create_index('ix_outbox_in_flight', 'outbox', ['enqueued_at'], unique=False, postgresql_where='enqueued_at IS NOT NULL AND done_at IS NULL')
    op.create_index('ix_outbox_pending', 'outbox', ['id'], unique=False, postgresql_where='enqueued_at IS NULL AND done_at IS NULL')
    op.create_table('categories',
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('major_code', sa.String(length=2), nullable=False),
    sa.Column('major_name', sa.Text(), nullable=False),
    sa.Column('major_name_en', sa.Text(), nullable=True),
    sa.Column('minor_code', sa.String(length=2), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('name_en', sa.Text(), nullable=True),
    sa.Column('department_code', sa.String(length=40), nullable=True),
    sa.Column('priority', sa.SmallInteger(), server_default='3', nullable=False),
    sa.Column('time_limits', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.CheckConstraint("code ~ '^[CE][0-9]{4}$'", name=op.f('ck_categories_code_form')),
    sa.CheckConstraint("jsonb_typeof(time_limits) = 'object' AND time_limits ?& ARRAY['accept','handle','verify']", name=op.f('ck_categories_time_limits_stages')),
    sa.CheckConstraint("kind IN ('component', 'event')", name=op.f('ck_categories_kind_known')),
    sa.CheckConstraint('priority BETWEEN 1 AND 3', name=op.f('ck_categories_priority_range')),
    sa.ForeignKeyConstraint(['department_code'], ['departments.code'], name=op.f('fk_categories_department_code_departments'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_categories'))
    )
    op.create_table('users',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.Text(), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('department_code', sa.String(length=40), nullable=True),
    sa.Column('scopes', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role <> 'handler' OR department_code IS NOT NULL", name=op.f('ck_users_handler_has_department')),
    sa.CheckConstraint("role IN ('worker', 'supervisor', 'handler', 'admin')", name=op.f('ck_users_role_known')),
    sa.CheckConstraint("username ~ '^[A-Za-z0-9_.@-]{2,64}$'", name=op.f('ck_users_username_form')),
    sa.ForeignKeyConstraint(['department_code'], ['departments.code'], name=op.f('fk_users_department_code_departments'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('token_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('label', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('expires_at > created_at', name=op.f('ck_api_tokens_expires_after_created')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_index(op.f('ix_api_tokens_user_id'), 'api_tokens', ['user_id'], unique=False)
    op.create_table('reports',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('number', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('reporter_id', sa.BigInteger(), nullable=False),
    sa.Column('category_code', sa.String(length=8), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('location', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('accuracy_m', sa.Float(), nullable=True),
    sa.Column('location_source', sa.String(length=10), server_default='gps', nullable=False),
    sa.Column('captured_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('area_code', sa.String(length=15), nullable=True),
    sa.Column('cell_code', sa.String(length=15), nullable=True),
    sa.Column('community_code', sa.String(length=15), nullable=True),
    sa.Column('street_code', sa.String(length=15), nullable=True),
    sa.Column('district_code', sa.String(length=15), nullable=True),
    sa.Column('outside_grid', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=12), server_default='reported', nullable=False),
    sa.Column('department_code', sa.String(length=40), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('routed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fingerprint', sa.LargeBinary(length=32), nullable=False),
    sa.CheckConstraint("location_source IN ('gps', 'network', 'manual')", name=op.f('ck_reports_source_known')),
    sa.CheckConstraint("status IN ('reported', 'accepted', 'rejected', 'duplicate', 'dispatched', 'returned', 'resolved', 'closed')", name=op.f('ck_reports_status_known')),
    sa.CheckConstraint('accuracy_m IS NULL OR (accuracy_m >= 0 AND accuracy_m <= 100000)', name=op.f('ck_reports_accuracy_range')),
    sa.CheckConstraint('cell_code IS NULL OR starts_with(cell_code, community_code)', name=op.f('ck_reports_cell_in_community')),
    sa.CheckConstraint('char_length(description) <= 2000', name=op.f('ck_reports_description_length')),
    sa.CheckConstraint('octet_length(fingerprint) = 32', name=op.f('ck_reports_fingerprint_sha256')),
    sa.CheckConstraint('outside_grid = (cell_code IS NULL)', name=op.f('ck_reports_outside_grid_means_no_cell')),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], name=op.f('fk_reports_area_code_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['category_code'], ['categories.code'], name=op.f('fk_reports_category_code_categories'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['cell_code'], ['areas.code'], name=op.f('fk_reports_cell_code_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['community_code'], ['areas.code'], name=op.f('fk_reports_community_code_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['department_code'], ['departments.code'], name=op.f('fk_reports_department_code_departments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['district_code'], ['areas.code'], name=op.f('fk_reports_district_code_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_reports_reporter_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['street_code'], ['areas.code'], name=op.f('fk_reports_street_code_areas'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
    sa.UniqueConstraint('number', name=op.f('uq_reports_number'))
    )
    op.create_index('ix_reports_area_code_prefix', 'reports', ['area_code'], unique=False, postgresql_ops={'area_code': 'text_pattern_ops'})
    op.create_index(op.f('ix_reports_category_code'), 'reports', ['category_code'], unique=False)
    op.create_index('ix_reports_location', 'reports', ['location'], unique=False, postgresql_using='gist')
    op.create_index('ix_reports_open_cell', 'reports', ['cell_code'], unique=False, postgresql_where="status NOT IN ('closed', 'rejected', 'duplicate')")
    op.create_index(op.f('ix_reports_reporter_id'), 'reports', ['reporter_id'], unique=False)
    op.create_index('ix_reports_updated_at', 'reports', ['updated_at', 'id'], unique=False)
    op.create_table('case_events',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('report_id', sa.UUID(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.BigInteger(), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('from_status', sa.String(length=12), nullable=True),
    sa.Column('to_status', sa.String(length=12), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_case_events_actor_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_case_events_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_events'))
    )
    op.create_index('ix_case_events_report_at', 'case_events', ['report_id', 'at'], unique=False)
    op.create_table('photos',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('report_id', sa.UUID(), nullable=False),
    sa.Column('uploader_id', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=20), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('original_key', sa.Text(), nullable=False),
    sa.Column('thumb_key', sa.Text(), nullable=True),
    sa.Column('display_key', sa.Text(), nullable=True),
    sa.Column('exif_taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('exif_location', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('exif_distance_m', sa.Float(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("content_type IN ('image/jpeg', 'image/png', 'image/webp')", name=op.f('ck_photos_content_type_known')),
    sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f('ck_photos_sha256_hex')),
    sa.CheckConstraint('size_bytes > 0', name=op.f('ck_photos_size_positive')),
    sa.CheckConstraint('width > 0 AND height > 0', name=op.f('ck_photos_dimensions_positive')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_photos_report_id_reports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploader_id'], ['users.id'], name=op.f('fk_photos_uploader_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photos'))
    )
    op.create_index(op.f('ix_photos_report_id'), 'photos', ['report_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_photos_report_id'), table_name='photos')
    op.drop_table('photos')
    op.drop_index('ix_case_events_report_at', table_name='case_events')
    op.drop_table('case_events')
    op.drop_index('ix_reports_updated_at', table_name='reports')
    op.drop_index(op.f('ix_reports_reporter_id'), table_name='reports')
    op.drop_index('ix_reports_open_cell', table_name='reports', postgresql_where="status NOT IN ('closed', 'rejected', 'duplicate')")
    op.drop_index('ix_reports_location', table_name='reports', postgresql_using='gist')
    op.drop_index(op.f('ix_reports_category_code'), table_name='reports')
    op.drop_index('ix_reports_area_code_prefix', table_name='reports', postgresql_ops={'area_code': 'text_pattern_ops'})
    op.drop_table('reports')
    op.drop_index(op.f('ix_api_tokens_user_id'), table_name='api_tokens')
    op.drop_table('api_tokens')
    op.drop_table('users')
    op.drop_table('categories')
    op.drop_index('ix_outbox_pending', table_name='outbox', postgresql_where='enqueued_at IS NULL AND done_at IS NULL')
    op.drop_index('ix_outbox_in_flight', table_name='outbox', postgresql_where='enqueued_at IS NOT NULL AND done_at IS NULL')
    op.drop_table('outbox')
    op.drop_table('departments')
    op.drop_index(op.f('ix_areas_parent_code'), table_name='areas')
    op.drop_index('ix_areas_code_prefix', table_name='areas', postgresql_ops={'code': 'text_pattern_ops'})
    op.drop_index('ix_areas_cell_boundary', table_name='areas', postgresql_using='gist', postgresql_where="level = 'cell'")
    op.drop_index('ix_areas_boundary', table_name='areas', postgresql_using='gist')
    op.drop_table('areas')

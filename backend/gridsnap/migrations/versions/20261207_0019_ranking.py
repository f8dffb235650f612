"""考评 ranking, 督办 grounds, extensions in calendar days: area_populations (residents per area,
for requests per 10,000 residents), case_notices.ground (the ground a notice was issued on, kept
with it), extension_requests.unit may be days (7d as well as 7wd), campaigns as 每月一题
programmes (kind, lead department, measures)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 12:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'area_populations',
        sa.Column('area_code', sa.String(length=15), nullable=False),
        sa.Column('population', sa.Integer(), nullable=False),
        sa.Column('source', sa.Text(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.CheckConstraint('population >= 0',
                           name=op.f('ck_area_populations_population_not_negative')),
        sa.ForeignKeyConstraint(['area_code'], ['areas.code'],
                                name=op.f('fk_area_populations_area_code_areas'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('area_code', name=op.f('pk_area_populations')),
    )
    op.add_column('case_notices', sa.Column('ground', sa.String(length=30), nullable=True))
    # the notices issued before: their ground is on their event's data
    op.execute("""
        UPDATE case_notices n SET ground = e.data->>'ground'
          FROM case_events e
         WHERE e.report_id = n.report_id AND e.action = 'case.notice_issued'
           AND e.data->>'notice_id' = n.id::text AND e.data->>'ground' IS NOT NULL
    """)
    op.create_check_constraint(
        op.f('ck_case_notices_ground_known'), 'case_notices',
        "ground IS NULL OR ground IN ('overdue', 'repeated', 'leader_instruction', "
        "'media_exposure', 'repeated_complaints', 'other')")

    op.drop_constraint(op.f('ck_extension_requests_unit_known'), 'extension_requests',
                       type_='check')
    op.create_check_constraint(
        op.f('ck_extension_requests_unit_known'), 'extension_requests',
        "unit IN ('hours', 'working_hours', 'working_days', 'days')")

    op.add_column('campaigns', sa.Column('kind', sa.String(length=20),
                                         server_default='campaign', nullable=False))
    op.add_column('campaigns', sa.Column('lead_department_code', sa.String(length=40),
                                         nullable=True))
    op.add_column('campaigns', sa.Column('measures', postgresql.JSONB(astext_type=sa.Text()),
                                         server_default='[]', nullable=False))
    op.create_foreign_key(op.f('fk_campaigns_lead_department_code_departments'), 'campaigns',
                          'departments', ['lead_department_code'], ['code'],
                          ondelete='RESTRICT')
    op.create_check_constraint(op.f('ck_campaigns_kind_known'), 'campaigns',
                               "kind IN ('campaign', 'monthly_topic')")


def downgrade() -> None:
    op.drop_constraint(op.f('ck_campaigns_kind_known'), 'campaigns', type_='check')
    op.drop_constraint(op.f('fk_campaigns_lead_department_code_departments'), 'campaigns',
                       type_='foreignkey')
    for column in ('measures', 'lead_department_code', 'kind'):
        op.drop_column('campaigns', column)
    op.drop_constraint(op.f('ck_extension_requests_unit_known'), 'extension_requests',
                       type_='check')
    op.create_check_constraint(
        op.f('ck_extension_requests_unit_known'), 'extension_requests',
        "unit IN ('hours', 'working_hours', 'working_days')")
    op.drop_constraint(op.f('ck_case_notices_ground_known'), 'case_notices', type_='check')
    op.drop_column('case_notices', 'ground')
    op.drop_table('area_populations')

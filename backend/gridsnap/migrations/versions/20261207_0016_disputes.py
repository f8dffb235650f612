"""矛盾纠纷: disputes, their parties and mediation trail; the role mediator (调解员)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 12:00:00

A dispute is its own table, never a case: it is on no tile, export, Open311 answer or public
map, and only its reporter, the mediators of its area and the street's 综治 office see it.
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES_BEFORE = "role IN ('worker', 'supervisor', 'handler', 'admin', 'call_taker', 'client')"
ROLES_AFTER = ("role IN ('worker', 'supervisor', 'handler', 'admin', 'call_taker', 'client', "
               "'mediator')")


def upgrade() -> None:
    op.drop_constraint(op.f('ck_users_role_known'), 'users', type_='check')
    op.create_check_constraint(op.f('ck_users_role_known'), 'users', ROLES_AFTER)
    op.create_table(
        'disputes',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('number', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('reporter_id', sa.BigInteger(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('risk', sa.String(length=12), nullable=False),
        sa.Column('description', sa.Text(), server_default='', nullable=False),
        sa.Column('address', sa.Text(), nullable=True),
        sa.Column('location', geoalchemy2.types.Geometry(
            geometry_type='POINT', srid=4326, spatial_index=False,
            from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
        sa.Column('accuracy_m', sa.Float(), nullable=True),
        sa.Column('area_code', sa.String(length=15), nullable=True),
        sa.Column('captured_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.Column('fingerprint', sa.LargeBinary(length=32), nullable=False),
        sa.Column('status', sa.String(length=12), server_default='reported', nullable=False),
        sa.Column('accept_due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('resolve_due_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('follow_up_due_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('agreement', sa.Text(), nullable=True),
        sa.Column('transferred_to', sa.String(length=12), nullable=True),
        sa.Column('transferred_body', sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('neighbours', 'family', 'property', 'labour', 'land', "
                           "'other')", name=op.f('ck_disputes_kind_known')),
        sa.CheckConstraint("risk IN ('normal', 'elevated', 'may_escalate')",
                           name=op.f('ck_disputes_risk_known')),
        sa.CheckConstraint("status IN ('reported', 'accepted', 'mediating', 'agreed', "
                           "'transferred', 'closed')", name=op.f('ck_disputes_status_known')),
        sa.CheckConstraint('char_length(description) <= 2000',
                           name=op.f('ck_disputes_description_length')),
        sa.ForeignKeyConstraint(['area_code'], ['areas.code'],
                                name=op.f('fk_disputes_area_code_areas'), ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['reporter_id'], ['users.id'],
                                name=op.f('fk_disputes_reporter_id_users'), ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_disputes')),
        sa.UniqueConstraint('number', name=op.f('uq_disputes_number')),
    )
    op.create_index('ix_disputes_area_code_prefix', 'disputes', ['area_code'],
                    postgresql_ops={'area_code': 'text_pattern_ops'})
    op.create_index('ix_disputes_received_at', 'disputes', ['received_at'])
    op.create_index(op.f('ix_disputes_reporter_id'), 'disputes', ['reporter_id'])
    op.create_index('ix_disputes_unaccepted_volatile', 'disputes', ['accept_due_at'],
                    postgresql_where=sa.text("status = 'reported' AND risk = 'may_escalate' "
                                             "AND escalated_at IS NULL"))
    op.create_table(
        'dispute_parties',
        sa.Column('dispute_id', sa.UUID(), nullable=False),
        sa.Column('position', sa.SmallInteger(), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('phone', sa.Text(), nullable=True),
        sa.CheckConstraint('char_length(name) BETWEEN 1 AND 100',
                           name=op.f('ck_dispute_parties_name_length')),
        sa.CheckConstraint("phone IS NULL OR phone ~ '^[0-9+() -]{3,32}$'",
                           name=op.f('ck_dispute_parties_phone_form')),
        sa.ForeignKeyConstraint(['dispute_id'], ['disputes.id'],
                                name=op.f('fk_dispute_parties_dispute_id_disputes'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('dispute_id', 'position', name=op.f('pk_dispute_parties')),
    )
    op.create_table(
        'dispute_steps',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('dispute_id', sa.UUID(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.Column('actor_id', sa.BigInteger(), nullable=True),
        sa.Column('action', sa.String(length=60), nullable=False),
        sa.Column('from_status', sa.String(length=12), nullable=True),
        sa.Column('to_status', sa.String(length=12), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), server_default='{}',
                  nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'],
                                name=op.f('fk_dispute_steps_actor_id_users'), ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['dispute_id'], ['disputes.id'],
                                name=op.f('fk_dispute_steps_dispute_id_disputes'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dispute_steps')),
    )
    op.create_index('ix_dispute_steps_dispute_at', 'dispute_steps', ['dispute_id', 'at'])


def downgrade() -> None:
    op.drop_table('dispute_steps')
    op.drop_table('dispute_parties')
    op.drop_table('disputes')
    op.execute("DELETE FROM users WHERE role = 'mediator'")
    op.drop_constraint(op.f('ck_users_role_known'), 'users', type_='check')
    op.create_check_constraint(op.f('ck_users_role_known'), 'users', ROLES_BEFORE)

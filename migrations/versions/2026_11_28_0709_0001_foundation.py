"""foundation: offices, responses, tallies, audit

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 07:10:25.498551

"""
from alembic import op
import sqlalchemy as sa

import core.models.base  # noqa: F401 - custom column types


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('office',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("level IN ('city', 'department', 'district', 'branch', 'commune')", name=op.f('ck_office_level')),
    sa.ForeignKeyConstraint(['parent_id'], ['office.id'], name=op.f('fk_office_parent_id_office')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office')),
    sa.UniqueConstraint('code', name=op.f('uq_office_code'))
    )
    with op.batch_alter_table('office', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_office_parent_id'), ['parent_id'], unique=False)

    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=True),
    sa.Column('target', sa.String(length=128), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_audit_event_office_id_office')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_office_id'), ['office_id'], unique=False)

    op.create_table('monthly_channel_count',
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('instrument_id', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('responses', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_monthly_channel_count_office_id_office')),
    sa.PrimaryKeyConstraint('office_id', 'month', 'instrument_id', 'channel', name=op.f('pk_monthly_channel_count'))
    )
    op.create_table('monthly_tally',
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('instrument_id', sa.String(length=40), nullable=False),
    sa.Column('criterion', sa.String(length=16), nullable=False),
    sa.Column('n1', sa.Integer(), nullable=False),
    sa.Column('n2', sa.Integer(), nullable=False),
    sa.Column('n3', sa.Integer(), nullable=False),
    sa.Column('n4', sa.Integer(), nullable=False),
    sa.Column('n5', sa.Integer(), nullable=False),
    sa.Column('n_none', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_monthly_tally_office_id_office')),
    sa.PrimaryKeyConstraint('office_id', 'month', 'instrument_id', 'criterion', name=op.f('pk_monthly_tally'))
    )
    op.create_table('office_closure',
    sa.Column('ancestor_id', sa.Integer(), nullable=False),
    sa.Column('descendant_id', sa.Integer(), nullable=False),
    sa.Column('depth', sa.SmallInteger(), nullable=False),
    sa.ForeignKeyConstraint(['ancestor_id'], ['office.id'], name=op.f('fk_office_closure_ancestor_id_office'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['descendant_id'], ['office.id'], name=op.f('fk_office_closure_descendant_id_office'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ancestor_id', 'descendant_id', name=op.f('pk_office_closure'))
    )
    with op.batch_alter_table('office_closure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_office_closure_descendant_id'), ['descendant_id'], unique=False)

    op.create_table('response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('answers', sa.String(length=64), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('submitted_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('procedure', sa.String(length=255), nullable=True),
    sa.Column('expectations', sa.JSON(), nullable=True),
    sa.Column('demographics', sa.JSON(), nullable=True),
    sa.Column('counted', sa.Boolean(), nullable=False),
    sa.Column('flags', sa.String(length=64), nullable=True),
    sa.CheckConstraint("channel IN ('kiosk', 'qr', 'generic', 'paper', 'web')", name=op.f('ck_response_channel')),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_response_office_id_office')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_response')),
    sa.UniqueConstraint('uuid', name=op.f('uq_response_uuid'))
    )
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.create_index('ix_response_office_month', ['office_id', 'month'], unique=False)



def downgrade():
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_index('ix_response_office_month')

    op.drop_table('response')
    with op.batch_alter_table('office_closure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_office_closure_descendant_id'))

    op.drop_table('office_closure')
    op.drop_table('monthly_tally')
    op.drop_table('monthly_channel_count')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_office_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))
        batch_op.drop_index(batch_op.f('ix_audit_event_action'))

    op.drop_table('audit_event')
    with op.batch_alter_table('office', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_office_parent_id'))

    op.drop_table('office')

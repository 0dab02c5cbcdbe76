"""kiosk tablets

Revision ID: 0002
Revises: 0003
Create Date: 2026-11-28 07:19:51.770990

"""
from alembic import op
import sqlalchemy as sa

import core.models.base  # noqa: F401 - custom column types


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('kiosk',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('activation_hash', sa.String(length=64), nullable=True),
    sa.Column('activation_expires_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('credential_hash', sa.String(length=64), nullable=True),
    sa.Column('idle_seconds', sa.Integer(), nullable=False),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('activated_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_seen_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pending_reported', sa.Integer(), nullable=True),
    sa.Column('burst_digest', sa.String(length=64), nullable=True),
    sa.Column('burst_count', sa.Integer(), nullable=False),
    sa.Column('burst_started_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_kiosk_office_id_office')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk')),
    sa.UniqueConstraint('activation_hash', name=op.f('uq_kiosk_activation_hash')),
    sa.UniqueConstraint('credential_hash', name=op.f('uq_kiosk_credential_hash'))
    )
    with op.batch_alter_table('kiosk', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kiosk_office_id'), ['office_id'], unique=False)



def downgrade():
    with op.batch_alter_table('kiosk', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kiosk_office_id'))

    op.drop_table('kiosk')

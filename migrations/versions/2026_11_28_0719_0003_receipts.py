"""receipts: office API keys, receipt links, one-use guarantees

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-28 07:15:41.948615

"""
from alembic import op
import sqlalchemy as sa

import core.models.base  # noqa: F401 - custom column types


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('generic_form_use',
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('nonce', name=op.f('pk_generic_form_use'))
    )
    with op.batch_alter_table('generic_form_use', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_generic_form_use_expires_on'), ['expires_on'], unique=False)

    op.create_table('office_api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=80), nullable=True),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_office_api_key_office_id_office')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_api_key')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_office_api_key_key_hash')),
    sa.UniqueConstraint('prefix', name=op.f('uq_office_api_key_prefix'))
    )
    with op.batch_alter_table('office_api_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_office_api_key_office_id'), ['office_id'], unique=False)

    op.create_table('receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('dossier_hash', sa.String(length=64), nullable=False),
    sa.Column('token_id', sa.String(length=32), nullable=False),
    sa.Column('api_key_id', sa.Integer(), nullable=True),
    sa.Column('procedure', sa.String(length=255), nullable=True),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['api_key_id'], ['office_api_key.id'], name=op.f('fk_receipt_api_key_id_office_api_key')),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_receipt_office_id_office')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipt')),
    sa.UniqueConstraint('office_id', 'dossier_hash', name='uq_receipt_office_dossier'),
    sa.UniqueConstraint('token_id', name=op.f('uq_receipt_token_id'))
    )
    with op.batch_alter_table('receipt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipt_api_key_id'), ['api_key_id'], unique=False)

    op.create_table('receipt_use',
    sa.Column('receipt_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['receipt_id'], ['receipt.id'], name=op.f('fk_receipt_use_receipt_id_receipt'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('receipt_id', name=op.f('pk_receipt_use'))
    )


def downgrade():
    op.drop_table('receipt_use')
    with op.batch_alter_table('receipt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipt_api_key_id'))

    op.drop_table('receipt')
    with op.batch_alter_table('office_api_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_office_api_key_office_id'))

    op.drop_table('office_api_key')
    with op.batch_alter_table('generic_form_use', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_generic_form_use_expires_on'))

    op.drop_table('generic_form_use')

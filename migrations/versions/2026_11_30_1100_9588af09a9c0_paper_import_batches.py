"""paper import batches: import_batch, paper_form_number, response.batch_id

Every paper import is a recorded batch (file name, checksum of its normalised rows, rows,
offices, month range, who, when, state); a paper answer names its batch so that the batch can
be undone; form numbers are kept as keyed digests per batch, never beside an answer. Answers
imported before this migration have no batch (they cannot be undone by batch).

Revision ID: 9588af09a9c0
Revises: a61f0c3e9d27
Create Date: 2026-11-30 11:00:00

"""
from alembic import op
import sqlalchemy as sa

from core.models.base import UTCDateTime


# revision identifiers, used by Alembic.
revision = '9588af09a9c0'
down_revision = 'a61f0c3e9d27'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'import_batch',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('file_name', sa.String(length=255), nullable=False),
        sa.Column('checksum', sa.String(length=64), nullable=False),
        sa.Column('instrument_id', sa.String(length=40), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('office_ids', sa.JSON(), nullable=False),
        sa.Column('first_month', sa.String(length=7), nullable=False),
        sa.Column('last_month', sa.String(length=7), nullable=False),
        sa.Column('form_numbers', sa.Boolean(), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('ended_at', UTCDateTime(), nullable=True),
        sa.Column('ended_by', sa.String(length=64), nullable=True),
        sa.Column('replaced_by', sa.Integer(), nullable=True),
        sa.Column('details', sa.JSON(none_as_null=True), nullable=True),
        sa.CheckConstraint("state IN ('active', 'undone', 'replaced')",
                           name=op.f('ck_import_batch_state')),
        sa.ForeignKeyConstraint(['replaced_by'], ['import_batch.id'],
                                name=op.f('fk_import_batch_replaced_by_import_batch')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batch')),
    )
    op.create_index(op.f('ix_import_batch_checksum'), 'import_batch', ['checksum'])
    op.create_index(op.f('ix_import_batch_state'), 'import_batch', ['state'])
    op.create_table(
        'paper_form_number',
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['batch_id'], ['import_batch.id'],
                                name=op.f('fk_paper_form_number_batch_id_import_batch')),
        sa.PrimaryKeyConstraint('digest', name=op.f('pk_paper_form_number')),
    )
    op.create_index(op.f('ix_paper_form_number_batch_id'), 'paper_form_number', ['batch_id'])
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_response_batch_id'), ['batch_id'])
        batch_op.create_foreign_key(batch_op.f('fk_response_batch_id_import_batch'),
                                    'import_batch', ['batch_id'], ['id'])


def downgrade():
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_response_batch_id_import_batch'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_response_batch_id'))
        batch_op.drop_column('batch_id')
    op.drop_index(op.f('ix_paper_form_number_batch_id'), table_name='paper_form_number')
    op.drop_table('paper_form_number')
    op.drop_index(op.f('ix_import_batch_state'), table_name='import_batch')
    op.drop_index(op.f('ix_import_batch_checksum'), table_name='import_batch')
    op.drop_table('import_batch')

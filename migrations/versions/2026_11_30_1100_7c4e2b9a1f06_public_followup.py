"""public follow-up: follow-up code hashes (pending answers, comment handling), published
replies and comments, and the per-office switch of the public results

Revision ID: 7c4e2b9a1f06
Revises: a61f0c3e9d27
Create Date: 2026-11-30 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c4e2b9a1f06'
down_revision = 'a61f0c3e9d27'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pending_answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('followup_hash', sa.String(length=64), nullable=True))
    with op.batch_alter_table('comment_handling', schema=None) as batch_op:
        batch_op.add_column(sa.Column('followup_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('reply_public', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('comment_public', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_index('ix_comment_handling_followup_hash', ['followup_hash'],
                              unique=False)
    with op.batch_alter_table('office', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_results', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))


def downgrade():
    with op.batch_alter_table('office', schema=None) as batch_op:
        batch_op.drop_column('public_results')
    with op.batch_alter_table('comment_handling', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_handling_followup_hash')
        batch_op.drop_column('comment_public')
        batch_op.drop_column('reply_public')
        batch_op.drop_column('followup_hash')
    with op.batch_alter_table('pending_answer', schema=None) as batch_op:
        batch_op.drop_column('followup_hash')

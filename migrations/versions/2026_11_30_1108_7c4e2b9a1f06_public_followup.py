"""public follow-up: follow-up code hashes (pending answers, comment handling), published
replies and comments, and the per-office switch of the public results

Revision ID: 7c4e2b9a1f06
Revises: 7c3e5a90d1f4
Create Date: 2026-11-30 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c4e2b9a1f06'
down_revision = '7c3e5a90d1f4'
branch_labels = None
depends_on = None


# Plain ALTER TABLE statements (SQLite adds a NOT NULL column with a default, and drops an
# unindexed column, in place): a batch would copy and drop ``office``, which other tables
# reference, and SQLite's foreign keys refuse that.

def upgrade():
    op.add_column('pending_answer', sa.Column('followup_hash', sa.String(length=64),
                                              nullable=True))
    op.add_column('comment_handling', sa.Column('followup_hash', sa.String(length=64),
                                                nullable=True))
    op.add_column('comment_handling', sa.Column('reply_public', sa.Boolean(), nullable=False,
                                                server_default=sa.false()))
    op.add_column('comment_handling', sa.Column('comment_public', sa.Boolean(),
                                                nullable=False, server_default=sa.false()))
    op.create_index('ix_comment_handling_followup_hash', 'comment_handling',
                    ['followup_hash'], unique=False)
    op.add_column('office', sa.Column('public_results', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))


def downgrade():
    op.drop_column('office', 'public_results')
    op.drop_index('ix_comment_handling_followup_hash', table_name='comment_handling')
    op.drop_column('comment_handling', 'comment_public')
    op.drop_column('comment_handling', 'reply_public')
    op.drop_column('comment_handling', 'followup_hash')
    op.drop_column('pending_answer', 'followup_hash')

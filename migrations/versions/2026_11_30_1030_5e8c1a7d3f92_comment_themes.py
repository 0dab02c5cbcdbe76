"""comment themes: the fixed tags a handler gives a comment (the instrument's comment_themes)

Revision ID: 5e8c1a7d3f92
Revises: b3f1c7d2e8a4
Create Date: 2026-11-30 10:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e8c1a7d3f92'
down_revision = 'b3f1c7d2e8a4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comment_handling', schema=None) as batch_op:
        batch_op.add_column(sa.Column('themes', sa.JSON(none_as_null=True), nullable=True))


def downgrade():
    with op.batch_alter_table('comment_handling', schema=None) as batch_op:
        batch_op.drop_column('themes')

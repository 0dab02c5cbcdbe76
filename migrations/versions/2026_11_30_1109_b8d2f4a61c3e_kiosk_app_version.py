"""kiosk app version: which version of the kiosk app each tablet last reported

Revision ID: b8d2f4a61c3e
Revises: 7c4e2b9a1f06
Create Date: 2026-11-30 11:09:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8d2f4a61c3e'
down_revision = '7c4e2b9a1f06'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('kiosk', schema=None) as batch_op:
        batch_op.add_column(sa.Column('app_version_reported', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('kiosk', schema=None) as batch_op:
        batch_op.drop_column('app_version_reported')

"""kiosk: submissions the tablet set aside, as reported by its heartbeat

Revision ID: d41b7e2c9a55
Revises: 0005
Create Date: 2026-11-30 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd41b7e2c9a55'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('kiosk', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rejected_reported', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('kiosk', schema=None) as batch_op:
        batch_op.drop_column('rejected_reported')

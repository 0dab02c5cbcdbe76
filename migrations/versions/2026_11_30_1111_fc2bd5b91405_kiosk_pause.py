"""kiosk pause: when a tablet was paused (reversibly), NULL when it is not

A paused tablet shows a "paused" screen instead of the questionnaire and still sends the
answers it already holds; resuming clears the column. Revoking stays final (``revoked_at``).
A plain ADD COLUMN of a nullable column: SQLite and PostgreSQL both do it in place.

Revision ID: fc2bd5b91405
Revises: e41c9b7a2d58
Create Date: 2026-11-30 11:11:00

"""
from alembic import op
import sqlalchemy as sa

from core.models.base import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'fc2bd5b91405'
down_revision = 'e41c9b7a2d58'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('kiosk', sa.Column('paused_at', UTCDateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column('kiosk', 'paused_at')

"""partial responses (kiosk walk-away answers); kiosk offline shell reported by heartbeat

``pending_answer.partial`` and ``response.partial``: the criterion answers of the dimensions a
citizen finished before walking away, sent by the kiosk when its idle reset fires. They go
through the same mixing stage as every answer and are held out of the figures unless
``COUNT_PARTIAL`` (reports show their number). Existing rows are whole questionnaires.

``kiosk.offline_shell_reported``: whether the tablet's page runs under its service worker
(the offline shell that survives a reload during a LAN outage), as its last heartbeat said;
NULL until a tablet reports it.

Revision ID: 009116cd69b4
Revises: f1b0002909de
Create Date: 2026-11-30 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '009116cd69b4'
down_revision = 'f1b0002909de'
branch_labels = None
depends_on = None

TABLES = ('pending_answer', 'response')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('partial', sa.Boolean(), nullable=False,
                                          server_default=sa.false()))
    with op.batch_alter_table('kiosk', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offline_shell_reported', sa.Boolean(), nullable=True))


def downgrade():
    with op.batch_alter_table('kiosk', schema=None) as batch_op:
        batch_op.drop_column('offline_shell_reported')
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('partial')

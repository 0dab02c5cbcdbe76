"""figures version: a token that database triggers renew whenever a table a report reads changes

Finished reports are cached per worker under this token (core/services/report_cache.py). The
table holds one row (id 1) with a random 63-bit token; AFTER INSERT/UPDATE/DELETE triggers on
the tables reports and the report PDF read give it a new random value in the writer's
transaction (SQLite: at once, per row; PostgreSQL: once per transaction, at its commit, by
deferred constraint triggers, and on TRUNCATE; ``response`` on update and delete only, its
inserts always come with tally writes). The list of tables is frozen here;
a later change of the list needs its own migration.

Revision ID: d08fbc25d888
Revises: fc2bd5b91405
Create Date: 2026-11-30 11:12:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd08fbc25d888'
down_revision = 'fc2bd5b91405'
branch_labels = None
depends_on = None

ALL = ("insert", "update", "delete")
TRIGGERS = {**{table: ALL for table in (
    "monthly_tally", "monthly_cross_tally", "monthly_channel_count", "monthly_partial_count",
    "target", "dossier_volume", "receipt", "receipt_use", "office", "office_closure",
    "monthly_expectation_tally", "monthly_priority_tally", "comment_handling")},
    "response": ("update", "delete")}


def upgrade():
    from core.models.figures import trigger_ddl

    op.create_table(
        'figures_version',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('token', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_figures_version_single_row')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_figures_version')),
    )
    for statement in trigger_ddl(op.get_bind().dialect.name, TRIGGERS):
        op.execute(statement)


def downgrade():
    from core.models.figures import drop_ddl

    for statement in drop_ddl(op.get_bind().dialect.name, TRIGGERS):
        op.execute(statement)
    op.drop_table('figures_version')

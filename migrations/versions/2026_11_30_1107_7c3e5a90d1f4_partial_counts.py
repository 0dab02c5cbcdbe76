"""partial counts: released kiosk walk-aways per office-month, for reports without rescans

``monthly_partial_count`` (office x month x instrument -> responses) is kept by the mixing
stage's release and ``flask tallies rebuild``, whether or not ``SIPAS_COUNT_PARTIAL`` puts the
partial answers into the tallies; a report's ``partial_responses`` reads it. Filled here from
the stored responses.

Revision ID: 7c3e5a90d1f4
Revises: 009116cd69b4
Create Date: 2026-11-30 11:07:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c3e5a90d1f4'
down_revision = '009116cd69b4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('monthly_partial_count',
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('instrument_id', sa.String(length=40), nullable=False),
    sa.Column('responses', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_monthly_partial_count_office_id_office')),
    sa.PrimaryKeyConstraint('office_id', 'month', 'instrument_id', name=op.f('pk_monthly_partial_count'))
    )
    op.execute("INSERT INTO monthly_partial_count (office_id, month, instrument_id, responses) "
               "SELECT office_id, month, instrument_id, COUNT(*) FROM response "
               "WHERE counted AND partial GROUP BY office_id, month, instrument_id")


def downgrade():
    op.drop_table('monthly_partial_count')

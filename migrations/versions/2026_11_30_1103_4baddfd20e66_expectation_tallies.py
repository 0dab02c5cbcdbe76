"""expectation tallies: answers per expectation area and level, per office-month

``monthly_expectation_tally`` sums the counted responses' expectations like the criteria
tallies, so the dashboard no longer reads every response of the month (issue 20). Filled
here from the stored responses; kept by the mixing stage's release and by
``flask tallies rebuild`` (which also drops areas or levels that the instrument does not
have, should any old row carry one).

Revision ID: 4baddfd20e66
Revises: f2ddf560bf09
Create Date: 2026-11-30 11:00:00

"""
import json
from collections import defaultdict

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4baddfd20e66'
down_revision = 'f2ddf560bf09'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table('monthly_expectation_tally',
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('instrument_id', sa.String(length=40), nullable=False),
    sa.Column('area', sa.String(length=40), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('responses', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_monthly_expectation_tally_office_id_office')),
    sa.PrimaryKeyConstraint('office_id', 'month', 'instrument_id', 'area', 'level', name=op.f('pk_monthly_expectation_tally'))
    )
    conn = op.get_bind()
    sums = defaultdict(int)
    rows = conn.execute(sa.text(
        "SELECT office_id, month, instrument_id, expectations FROM response "
        "WHERE counted AND expectations IS NOT NULL")).yield_per(20_000)
    for office_id, month, instrument_id, value in rows:
        if isinstance(value, str):
            value = json.loads(value)
        if not value or not isinstance(value, dict):
            continue
        sums[(office_id, month, instrument_id, "", 0)] += 1
        for area, level in value.items():
            if (isinstance(area, str) and 0 < len(area) <= 40 and isinstance(level, int)
                    and not isinstance(level, bool) and 0 < level < 100):
                sums[(office_id, month, instrument_id, area, level)] += 1
    keys = ("office_id", "month", "instrument_id", "area", "level")
    batch = [{**dict(zip(keys, k, strict=True)), "responses": n} for k, n in sorted(sums.items())]
    for start in range(0, len(batch), 5000):
        op.bulk_insert(table, batch[start:start + 5000])


def downgrade():
    op.drop_table('monthly_expectation_tally')

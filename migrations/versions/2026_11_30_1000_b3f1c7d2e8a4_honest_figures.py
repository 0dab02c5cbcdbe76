"""honest figures: a cross-tally of criterion pairs, target operators, SQL NULL for absent JSON

* ``monthly_cross_tally``: per office x month x instrument, the counts a respondent-level
  interval of a dimension or overall index needs (core/scoring.py, CrossLayout). Empty after
  this migration: run ``flask tallies rebuild`` once (until then reports give no interval for
  dimension and overall indices, and say so).
* ``target.operator``: ">" (strictly above, as the plan writes "> 88,00") or ">=" (at least).
  Existing targets become ">=", what the app did so far; ``flask targets import`` loads the
  plan's operators again.
* Absent JSON values were stored as the JSON text ``null`` (SQLAlchemy's default), so
  ``IS NULL`` filters found nothing: every JSON column now stores SQL NULL, and existing JSON
  nulls become SQL NULL. The downgrade keeps them NULL (older code reads both as None).

Revision ID: b3f1c7d2e8a4
Revises: 09be580a0fe0
Create Date: 2026-11-30 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b3f1c7d2e8a4'
down_revision = '09be580a0fe0'
branch_labels = None
depends_on = None

JSON_COLUMNS = (("response", "expectations"), ("response", "demographics"),
                ("pending_answer", "expectations"), ("pending_answer", "demographics"),
                ("audit_event", "details"))


def _json_null(column: str) -> str:
    """SQL true when ``column`` holds the JSON value null (not SQL NULL)."""
    if op.get_bind().dialect.name == "sqlite":
        return f"json_type({column}) = 'null'"
    return f"json_typeof({column}) = 'null'"


def upgrade():
    op.create_table('monthly_cross_tally',
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('instrument_id', sa.String(length=40), nullable=False),
    sa.Column('counts', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_monthly_cross_tally_office_id_office')),
    sa.PrimaryKeyConstraint('office_id', 'month', 'instrument_id', name=op.f('pk_monthly_cross_tally'))
    )
    with op.batch_alter_table('target', schema=None) as batch_op:
        batch_op.add_column(sa.Column('operator', sa.String(length=2), server_default='>=',
                                      nullable=False))
        batch_op.create_check_constraint(op.f('ck_target_operator'), "operator IN ('>', '>=')")
    for table, column in JSON_COLUMNS:
        op.execute(f"UPDATE {table} SET {column} = NULL "  # noqa: S608 - constants
                   f"WHERE {column} IS NOT NULL AND {_json_null(column)}")


def downgrade():
    with op.batch_alter_table('target', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_target_operator'), type_='check')
        batch_op.drop_column('operator')
    op.drop_table('monthly_cross_tally')

"""office history and setup: case-insensitive codes, moves and merges, opening hours,
withdrawn links

* office codes unique whatever their letter case (an expression index on lower(code)); the
  upgrade stops with a clear message naming the codes that collide, changing nothing;
* office_change: dated, audited moves and merges of offices (history of the tree);
* office.opening_hours / opening_days: when the desk is open (tablets offline then
  are flagged);
* office_api_key.links_withdrawn_at: revoking a key stops minting; withdrawing its links
  (a separate choice) makes the links it minted stop working.

Revision ID: f1b0002909de
Revises: d34815283e05
Create Date: 2026-11-30 11:00:00

"""
from alembic import op
import sqlalchemy as sa

from core.models.base import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'f1b0002909de'
down_revision = 'd34815283e05'
branch_labels = None
depends_on = None


def _check_codes() -> None:
    rows = op.get_bind().execute(sa.text(
        "SELECT lower(code), count(*) FROM office GROUP BY lower(code) HAVING count(*) > 1 "
        "ORDER BY lower(code)")).all()
    if rows:
        clash = "; ".join(
            ", ".join(r[0] for r in op.get_bind().execute(
                sa.text("SELECT code FROM office WHERE lower(code) = :c ORDER BY code"),
                {"c": low}).all()) for low, _n in rows)
        raise SystemExit(
            "Cannot make office codes unique whatever their letter case: these codes differ "
            f"only by case: {clash}. Rename or merge those offices (e.g. with flask offices "
            "import), then run the upgrade again. Nothing was changed.")


def upgrade():
    _check_codes()
    with op.batch_alter_table('office', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opening_hours', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('opening_days', sa.String(length=7), nullable=True))
    # after the batch operation on office (on SQLite it copies the table, and an expression
    # index cannot be reflected to be copied along)
    op.create_index('uq_office_code_lower', 'office', [sa.text('lower(code)')], unique=True)
    with op.batch_alter_table('office_api_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('links_withdrawn_at', UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        'office_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('office_id', sa.Integer(), nullable=False),
        sa.Column('old_parent_id', sa.Integer(), nullable=True),
        sa.Column('new_parent_id', sa.Integer(), nullable=True),
        sa.Column('into_id', sa.Integer(), nullable=True),
        sa.Column('effective_on', sa.Date(), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('move', 'merge')", name=op.f('ck_office_change_kind')),
        sa.ForeignKeyConstraint(['office_id'], ['office.id'],
                                name=op.f('fk_office_change_office_id_office')),
        sa.ForeignKeyConstraint(['old_parent_id'], ['office.id'],
                                name=op.f('fk_office_change_old_parent_id_office')),
        sa.ForeignKeyConstraint(['new_parent_id'], ['office.id'],
                                name=op.f('fk_office_change_new_parent_id_office')),
        sa.ForeignKeyConstraint(['into_id'], ['office.id'],
                                name=op.f('fk_office_change_into_id_office')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_office_change')),
    )
    with op.batch_alter_table('office_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_office_change_office_id'), ['office_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('office_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_office_change_office_id'))
    op.drop_table('office_change')
    with op.batch_alter_table('office_api_key', schema=None) as batch_op:
        batch_op.drop_column('links_withdrawn_at')
    op.drop_index('uq_office_code_lower', table_name='office')
    with op.batch_alter_table('office', schema=None) as batch_op:
        batch_op.drop_column('opening_days')
        batch_op.drop_column('opening_hours')

"""official report: priority cross-tally, report texts and finalised report versions

* ``monthly_priority_tally``: per office x month x instrument, respondents by their answer to
  each criterion and the mean of their other criteria (core/services/priorities.py). Empty
  after this migration: run ``flask tallies rebuild`` once (until then "what to fix first"
  says it has too few answers).
* ``report_text``: a head's edits of parts II and III and the signer / recipients of one
  report before it is finalised.
* ``report_version``: finalised ("Chốt báo cáo") versions: frozen figures, texts,
  letterhead, PDF bytes and their SHA-256, who and when.

Revision ID: f2ddf560bf09
Revises: 27e2bb3adeee
Create Date: 2026-11-30 11:00:00

"""
from alembic import op
import sqlalchemy as sa

import core.models.base


# revision identifiers, used by Alembic.
revision = 'f2ddf560bf09'
down_revision = '27e2bb3adeee'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('monthly_priority_tally',
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('instrument_id', sa.String(length=40), nullable=False),
    sa.Column('counts', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_monthly_priority_tally_office_id_office')),
    sa.PrimaryKeyConstraint('office_id', 'month', 'instrument_id', name=op.f('pk_monthly_priority_tally'))
    )
    op.create_table('report_text',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=32), nullable=False),
    sa.Column('instrument_id', sa.String(length=40), nullable=False),
    sa.Column('texts', sa.JSON(), nullable=False),
    sa.Column('overrides', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_report_text_office_id_office')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_text')),
    sa.UniqueConstraint('office_id', 'period', 'instrument_id', name=op.f('uq_report_text_office_id'))
    )
    op.create_table('report_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=32), nullable=False),
    sa.Column('instrument_id', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('texts', sa.JSON(), nullable=False),
    sa.Column('letterhead', sa.JSON(), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('finalised_by', sa.String(length=64), nullable=False),
    sa.Column('finalised_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_report_version_office_id_office')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_version')),
    sa.UniqueConstraint('office_id', 'period', 'instrument_id', 'version', name=op.f('uq_report_version_office_id'))
    )
    with op.batch_alter_table('report_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_version_office_id'), ['office_id'], unique=False)


def downgrade():
    with op.batch_alter_table('report_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_version_office_id'))
    op.drop_table('report_version')
    op.drop_table('report_text')
    op.drop_table('monthly_priority_tally')

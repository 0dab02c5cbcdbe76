"""the mixing stage: pending answers, kiosk submission keys; no exact times on answers

Answers are now acknowledged into ``pending_answer`` and released into ``response`` by
``flask responses mix`` (core/services/mixing.py). This migration also scrubs what earlier
versions stored and that could tie an answer to a person, a receipt or a counter:

* ``response.started_at`` is dropped; ``submitted_at`` and ``received_at`` are coarsened to
  the start of the answer's Vietnam day (00:00 at UTC+7);
* the procedure that earlier versions copied from a receipt into a QR answer is cleared;
* the kiosk's burst-detection columns (a keyed digest of its last answers) are dropped, and
  its ``last_seen_at`` is cleared (it was written with each answer; heartbeats set it again).

Rows stored before this migration keep their ids, in arrival order (see the README's privacy
section).

Revision ID: c7e2a91f5b30
Revises: 0004
Create Date: 2026-11-30 07:30:00

"""
from alembic import op
import sqlalchemy as sa

import core.models.base  # noqa: F401 - custom column types


# revision identifiers, used by Alembic.
revision = 'c7e2a91f5b30'
down_revision = '0004'
branch_labels = None
depends_on = None


def _coarsen(column: str) -> str:
    """SQL giving the start of the Vietnam day of ``column`` (stored in UTC)."""
    if op.get_bind().dialect.name == "sqlite":
        return f"datetime(date({column}, '+7 hours'), '-7 hours') || '.000000'"
    return (f"(date_trunc('day', {column} AT TIME ZONE 'Asia/Ho_Chi_Minh') "
            f"AT TIME ZONE 'Asia/Ho_Chi_Minh')")


def upgrade():
    op.create_table('pending_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('instrument_id', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('answers', sa.String(length=64), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('procedure', sa.String(length=255), nullable=True),
    sa.Column('expectations', sa.JSON(), nullable=True),
    sa.Column('demographics', sa.JSON(), nullable=True),
    sa.Column('counted', sa.Boolean(), nullable=False),
    sa.Column('flags', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_pending_answer_office_id_office')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_answer'))
    )
    with op.batch_alter_table('pending_answer', schema=None) as batch_op:
        batch_op.create_index('ix_pending_answer_office_day', ['office_id', 'day'], unique=False)

    op.create_table('submission_key',
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('key_hash', name=op.f('pk_submission_key'))
    )
    with op.batch_alter_table('submission_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_key_expires_on'), ['expires_on'], unique=False)

    day = _coarsen("submitted_at")
    op.execute(f"UPDATE response SET submitted_at = {day}")  # noqa: S608 - constants
    op.execute("UPDATE response SET received_at = submitted_at")
    op.execute("UPDATE response SET procedure = NULL WHERE channel = 'qr'")
    op.execute("UPDATE kiosk SET last_seen_at = NULL")
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_column('started_at')
    with op.batch_alter_table('kiosk', schema=None) as batch_op:
        batch_op.drop_column('burst_started_at')
        batch_op.drop_column('burst_count')
        batch_op.drop_column('burst_digest')


def downgrade():
    # the times and copies scrubbed by upgrade() are not restored
    with op.batch_alter_table('kiosk', schema=None) as batch_op:
        batch_op.add_column(sa.Column('burst_digest', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('burst_count', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('burst_started_at', core.models.base.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('started_at', core.models.base.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('submission_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_key_expires_on'))
    op.drop_table('submission_key')
    with op.batch_alter_table('pending_answer', schema=None) as batch_op:
        batch_op.drop_index('ix_pending_answer_office_day')
    op.drop_table('pending_answer')

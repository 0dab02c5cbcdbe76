"""daily work: held-back answers' review state, comment assignment, e-mail alerts

response.review: what a reviewer did with a held-back (uncounted) answer (NULL = waiting,
released, discarded), with a partial index on the waiting ones; comment_handling.assigned_to;
alert_subscription (what a head wants to hear about an office) and alert_sent (what was sent,
so nothing is sent twice).

Revision ID: 27e2bb3adeee
Revises: 9588af09a9c0
Create Date: 2026-11-30 10:12:08.544797+00:00

"""
from alembic import op
import sqlalchemy as sa

import core.models.base  # noqa: F401 - custom column types


# revision identifiers, used by Alembic.
revision = '27e2bb3adeee'
down_revision = '9588af09a9c0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('alert_sent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=96), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('sent_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_sent')),
    sa.UniqueConstraint('kind', 'key', 'email', name=op.f('uq_alert_sent_kind'))
    )
    op.create_table('alert_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('digest', sa.Boolean(), nullable=False),
    sa.Column('offline', sa.Boolean(), nullable=False),
    sa.Column('report', sa.Boolean(), nullable=False),
    sa.Column('held', sa.Boolean(), nullable=False),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_alert_subscription_office_id_office'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_alert_subscription_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_subscription')),
    sa.UniqueConstraint('user_id', 'office_id', name=op.f('uq_alert_subscription_user_id'))
    )
    with op.batch_alter_table('comment_handling', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assigned_to', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_comment_handling_assigned_to'), ['assigned_to'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_comment_handling_assigned_to_app_user'), 'app_user', ['assigned_to'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review', sa.String(length=16), nullable=True))
        batch_op.create_check_constraint(op.f('ck_response_review'),
                                         "review IN ('released', 'discarded')")
        batch_op.create_index('ix_response_held', ['office_id'], unique=False, postgresql_where=sa.text('NOT counted AND review IS NULL'), sqlite_where=sa.text('NOT counted AND review IS NULL'))



def downgrade():
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_index('ix_response_held', postgresql_where=sa.text('NOT counted AND review IS NULL'), sqlite_where=sa.text('NOT counted AND review IS NULL'))
        batch_op.drop_constraint(op.f('ck_response_review'), type_='check')
        batch_op.drop_column('review')

    with op.batch_alter_table('comment_handling', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_comment_handling_assigned_to_app_user'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_comment_handling_assigned_to'))
        batch_op.drop_column('assigned_to')

    op.drop_table('alert_subscription')
    op.drop_table('alert_sent')

"""server-side sessions of the results area, sign-in throttle counters

``user_session``: one row per signed-in browser (the digest of the random id its session
cookie carries); signing out deletes it. ``signin_throttle``: fixed-window counters of
sign-in attempts per client, per account and client, per account, and of throttled attempts
(with the audit event summarising them), counted by atomic upserts.

Revision ID: 0005
Revises: c7e2a91f5b30
Create Date: 2026-11-30 09:00:00.000000+00:00

"""
from alembic import op
import sqlalchemy as sa

import core.models.base  # noqa: F401 - custom column types


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = 'c7e2a91f5b30'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'signin_throttle',
        sa.Column('key', sa.String(length=160), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('account', sa.String(length=64), nullable=True),
        sa.Column('client', sa.String(length=64), nullable=True),
        sa.Column('window_start', core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('audit_event_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('client', 'account_client', 'account', 'refused')",
                           name=op.f('ck_signin_throttle_kind')),
        sa.ForeignKeyConstraint(['audit_event_id'], ['audit_event.id'],
                                name=op.f('fk_signin_throttle_audit_event_id_audit_event')),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_signin_throttle')),
    )
    with op.batch_alter_table('signin_throttle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signin_throttle_account'), ['account'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_signin_throttle_window_start'), ['window_start'],
                              unique=False)

    op.create_table(
        'user_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'],
                                name=op.f('fk_user_session_user_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
        sa.UniqueConstraint('digest', name=op.f('uq_user_session_digest')),
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_last_seen_at'), ['last_seen_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_user_session_last_seen_at'))
    op.drop_table('user_session')

    with op.batch_alter_table('signin_throttle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signin_throttle_window_start'))
        batch_op.drop_index(batch_op.f('ix_signin_throttle_account'))
    op.drop_table('signin_throttle')

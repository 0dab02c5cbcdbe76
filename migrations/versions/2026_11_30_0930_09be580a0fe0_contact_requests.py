"""contact requests: a comment with a contact the citizen consented to, kept apart from the
answers (office, day, masked comment, contact, handling)

Revision ID: 09be580a0fe0
Revises: d41b7e2c9a55
Create Date: 2026-11-30 09:30:00

"""
from alembic import op
import sqlalchemy as sa

import core.models.base  # noqa: F401 - custom column types


# revision identifiers, used by Alembic.
revision = '09be580a0fe0'
down_revision = 'd41b7e2c9a55'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('contact_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('contact_kind', sa.String(length=8), nullable=False),
    sa.Column('contact', sa.String(length=254), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('internal_note', sa.Text(), nullable=True),
    sa.Column('updated_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_by', sa.String(length=64), nullable=True),
    sa.Column('closed_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("contact_kind IN ('phone', 'email')", name=op.f('ck_contact_request_contact_kind')),
    sa.CheckConstraint("status IN ('new', 'in_progress', 'answered', 'not_actionable')", name=op.f('ck_contact_request_status')),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_contact_request_office_id_office')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_request'))
    )
    with op.batch_alter_table('contact_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_request_closed_at'), ['closed_at'], unique=False)
        batch_op.create_index('ix_contact_request_office_day', ['office_id', 'day'], unique=False)



def downgrade():
    with op.batch_alter_table('contact_request', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_request_office_day')
        batch_op.drop_index(batch_op.f('ix_contact_request_closed_at'))

    op.drop_table('contact_request')

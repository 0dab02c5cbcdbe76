"""dossier volumes: dossiers handled per office and month

The N of the official sample size n = N / (1 + N·e²), loaded by `flask dossiers import`
or `PUT /api/v1/offices/<code>/dossiers/<YYYY-MM>`. Office totals only.

Revision ID: d34815283e05
Revises: 4baddfd20e66
Create Date: 2026-11-30 11:00:00

"""
from alembic import op
import sqlalchemy as sa

import core.models.base


# revision identifiers, used by Alembic.
revision = 'd34815283e05'
down_revision = '4baddfd20e66'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'dossier_volume',
        sa.Column('office_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('dossiers', sa.Integer(), nullable=False),
        sa.Column('updated_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('dossiers >= 0', name=op.f('ck_dossier_volume_dossiers_not_negative')),
        sa.ForeignKeyConstraint(['office_id'], ['office.id'],
                                name=op.f('fk_dossier_volume_office_id_office'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('office_id', 'month', name=op.f('pk_dossier_volume')),
    )


def downgrade():
    op.drop_table('dossier_volume')

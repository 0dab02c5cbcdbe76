"""office report fields: letterhead, document symbol, place, signer and recipients

The optional fields an official report (Decree 30/2020/ND-CP) takes from office data:
superior body's name, document symbol, place name, signer's capacity, title and name, and
the report's recipients. All nullable; ``flask offices import`` fills them (optional columns).

Revision ID: a61f0c3e9d27
Revises: 5e8c1a7d3f92
Create Date: 2026-11-30 10:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a61f0c3e9d27'
down_revision = '5e8c1a7d3f92'
branch_labels = None
depends_on = None

COLUMNS = (("superior_name", sa.String(255)), ("document_symbol", sa.String(32)),
           ("place_name", sa.String(64)), ("signer_capacity", sa.String(128)),
           ("signer_title", sa.String(128)), ("signer_name", sa.String(128)),
           ("report_recipients", sa.Text()))


def upgrade():
    with op.batch_alter_table('office', schema=None) as batch_op:
        for name, kind in COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=True))


def downgrade():
    with op.batch_alter_table('office', schema=None) as batch_op:
        for name, _kind in reversed(COLUMNS):
            batch_op.drop_column(name)

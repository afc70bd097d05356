"""finance_snapshot: the finance dashboard's figures kept by a worker after each write

Revision ID: b7d3f1a2c9e5
Revises: b8e2f4a61c07
Create Date: 2026-12-07 04:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d3f1a2c9e5'
down_revision = 'b8e2f4a61c07'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'finance_snapshot',
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.Column('stamp', sa.Text(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_finance_snapshot')),
    )


def downgrade():
    op.drop_table('finance_snapshot')

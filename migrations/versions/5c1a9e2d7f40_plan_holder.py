"""plan.holder: the process (host:pid) solving a plan, so a killed solve frees its scope

Revision ID: 5c1a9e2d7f40
Revises: 347f8833896d
Create Date: 2026-11-27 09:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c1a9e2d7f40'
down_revision = '347f8833896d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holder', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.drop_column('holder')

"""plan.request_id, whatif_run.request_id: the X-Request-ID of the request that started the job

Revision ID: ae006418bc4f
Revises: bface5ba2bbd
Create Date: 2026-12-07 00:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'ae006418bc4f'
down_revision = 'bface5ba2bbd'
branch_labels = None
depends_on = None

TABLES = ('plan', 'whatif_run')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('request_id', sa.String(length=128), nullable=True))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('request_id')

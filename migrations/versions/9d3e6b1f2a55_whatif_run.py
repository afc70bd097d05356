"""whatif_run: finance what-if projections recorded and run in the background, with progress

Revision ID: 9d3e6b1f2a55
Revises: 5c1a9e2d7f40
Create Date: 2026-11-27 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9d3e6b1f2a55'
down_revision = '5c1a9e2d7f40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('whatif_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='whatif_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('progress', sa.Double(), nullable=False),
    sa.Column('progress_message', sa.String(length=200), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('requested_by', sa.String(length=254), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['requested_by_id'], ['app_user.id'], name=op.f('fk_whatif_run_requested_by_id_app_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_whatif_run'))
    )
    with op.batch_alter_table('whatif_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_whatif_run_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('whatif_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_whatif_run_status'))

    op.drop_table('whatif_run')

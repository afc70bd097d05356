"""nightly refresh in parts: one row per scope of a night (solved by a queue task of its own),
the run's count of parts and parts finished (the barrier), and a run may be cancelled

Revision ID: 5d1c8e0a7f42
Revises: d5a8c3f1e7b2
Create Date: 2026-12-07 04:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '5d1c8e0a7f42'
down_revision = 'd5a8c3f1e7b2'
branch_labels = None
depends_on = None

RUN_OLD = ('running', 'succeeded', 'failed')
RUN_NEW = RUN_OLD + ('cancelled',)


def _status(values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _set_status(values, old):
    """job_run.status's CHECK constraint (a non-native enum) with ``values``."""
    if op.get_bind().dialect.name == 'postgresql':
        allowed = ", ".join(f"'{v}'" for v in values)
        op.execute('ALTER TABLE job_run DROP CONSTRAINT ck_job_run_run_status')
        op.execute(f'ALTER TABLE job_run ADD CONSTRAINT ck_job_run_run_status '
                   f'CHECK (status IN ({allowed}))')
        return
    with op.batch_alter_table('job_run', schema=None, recreate='always') as batch_op:
        batch_op.alter_column('status', existing_type=_status(old, 'run_status'),
                              type_=_status(values, 'run_status'), existing_nullable=False)


def upgrade():
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parts_total', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('parts_done', sa.Integer(), server_default='0',
                                      nullable=False))
    _set_status(RUN_NEW, RUN_OLD)
    op.create_table(
        'night_part',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.String(length=80), nullable=False),
        sa.Column('wave', sa.Integer(), nullable=False),
        sa.Column('status', _status(('queued', 'running', 'done', 'failed', 'cancelled'),
                                    'part_status'), nullable=False),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('time_limit', sa.Float(), nullable=False),
        sa.Column('task_id', sa.String(length=64), nullable=True),
        sa.Column('plan_id', sa.Integer(), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('outcome', sa.Text(), nullable=True),
        sa.Column('stats', sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(['plan_id'], ['plan.id'],
                                name=op.f('fk_night_part_plan_id_plan'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['run_id'], ['job_run.id'],
                                name=op.f('fk_night_part_run_id_job_run'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_night_part')),
        sa.UniqueConstraint('run_id', 'scope', name=op.f('uq_night_part_run_id_scope')),
    )
    with op.batch_alter_table('night_part', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_night_part_run_id'), ['run_id'], unique=False)


def downgrade():
    with op.batch_alter_table('night_part', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_night_part_run_id'))
    op.drop_table('night_part')
    op.execute("UPDATE job_run SET status = 'failed' WHERE status = 'cancelled'")
    _set_status(RUN_OLD, RUN_NEW)
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_column('parts_done')
        batch_op.drop_column('parts_total')

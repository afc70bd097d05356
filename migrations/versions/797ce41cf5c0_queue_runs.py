"""queue: plans and what-if runs carry their task id, attempt and cancel request, and may be
cancelled; the lease table and a plan's holder and heartbeat go (the task queue and the
database's own constraints replace them)

Revision ID: 797ce41cf5c0
Revises: 6f9851b23399
Create Date: 2026-12-07 00:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '797ce41cf5c0'
down_revision = '6f9851b23399'
branch_labels = None
depends_on = None

PLAN_OLD = ('queued', 'running', 'draft', 'published', 'superseded', 'failed', 'infeasible')
WHATIF_OLD = ('queued', 'running', 'done', 'failed')


def _status(values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _run_columns(batch_op):
    batch_op.add_column(sa.Column('task_id', sa.String(length=64), nullable=True))
    batch_op.add_column(sa.Column('attempt', sa.Integer(), server_default='0', nullable=False))
    batch_op.add_column(sa.Column('cancel_requested', sa.Boolean(), server_default=sa.false(),
                                  nullable=False))


def _set_status(table, name, values, old):
    """The status column's CHECK constraint (a non-native enum) with ``values``."""
    if op.get_bind().dialect.name == 'postgresql':
        check = f'ck_{table}_{name}'
        allowed = ", ".join(f"'{v}'" for v in values)
        op.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT {check}')
        op.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT {check} CHECK (status IN ({allowed}))')
        return
    with op.batch_alter_table(table, schema=None, recreate='always') as batch_op:
        batch_op.alter_column('status', existing_type=_status(old, name),
                              type_=_status(values, name), existing_nullable=False)


def upgrade():
    with op.batch_alter_table('plan', schema=None) as batch_op:
        _run_columns(batch_op)
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('holder')
    with op.batch_alter_table('whatif_run', schema=None) as batch_op:
        _run_columns(batch_op)
    _set_status('plan', 'plan_status', PLAN_OLD + ('cancelled',), PLAN_OLD)
    _set_status('whatif_run', 'whatif_status', WHATIF_OLD + ('cancelled',), WHATIF_OLD)
    op.drop_table('lease')


def downgrade():
    op.create_table('lease',
                    sa.Column('name', sa.String(length=60), nullable=False),
                    sa.Column('holder', sa.String(length=200), nullable=False),
                    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('name', name=op.f('pk_lease')))
    op.execute("UPDATE plan SET status = 'failed' WHERE status = 'cancelled'")
    op.execute("UPDATE whatif_run SET status = 'failed' WHERE status = 'cancelled'")
    _set_status('whatif_run', 'whatif_status', WHATIF_OLD, WHATIF_OLD + ('cancelled',))
    _set_status('plan', 'plan_status', PLAN_OLD, PLAN_OLD + ('cancelled',))
    with op.batch_alter_table('whatif_run', schema=None) as batch_op:
        batch_op.drop_column('cancel_requested')
        batch_op.drop_column('attempt')
        batch_op.drop_column('task_id')
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holder', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_column('cancel_requested')
        batch_op.drop_column('attempt')
        batch_op.drop_column('task_id')

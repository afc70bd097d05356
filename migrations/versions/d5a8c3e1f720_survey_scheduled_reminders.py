"""Scheduled survey reminders: each survey says how many days after a wave opens and before
it closes the nightly part reminds who has not answered (3 and 2 by default; empty for none),
and each invitation records which of those reminders it has had.

Revision ID: d5a8c3e1f720
Revises: b8e2f4a61c07
Create Date: 2026-12-07 04:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'd5a8c3e1f720'
down_revision = 'b8e2f4a61c07'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.add_column(sa.Column('remind_after_days', sa.Integer(), nullable=True,
                                      server_default=sa.text('3')))
        batch_op.add_column(sa.Column('remind_before_days', sa.Integer(), nullable=True,
                                      server_default=sa.text('2')))
    with op.batch_alter_table('survey_invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_after_opening', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('reminded_before_closing', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('survey_invitation', schema=None) as batch_op:
        batch_op.drop_column('reminded_before_closing')
        batch_op.drop_column('reminded_after_opening')
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.drop_column('remind_before_days')
        batch_op.drop_column('remind_after_days')

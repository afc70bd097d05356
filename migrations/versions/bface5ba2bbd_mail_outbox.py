"""mail_message: the e-mail outbox (queued in the change's transaction, delivered later)

Revision ID: bface5ba2bbd
Revises: e4b7a1c93d20
Create Date: 2026-12-07 00:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'bface5ba2bbd'
down_revision = 'e4b7a1c93d20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'mail_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.String(length=250), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('recipient', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('text_body', sa.Text(), nullable=False),
        sa.Column('html_body', sa.Text(), nullable=True),
        sa.Column('calendar', sa.Text(), nullable=True),
        sa.Column('calendar_method', sa.String(length=20), nullable=True),
        sa.Column('dedupe_key', sa.String(length=200), nullable=True),
        sa.Column('status', sa.Enum('pending', 'sent', 'failed', name='mail_status',
                                    native_enum=False, create_constraint=True, length=32),
                  nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_try_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_until', sa.DateTime(timezone=True),
                  nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('attempts >= 0', name=op.f('ck_mail_message_attempts_non_negative')),
        sa.CheckConstraint(
            '(calendar IS NULL AND calendar_method IS NULL) '
            'OR (calendar IS NOT NULL AND calendar_method IS NOT NULL)',
            name=op.f('ck_mail_message_calendar_has_method')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_message')),
        sa.UniqueConstraint('dedupe_key', name=op.f('uq_mail_message_dedupe_key')),
        sa.UniqueConstraint('message_id', name=op.f('uq_mail_message_message_id')),
    )
    with op.batch_alter_table('mail_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_message_kind'), ['kind'], unique=False)
        batch_op.create_index('ix_mail_message_status_next_try_at', ['status', 'next_try_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('mail_message', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_message_status_next_try_at')
        batch_op.drop_index(batch_op.f('ix_mail_message_kind'))
    op.drop_table('mail_message')

"""A survey invitation's person may be emptied: once its wave has been closed for the
retention period the row keeps only the coarse attributes and whether they answered.

Revision ID: b8e2f4a61c07
Revises: 797ce41cf5c0
Create Date: 2026-12-07 01:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'b8e2f4a61c07'
down_revision = '797ce41cf5c0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('survey_invitation', schema=None) as batch_op:
        batch_op.alter_column('person_id', existing_type=sa.Integer(), nullable=True)


def downgrade():
    # Invitations whose person was emptied cannot name one again: they go.
    op.execute("DELETE FROM survey_invitation WHERE person_id IS NULL")
    with op.batch_alter_table('survey_invitation', schema=None) as batch_op:
        batch_op.alter_column('person_id', existing_type=sa.Integer(), nullable=False)

"""api_token.expires_at: API tokens expire (90 days by default, SEL_TIME_TOKEN_DAYS)

Tokens issued before this revision expire 90 days after they were created: a token older
than that stops working at once, as it would have had it been issued with an expiry.

Revision ID: c4e7a2b9d1f3
Revises: c4f2a7e91b3d
Create Date: 2026-12-06 21:00:00.000000

"""
from datetime import UTC, datetime, timedelta

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e7a2b9d1f3'
down_revision = 'c4f2a7e91b3d'
branch_labels = None
depends_on = None

EXISTING_TOKEN_DAYS = 90


def upgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    # Portable backfill (SQLite and PostgreSQL differ in date arithmetic): row by row in Python.
    token = sa.table('api_token', sa.column('id', sa.Integer()),
                     sa.column('created_at', sa.DateTime(timezone=True)),
                     sa.column('expires_at', sa.DateTime(timezone=True)))
    conn = op.get_bind()
    for ident, created in conn.execute(sa.select(token.c.id, token.c.created_at)).all():
        if isinstance(created, str):  # SQLite without type information hands back text
            created = datetime.fromisoformat(created)
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        conn.execute(token.update().where(token.c.id == ident)
                     .values(expires_at=created + timedelta(days=EXISTING_TOKEN_DAYS)))
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=sa.DateTime(timezone=True),
                              nullable=False)


def downgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('expires_at')

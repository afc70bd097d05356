"""races: no overlapping leave or role holdings of one person (PostgreSQL exclusion
constraints, btree_gist), and one live published session per (assignment, slot) and per
(team, slot) (partial unique indexes, SQLite too)

Revision ID: e4b7a1c93d20
Revises: c4e7a2b9d1f3
Create Date: 2026-12-06 21:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4b7a1c93d20'
down_revision = 'c4e7a2b9d1f3'
branch_labels = None
depends_on = None

ABSENCE_HALF_DAYS = (
    "int4range((start_date - DATE '2000-01-01') * 2"
    " + (CASE WHEN start_half = 'PM' THEN 1 ELSE 0 END),"
    " (end_date - DATE '2000-01-01') * 2 + (CASE WHEN end_half = 'PM' THEN 1 ELSE 0 END), '[]')"
)
LIVE_ASSIGNMENT = "status = 'confirmed' AND assignment_id IS NOT NULL"
LIVE_TEAM = "status = 'confirmed' AND team_id IS NOT NULL"


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute("ALTER TABLE absence ADD CONSTRAINT ex_absence_no_overlap "
                   f"EXCLUDE USING gist (person_id WITH =, {ABSENCE_HALF_DAYS} WITH &&)")
        op.execute("ALTER TABLE role_assignment ADD CONSTRAINT ex_role_assignment_no_overlap "
                   "EXCLUDE USING gist (person_id WITH =, role_id WITH =, "
                   "daterange(start_date, end_date, '[]') WITH &&)")
    op.create_index('uq_protected_session_live_assignment_slot', 'protected_session',
                    ['assignment_id', 'slot'], unique=True,
                    postgresql_where=sa.text(LIVE_ASSIGNMENT),
                    sqlite_where=sa.text(LIVE_ASSIGNMENT))
    op.create_index('uq_protected_session_live_team_slot', 'protected_session',
                    ['team_id', 'slot'], unique=True,
                    postgresql_where=sa.text(LIVE_TEAM), sqlite_where=sa.text(LIVE_TEAM))


def downgrade():
    op.drop_index('uq_protected_session_live_team_slot', table_name='protected_session')
    op.drop_index('uq_protected_session_live_assignment_slot', table_name='protected_session')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE role_assignment DROP CONSTRAINT ex_role_assignment_no_overlap")
        op.execute("ALTER TABLE absence DROP CONSTRAINT ex_absence_no_overlap")
        # btree_gist stays: other schemas in the database may use it

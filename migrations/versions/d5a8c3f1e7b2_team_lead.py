"""team.lead_person_id: the member who may ask to move the team's sessions

Revision ID: d5a8c3f1e7b2
Revises: d5a8c3e1f720
Create Date: 2026-12-07 04:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5a8c3f1e7b2'
down_revision = 'd5a8c3e1f720'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lead_person_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_team_lead_person_id'), ['lead_person_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_team_lead_person_id_person'), 'person',
                                    ['lead_person_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_team_lead_person_id_person'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_team_lead_person_id'))
        batch_op.drop_column('lead_person_id')

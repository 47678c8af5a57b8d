"""Turns record what the guards changed (guard) and whether retrieval found an answer (answerable).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("turns") as batch:
        batch.add_column(sa.Column("answerable", sa.Boolean, nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("guard", sa.JSON, nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("turns") as batch:
        batch.drop_column("guard")
        batch.drop_column("answerable")

"""Add notes.author (expand: with a server default, so the release still running keeps inserting)."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column("notes", sa.Column("author", sa.String(100), server_default="anonymous", nullable=False))


def downgrade() -> None:
    op.drop_column("notes", "author")

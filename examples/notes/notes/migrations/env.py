"""Alembic's environment: online migrations over the app's own database connection."""

from alembic import context

from notes import db
from notes.models import Base

# PostgreSQL runs DDL in transactions: each upgrade is all or nothing, so a migration that fails
# halfway leaves the schema (and the data) as they were.
with db.engine().connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()

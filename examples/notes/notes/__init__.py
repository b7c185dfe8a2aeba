"""Notes: a FastAPI app with a PostgreSQL database, its schema migrated by Alembic."""

from importlib.metadata import version

# The package's version is the release's: /health reports it to the deploy's health gate.
__version__ = version("notes-demo")

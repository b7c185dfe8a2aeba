"""The database connection, from the environment (the deploy's env file, app_environment)."""

from __future__ import annotations

import os
from functools import cache

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker


def database_url() -> str:
    """NOTES_DATABASE_URL, e.g. postgresql+psycopg://notes:secret@db.internal/notes."""
    try:
        return os.environ["NOTES_DATABASE_URL"]
    except KeyError:
        raise RuntimeError("NOTES_DATABASE_URL is not set") from None


@cache
def engine() -> Engine:
    # Created on first use, in each worker after the fork: connections are never shared across processes.
    # pre_ping: a connection the database closed (restart, failover) is replaced, not handed out.
    return create_engine(database_url(), pool_size=5, max_overflow=5, pool_pre_ping=True, pool_timeout=5)


@cache
def _sessions() -> sessionmaker[Session]:
    return sessionmaker(engine(), expire_on_commit=False)


def session() -> Session:
    return _sessions()()

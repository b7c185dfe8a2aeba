"""Migrate the database: ``python -m notes.migrate upgrade head`` (a release command of the deploy).

Alembic with its configuration in code: the migration scripts are modules of this package
(notes.migrations), so the command works wherever the release's virtualenv is, with no alembic.ini.
Every successful upgrade is recorded in ``migration_runs`` (when, on which host, from and to which
revision): what changed the schema, and when, is in the database itself.
"""

from __future__ import annotations

import logging
import socket
import sys

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, func, insert

from notes import db

runs = Table(
    "migration_runs",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("ran_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    Column("host", String(255), nullable=False),
    Column("from_revision", String(32)),
    Column("to_revision", String(32)),
)


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "notes:migrations")
    return cfg


def current_revision() -> str | None:
    with db.engine().connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in {"upgrade", "downgrade"}:
        print("usage: python -m notes.migrate upgrade|downgrade <revision>", file=sys.stderr)
        return 2
    action, revision = argv
    # Alembic's own lines ("Running upgrade 0001 -> 0002, ...") to the deploy's output.
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    before = current_revision()
    getattr(command, action)(config(), revision)
    after = current_revision()
    runs.create(db.engine(), checkfirst=True)
    with db.engine().begin() as connection:
        connection.execute(
            insert(runs).values(host=socket.gethostname(), from_revision=before, to_revision=after)
        )
    print(f"database at {after} (was {before})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

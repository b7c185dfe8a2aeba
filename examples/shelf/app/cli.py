"""Shelf's management commands, run from the project's root as `python -m app.cli ...`.

Usage:
  app.cli check-settings
  app.cli create-item <title> [<description>]
  app.cli (-h | --help)
  app.cli --version

Commands:
  check-settings  Print the settings in use (no secrets) and check the database answers.
  create-item     Add an item to the shelf and print its id.
"""

import sys
from typing import Any

from docopt import docopt
from sqlalchemy import text
from sqlmodel import Session

from app import crud
from app.core.config import settings
from app.models import ItemCreate

__version__ = "0.1.0"


def describe_settings() -> dict[str, Any]:
    """The settings in use, without secrets: printed by check-settings, logged at the app's start."""
    return {
        "project": settings.PROJECT_NAME,
        "environment": settings.ENVIRONMENT,
        "api_prefix": settings.API_V1_STR,
        "database": f"{settings.POSTGRES_USER}@{settings.POSTGRES_SERVER}:{settings.POSTGRES_PORT}"
        f"/{settings.POSTGRES_DB}",
        "data_dir": str(settings.DATA_DIR.resolve()),
        "cors_origins": settings.all_cors_origins,
    }


def check_settings() -> int:
    from app.core.db import engine

    for key, value in describe_settings().items():
        print(f"{key}: {value}")
    with engine.connect() as connection:
        version = connection.execute(text("SHOW server_version")).scalar_one()
    print(f"database answers: PostgreSQL {version}")
    return 0


def create_item(title: str, description: str | None) -> int:
    from app.core.db import engine

    with Session(engine) as session:
        item = crud.create_item(session=session, item_in=ItemCreate(title=title, description=description))
        print(item.id)
    return 0


def main(argv: list[str] | None = None) -> int:
    arguments = docopt(__doc__, argv=argv, version=f"shelf {__version__}")
    if arguments["check-settings"]:
        return check_settings()
    if arguments["create-item"]:
        return create_item(arguments["<title>"], arguments["<description>"])
    return 1


if __name__ == "__main__":
    sys.exit(main())

import os
from collections.abc import Generator
from pathlib import Path

import pytest

# The tests use SQLite, never PostgreSQL; the settings still want a server's name
# (the .env of the project's root has one when the tests run from there).
os.environ.setdefault("POSTGRES_SERVER", "localhost")
os.environ.setdefault("POSTGRES_USER", "postgres")

from fastapi.testclient import TestClient
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

from app.api.deps import get_db
from app.main import app

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def session() -> Generator[Session, None, None]:
    engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def client(session: Session, monkeypatch: pytest.MonkeyPatch) -> Generator[TestClient, None, None]:
    # The app reads data/ relative to the working directory: run it from the project's root.
    monkeypatch.chdir(PROJECT_ROOT)
    app.dependency_overrides[get_db] = lambda: session
    with TestClient(app) as c:
        yield c
    app.dependency_overrides.clear()

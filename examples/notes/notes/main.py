"""HTTP endpoints: notes to write and read, and a health check that asks the database."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from notes import __version__, db
from notes.models import Note, NoteIn, NoteOut

app = FastAPI(title="notes-demo", version=__version__)


# Plain `def` endpoints: FastAPI runs them in its thread pool, so the blocking database calls never
# hold up the worker's event loop.
@app.post("/notes", status_code=201)
def create_note(note: NoteIn) -> NoteOut:
    with db.session() as session, session.begin():
        row = Note(**note.model_dump())
        session.add(row)
        session.flush()
        session.refresh(row)
    return NoteOut.model_validate(row)


@app.get("/notes")
def list_notes(limit: int = 50) -> list[NoteOut]:
    with db.session() as session:
        rows = session.scalars(select(Note).order_by(Note.id.desc()).limit(min(max(limit, 1), 500)))
        return [NoteOut.model_validate(row) for row in rows]


@app.get("/health")
def health() -> JSONResponse:
    """Ready when the database answers: the deploy's health gate waits for 200 and this release's version.
    `schema` is the migration the database is at."""
    try:
        with db.engine().connect() as connection:
            schema = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError as error:
        return JSONResponse(
            status_code=503,
            content={"status": "database unavailable", "error": type(error).__name__, "version": __version__},
        )
    return JSONResponse({"status": "ok", "version": __version__, "schema": schema})

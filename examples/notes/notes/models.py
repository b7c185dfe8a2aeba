"""The schema the code expects (migrations/versions/ brings the database there) and the API's shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import DateTime, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Added by migration 0002 (with a default, so the code before it kept inserting).
    author: Mapped[str] = mapped_column(String(100), server_default="anonymous")


class NoteIn(BaseModel):
    body: str = Field(min_length=1, max_length=10_000)
    author: str = Field(default="anonymous", min_length=1, max_length=100)


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    body: str
    created_at: datetime
    author: str

from collections.abc import Generator
from typing import Annotated

from fastapi import Depends, Header, HTTPException, status
from sqlmodel import Session

from app.core.db import engine


def get_db() -> Generator[Session, None, None]:
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]


def check_client(x_shelf_client: Annotated[str | None, Header()] = None) -> str | None:
    """The optional X-Shelf-Client header names the calling client; when sent, it must not be blank."""
    if x_shelf_client is not None and not x_shelf_client.strip():
        raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail="X-Shelf-Client is blank")
    return x_shelf_client

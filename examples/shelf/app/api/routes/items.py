import uuid
from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from sqlmodel import col, func, select

from app import crud
from app.api.deps import SessionDep, check_client
from app.models import Item, ItemCreate, ItemPublic, ItemsPublic, Message

router = APIRouter(prefix="/items", tags=["items"], dependencies=[Depends(check_client)])


@router.get("/", response_model=ItemsPublic)
def read_items(session: SessionDep, skip: int = 0, limit: int = 100) -> Any:
    """Retrieve items."""
    count = session.exec(select(func.count()).select_from(Item)).one()
    items = session.exec(select(Item).order_by(col(Item.title)).offset(skip).limit(limit)).all()
    return ItemsPublic(data=items, count=count)


@router.get("/{item_id}", response_model=ItemPublic)
def read_item(session: SessionDep, item_id: uuid.UUID) -> Any:
    """Get item by ID."""
    item = session.get(Item, item_id)
    if not item:
        raise HTTPException(status_code=404, detail="Item not found")
    return item


@router.post("/", response_model=ItemPublic)
def create_item(*, session: SessionDep, item_in: ItemCreate) -> Any:
    """Create new item."""
    return crud.create_item(session=session, item_in=item_in)


@router.delete("/{item_id}")
def delete_item(session: SessionDep, item_id: uuid.UUID) -> Message:
    """Delete an item."""
    item = session.get(Item, item_id)
    if not item:
        raise HTTPException(status_code=404, detail="Item not found")
    session.delete(item)
    session.commit()
    return Message(message="Item deleted successfully")

import json
from typing import Any

from fastapi import APIRouter

from app.core.config import settings

router = APIRouter(prefix="/categories", tags=["categories"])


@router.get("/")
def read_categories() -> Any:
    """The categories of data/categories.json, read on each request (edit the file, no restart)."""
    path = settings.DATA_DIR / "categories.json"
    return json.loads(path.read_text(encoding="utf-8"))

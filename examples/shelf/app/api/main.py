from fastapi import APIRouter

from app.api.routes import categories, items, utils

api_router = APIRouter()
api_router.include_router(items.router)
api_router.include_router(categories.router)
api_router.include_router(utils.router)

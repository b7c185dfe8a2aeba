"""HTTP endpoints: the seed tutorial's two routes and a dependency-free health check.

The item routes live in their own router, included with a prefix, as most FastAPI projects
lay theirs out. No monitoring code: the deployment records requests and serves /metrics
around the app (the role's deploy_observe package), as it does for any ASGI app, by route
template (`/items/{item_id}`), prefixes of included routers included.
"""

from fastapi import APIRouter, FastAPI

from fastapi_demo import __version__

app = FastAPI(title="fastapi-demo", version=__version__)
items = APIRouter(tags=["items"])


@app.get("/")
async def read_root() -> dict[str, str]:
    return {"message": "Hello from FastAPI!"}


@items.get("/{item_id}")
async def read_item(item_id: int) -> dict[str, int | str]:
    return {"item_id": item_id, "message": "This is an item"}


@app.get("/health")
async def health() -> dict[str, str]:
    """Liveness for load balancers and deploy gates: touches no dependency."""
    return {"status": "ok", "version": __version__}


app.include_router(items, prefix="/items")

"""HTTP endpoints: the seed tutorial's two routes and a dependency-free health check.

No monitoring code: the deployment records requests and serves /metrics around the app
(the role's deploy_observe package), as it does for any ASGI app.
"""

from fastapi import FastAPI

from fastapi_demo import __version__

app = FastAPI(title="fastapi-demo", version=__version__)


@app.get("/")
async def read_root() -> dict[str, str]:
    return {"message": "Hello from FastAPI!"}


@app.get("/items/{item_id}")
async def read_item(item_id: int) -> dict[str, int | str]:
    return {"item_id": item_id, "message": "This is an item"}


@app.get("/health")
async def health() -> dict[str, str]:
    """Liveness for load balancers and deploy gates: touches no dependency."""
    return {"status": "ok", "version": __version__}

"""HTTP endpoints: the seed tutorial's two routes, a dependency-free health check and /metrics."""

from fastapi import FastAPI, Response

from fastapi_demo import __version__, metrics

app = FastAPI(title="fastapi-demo", version=__version__)
app.add_middleware(metrics.PrometheusMiddleware, routes=app.router.routes)


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


@app.get("/metrics", include_in_schema=False)
def prometheus_metrics() -> Response:
    """Prometheus text format, merged over all workers. nginx lets only allowed clients reach it."""
    body, content_type = metrics.render()
    return Response(content=body, media_type=content_type)

"""Route templates of FastAPI apps written as real projects are: routers included with prefixes and
dependencies, nested routers, a mount inside a router, CORS middleware, 404 and 405 paths."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Host, Route

from deploy_observe.routes import UNMATCHED, RouteTemplates


def current_user() -> str:
    return "someone"


async def plain(request: Request) -> PlainTextResponse:
    return PlainTextResponse("plain")


def build() -> FastAPI:
    comments = APIRouter(prefix="/comments")

    @comments.get("/{comment_id}")
    def read_comment(comment_id: int) -> int:
        return comment_id

    items = APIRouter(prefix="/items", tags=["items"], dependencies=[Depends(current_user)])

    @items.get("/")
    def list_items() -> list[int]:
        return []

    @items.get("/{item_id}")
    def read_item(item_id: int) -> int:
        return item_id

    @items.delete("/{item_id}")
    def delete_item(item_id: int) -> int:
        return item_id

    items.include_router(comments)
    items.add_route("/plain/{name}", plain)
    items.mount("/files", Starlette(routes=[Route("/{path:path}", plain)]))

    login = APIRouter()

    @login.post("/login/access-token")
    def access_token() -> dict[str, str]:
        return {"token": "x"}

    app = FastAPI()
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"])
    app.include_router(items, prefix="/api/v1")
    app.include_router(login, prefix="/api/v1", tags=["login"])

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


APP = build()


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("GET", "/health", "/health"),
        ("GET", "/api/v1/items/", "/api/v1/items/"),
        ("GET", "/api/v1/items/42", "/api/v1/items/{item_id}"),
        ("DELETE", "/api/v1/items/42", "/api/v1/items/{item_id}"),
        ("GET", "/api/v1/items/comments/7", "/api/v1/items/comments/{comment_id}"),
        # A router's add_route and mount take the include's prefix, not the router's own.
        ("GET", "/api/v1/plain/x", "/api/v1/plain/{name}"),
        ("GET", "/api/v1/files/a/b.txt", "/api/v1/files/{path}"),
        ("POST", "/api/v1/login/access-token", "/api/v1/login/access-token"),
        # 405: the path matches a route, the method does not: the route still names it.
        ("PUT", "/api/v1/items/42", "/api/v1/items/{item_id}"),
        ("GET", "/api/v1/login/access-token", "/api/v1/login/access-token"),
        # 404s: never the raw path.
        ("GET", "/api/v1/nothing/here", UNMATCHED),
        ("GET", "/api/v2/items/42", UNMATCHED),
    ],
)
def test_included_routers_are_counted_by_their_prefixed_templates(
    method: str, path: str, template: str
) -> None:
    templates = RouteTemplates(APP)
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
    assert templates(scope) == template
    assert templates(dict(scope)) == template  # cached: the same answer


def test_the_app_still_answers_as_routed() -> None:
    # The templates are read beside the app's own routing, never instead of it.
    client = TestClient(APP)
    assert client.get("/api/v1/items/42").json() == 42
    assert client.get("/api/v1/items/comments/7").json() == 7
    assert client.get("/api/v1/plain/x").text == "plain"
    assert client.get("/api/v1/files/a/b.txt").text == "plain"
    assert client.put("/api/v1/items/42").status_code == 405
    assert client.get("/api/v1/nothing").status_code == 404


def test_a_host_route_inside_an_included_router_turns_the_cache_off() -> None:
    router = APIRouter()
    router.routes.append(Host("api.example.com", app=Starlette(routes=[Route("/x", plain)])))
    app = FastAPI()
    app.include_router(router, prefix="/p")
    assert not RouteTemplates(app).cacheable
    assert RouteTemplates(build()).cacheable

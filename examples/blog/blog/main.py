"""Posts to read: two routes and nothing else.

No health check, no metrics, no logging setup, no request ids: the deployment provides them
(README.md says which variables).
"""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

POSTS = {
    "hello": "Hello from Starlette!",
    "deploys": "Deploys should be boring.",
}


async def list_posts(request: Request) -> JSONResponse:
    return JSONResponse({"posts": sorted(POSTS)})


async def read_post(request: Request) -> JSONResponse:
    slug = request.path_params["slug"]
    if slug not in POSTS:
        return JSONResponse({"detail": "no such post"}, status_code=404)
    return JSONResponse({"slug": slug, "body": POSTS[slug]})


app = Starlette(routes=[Route("/", list_posts), Route("/posts/{slug}", read_post)])

"""The route template a request matches (``/items/{item_id}``), from the app's own router.

Raw paths never become label values: a request no route matches is UNMATCHED. Apps built on
Starlette's routing (FastAPI, Starlette and frameworks on top of them) have their templates found,
mounted sub-applications and FastAPI's included routers (with their prefixes) included; for any
other ASGI app every request is UNMATCHED.

FastAPI >= 0.165 no longer copies an included router's routes into the app's list: one
``_IncludedRouter`` entry stands for them, without a ``path``, and lists its routes with their
prefixes through ``effective_candidates()``. Older FastAPI copies them (plain routes here).

Matching depends only on method and path (unless a ``Host`` route is in the tree), so results are
cached per (method, root path, path): a known path costs one dictionary lookup instead of a pass
over every route's regular expression.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

UNMATCHED = "unmatched"
# Cached (method, root_path, path) keys; the cache starts over when full, so a scan of random
# paths costs memory only up to this bound.
CACHE_SIZE = 4096
# How deep to follow `.app` through middleware that wrap the router (each a plain attribute).
_MAX_WRAPPERS = 16

Scope = MutableMapping[str, Any]


def routes_of(app: Any) -> Sequence[Any] | None:
    """The app's Starlette-style route list, looking through wrapping middleware; None if it has none."""
    for _ in range(_MAX_WRAPPERS):
        routes = getattr(app, "routes", None)
        if isinstance(routes, Sequence):
            return routes
        app = getattr(app, "app", None)
        if app is None:
            return None
    return None


def _match(routes: Sequence[Any], scope: Scope) -> tuple[str | None, bool]:
    """(template, full): the first full match, else the first partial one (the path matches, the
    method does not: a 405 still names its template), else (None, False)."""
    # Starlette's Match enum: 0 none, 1 partial, 2 full (compared by value: no import of starlette).
    partial: str | None = None
    for route in routes:
        try:
            match, child = route.matches(scope)
        except (AttributeError, KeyError, TypeError):
            continue
        level = int(getattr(match, "value", match))
        if level == 0:
            continue
        group = _included(route)
        if group is not None:
            template, full = _match(group, scope)
            if template is None:
                continue
        else:
            # FastAPI's route of an included router: the prefixed route is `starlette_route`
            # (a plain route, a mount) or the context itself (an API route's `path_format`).
            target = getattr(route, "starlette_route", None) or route
            template, full = _template(target, scope, child), level == 2
        if full:
            return template, True
        if partial is None:
            partial = template
    return partial, False


def _included(route: Any) -> Sequence[Any] | None:
    """The routes of a FastAPI included router, with their prefixes; None for any other route."""
    effective = getattr(route, "effective_candidates", None)
    if not callable(effective):
        return None
    try:
        candidates = effective()
    except (AttributeError, TypeError):
        return None
    return candidates if isinstance(candidates, Sequence) else None


def _template(route: Any, scope: Scope, child: dict[str, Any]) -> str:
    inner = getattr(route, "routes", None)
    own = getattr(route, "path", None)
    if isinstance(inner, Sequence) and inner and own is not None:  # Mount of a router: its prefix + inside
        template, _ = _match(inner, {**scope, **child})
        return own + template if template is not None else own + "/{path}"
    fmt = getattr(route, "path_format", None) or own
    return str(fmt) if fmt is not None else UNMATCHED


def _has_host_route(routes: Sequence[Any]) -> bool:
    for route in routes:
        route = getattr(route, "starlette_route", None) or route
        if type(route).__name__ == "Host":
            return True
        inner = _included(route)
        if inner is None:
            inner = getattr(route, "routes", None)
        if isinstance(inner, Sequence) and _has_host_route(inner):
            return True
    return False


class RouteTemplates:
    """Callable: scope -> route template (or UNMATCHED)."""

    def __init__(self, app: Any, cache_size: int = CACHE_SIZE) -> None:
        self.routes = routes_of(app)
        self.cacheable = self.routes is not None and not _has_host_route(self.routes)
        self.cache_size = cache_size
        self._cache: dict[tuple[str, str, str], str] = {}

    def __call__(self, scope: Scope) -> str:
        if self.routes is None:
            return UNMATCHED
        if not self.cacheable:
            return _match(self.routes, scope)[0] or UNMATCHED
        key = (scope["method"], scope.get("root_path", ""), scope["path"])
        template = self._cache.get(key)
        if template is None:
            template = _match(self.routes, scope)[0] or UNMATCHED
            if len(self._cache) >= self.cache_size:
                self._cache.clear()
            self._cache[key] = template
        return template

"""Match a request to a declared route, as API Gateway's REST API resource tree does.

API Gateway keeps a tree of *resources* (``/todos``, ``/todos/{id}``), each with its
methods. The rules copied here:

- Literal path parts beat a ``{param}``, which beats a greedy ``{param+}``; the most
  specific resource that serves the request wins.
- Resolution is on the (resource, method) pair: when the most specific resource
  does not serve the method, API Gateway falls back to the next candidate (a
  ``{param}`` sibling, then a ``{proxy+}`` ancestor) — measured on real API Gateway
  (ministackorg/ministack#1423, floci-io/floci#3399).
- On one resource an explicit method beats ``ANY``.
- A greedy ``{proxy+}`` matches the rest of the path, one or more segments; it never
  matches its parent itself (``/{proxy+}`` does not match ``/``).
- A resource has at most one variable child: API Gateway refuses a sibling
  ``{id}`` next to ``{name}`` or ``{proxy+}`` ("only one is allowed"), and so do we.
- A trailing slash is ignored (``/todos/`` is ``/todos``), as REST APIs do.
- Path parameter values reach the function URL-decoded.
- Intermediate resources exist too (``/todos`` for ``/todos/{id}``): CDK creates
  them, and with ``defaultCorsPreflightOptions`` it puts an OPTIONS mock on every one.
  With ``cors_preflight=True`` every resource serves OPTIONS with that mock, which a
  match reports as ``route=None``.

Literal paths are looked up in one dict; only templated paths walk the tree, and the
matches of the most recent templated paths are remembered (a bounded dict).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import unquote

from overcast import spec


@dataclass(frozen=True, slots=True)
class Resource:
    """An API Gateway resource: its path template and its stable id."""

    path: str
    id: str


class RouteMatch(NamedTuple):
    """The route serving a request (``None``: the CORS preflight mock) and its parameters."""

    route: spec.Route | None
    resource: Resource
    path_parameters: dict[str, str] | None


@dataclass(slots=True)
class _Node:
    resource: Resource
    literals: dict[str, _Node] = field(default_factory=dict)
    variable: _Node | None = None
    variable_name: str = ""
    greedy: _Node | None = None
    greedy_name: str = ""
    methods: dict[str, spec.Route | None] = field(default_factory=dict)
    # The match of each method on this resource without path parameters, made once.
    matches: dict[str, RouteMatch] = field(default_factory=dict)


# How many templated paths' matches a route table remembers before it starts afresh.
_RECENT_MATCHES = 4096


class RouteTable:
    """All routes of one API, precompiled for cheap matching."""

    def __init__(self, routes: tuple[spec.Route, ...], *, cors_preflight: bool = False) -> None:
        self._root = _Node(_resource("/"))
        self._literal_paths: dict[str, _Node] = {"/": self._root}
        for route in routes:
            node = self._resource_node(route.path)
            if route.method in node.methods:
                raise spec.DeclarationError(f"Route {route.key!r} is declared twice.")
            node.methods[route.method] = route
        if cors_preflight:
            self._add_preflight(self._root)
        for node in self._literal_paths.values():
            node.matches = {
                method: RouteMatch(route, node.resource, None)
                for method, route in node.methods.items()
            }
        self._recent: dict[tuple[str, str], RouteMatch | None] = {}

    def match(self, method: str, path: str) -> RouteMatch | None:
        """The route for ``method`` on ``path`` (the request path after the stage)."""
        if len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        node = self._literal_paths.get(path)
        if node is not None:
            found = node.matches.get(method) or node.matches.get("ANY")
            if found is not None:
                return found
        if not path.startswith("/"):
            return None
        if (method, path) in self._recent:
            return self._recent[method, path]  # shared: its parameters are read, never changed
        segments = path[1:].split("/") if path != "/" else []
        found = _search(self._root, segments, 0, method, [])
        if len(self._recent) >= _RECENT_MATCHES:
            self._recent.clear()
        self._recent[method, path] = found
        return found

    def _resource_node(self, path: str) -> _Node:
        node = self._root
        parts = [] if path == "/" else path[1:].split("/")
        for depth, part in enumerate(parts):
            node = _child(node, part, "/" + "/".join(parts[: depth + 1]))
            if "{" not in node.resource.path:
                self._literal_paths[node.resource.path] = node
        return node

    def _add_preflight(self, node: _Node) -> None:
        if "OPTIONS" in node.methods:
            raise spec.DeclarationError(
                f"Resource {node.resource.path!r} declares OPTIONS while CORS is declared: "
                "the CORS preflight already answers OPTIONS there (as CDK's "
                "defaultCorsPreflightOptions does). Remove one of them."
            )
        node.methods["OPTIONS"] = None
        for child in (*node.literals.values(), node.variable, node.greedy):
            if child is not None:
                self._add_preflight(child)


def _resource(path: str) -> Resource:
    # API Gateway gives each resource a short random id; ours is stable per path.
    return Resource(path, hashlib.sha1(path.encode()).hexdigest()[:6])


def _child(node: _Node, part: str, path: str) -> _Node:
    if not part.startswith("{"):
        return node.literals.setdefault(part, _Node(_resource(path)))
    greedy = part.endswith("+}")
    name = part[1:-2] if greedy else part[1:-1]
    if greedy and node.greedy is not None and node.greedy_name == name:
        return node.greedy
    if not greedy and node.variable is not None and node.variable_name == name:
        return node.variable
    if node.variable is not None or node.greedy is not None:
        raise spec.DeclarationError(
            f"Resource {path!r}: a sibling of {part} already has a variable path part; "
            "API Gateway allows only one per resource."
        )
    child = _Node(_resource(path))
    if greedy:
        node.greedy, node.greedy_name = child, name
    else:
        node.variable, node.variable_name = child, name
    return child


def _method(node: _Node, method: str) -> tuple[bool, spec.Route | None]:
    methods = node.methods
    if method in methods:
        return True, methods[method]
    if "ANY" in methods:
        return True, methods["ANY"]
    return False, None


def _search(
    node: _Node, segments: list[str], index: int, method: str, params: list[tuple[str, str]]
) -> RouteMatch | None:
    if index == len(segments):
        return _found(node, method, params)
    segment = segments[index]
    literal = node.literals.get(segment)
    if literal is not None:
        found = _search(literal, segments, index + 1, method, params)
        if found is not None:
            return found
    if node.variable is not None and segment:
        params.append((node.variable_name, unquote(segment)))
        found = _search(node.variable, segments, index + 1, method, params)
        if found is not None:
            return found
        params.pop()
    if node.greedy is not None:
        rest = unquote("/".join(segments[index:]))
        return _found(node.greedy, method, [*params, (node.greedy_name, rest)])
    return None


def _found(node: _Node, method: str, params: list[tuple[str, str]]) -> RouteMatch | None:
    served, route = _method(node, method)
    if not served:
        return None
    return RouteMatch(route, node.resource, dict(params) or None)

"""The request metrics: their label values (ours, not the client's), their counting, and /metrics.

A client can send any method token (`FOO`, `X1`, ...): each would become a new time series in
/metrics (3,000 invented methods grew the page from 128 KB to 6.4 MB). Methods outside HTTP's
standard set are counted as `other`. A request is labelled by its route template
(`/paragraphs/{paragraph_id}`), a mount by its path (`/static`), and every path no route matches by
the one handler `none`. So the label sets are finite, and each one's metric children are looked up
once per process.
"""

from __future__ import annotations

import functools
import os

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_fastapi_instrumentator import routing
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
OTHER_METHOD = "other"
UNMATCHED = "none"

LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else OTHER_METHOD


def route_label(scope: Scope, root_path: str) -> str:
    """The route template of a request the app has handled; `root_path` is the scope's before routing.

    The router leaves what it matched in the scope: a route (`scope["route"]`), or a mount (its
    path appended to `root_path`). A request it never saw (413 before the app, a client gone before
    routing) or that matched nothing is matched here, as the instrumentator did for every request.
    """
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    if "app_root_path" in scope:  # a mount matched, e.g. /static
        mounted: str = scope["root_path"]
        return mounted[len(root_path) :] or UNMATCHED
    return routing.get_route_name(Request(scope), should_include_root_path=False) or UNMATCHED


class RequestMetrics:
    """Request count and latency by handler, method and status."""

    def __init__(self, latency_buckets_s: tuple[float, ...] = LATENCY_BUCKETS_S) -> None:
        labels = ("handler", "method", "status")
        self.requests = Counter(
            "paragraphs_http_requests_total", "Total number of requests by method, status and handler.", labels
        )
        self.latency = Histogram(
            "paragraphs_http_request_duration_seconds",
            "Duration of HTTP requests in seconds",
            labels,
            buckets=latency_buckets_s,
        )
        # (handler, method, status) -> the two children: label sets are finite (module docstring).
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, handler: str, method: str, status: int, seconds: float) -> None:
        key = (handler, method_label(method), status)
        children = self._children.get(key)
        if children is None:
            values = (handler, key[1], str(status))
            children = self._children[key] = (self.requests.labels(*values), self.latency.labels(*values))
        children[0].inc()
        children[1].observe(seconds)


@functools.cache
def request_metrics() -> RequestMetrics:
    """Made once per process: the metrics live in the default registry, which refuses a second copy,
    and every app the process creates (tests, a reload) must count into the same ones."""
    return RequestMetrics()


def install_metrics_page(app: FastAPI, path: str = "/metrics") -> None:
    """`GET /metrics`: this process's metrics, or every process's when `PROMETHEUS_MULTIPROC_DIR`
    is set (serving.py), summed by prometheus-client's multiprocess collector."""

    @app.get(path, include_in_schema=False)
    def metrics_page() -> Response:  # plain def: reading the multiprocess files is blocking I/O
        registry = REGISTRY
        if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return Response(generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

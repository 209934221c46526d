"""Label values of the request metrics are ours, not the client's.

A client can send any method token (`FOO`, `X1`, ...): each would become a new time series in
/metrics (3,000 invented methods grew the page from 128 KB to 6.4 MB). Methods outside HTTP's
standard set are counted as `other`. Paths need nothing here: the instrumentator labels a request by
its route template, and every path no route matches by the one handler `none`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from prometheus_fastapi_instrumentator import metrics
from prometheus_fastapi_instrumentator.metrics import Info

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
OTHER_METHOD = "other"

Instrumentation = Callable[[Info], None]


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else OTHER_METHOD


def grouped_methods(instrumentation: Instrumentation) -> Instrumentation:
    """`instrumentation` (one of the instrumentator's metrics) with unknown methods grouped."""

    def instrument(info: Info) -> None:
        info.method = method_label(info.method)
        instrumentation(info)

    return instrument


@functools.cache
def request_metrics(latency_buckets_s: tuple[float, ...]) -> tuple[Instrumentation, ...]:
    """Request count and latency, made once per process: they live in the default registry, and the
    instrumentator returns None instead of a second copy, so an app created after the first (tests,
    a reload) would otherwise count nothing."""
    made = (
        metrics.requests(metric_namespace="paragraphs"),
        metrics.latency(metric_namespace="paragraphs", buckets=latency_buckets_s),
    )
    if any(instrumentation is None for instrumentation in made):
        raise RuntimeError("request metrics already registered outside paragraphs.metrics_labels")
    return tuple(grouped_methods(instrumentation) for instrumentation in made if instrumentation is not None)

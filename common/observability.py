"""What every service tells its operators: a request id carried from the gateway through Rasa to the actions and
cityapi, Prometheus metrics, and readiness. The id lives in a context variable: logs (common/logs.py) and outgoing
calls read it without passing it along by hand."""
from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest

from common.logs import request_id

log = logging.getLogger(__name__)

HEADER = "X-Request-ID"
_VALID = re.compile(r"[A-Za-z0-9_.-]{8,64}")

# Seconds; a turn with Rasa and the city takes tens to hundreds of milliseconds, a voice note a second or more.
BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
REQUESTS = Counter("http_requests_total", "HTTP requests answered", ["service", "route", "method", "status"])
LATENCY = Histogram("http_request_seconds", "Time to answer an HTTP request", ["service", "route"],
                    buckets=BUCKETS)


def new_request_id(given: str | None = None) -> str:
    """The caller's id when it is a sane one, else a new one."""
    return given if given and _VALID.fullmatch(given) else uuid.uuid4().hex


def outgoing_headers() -> dict[str, str]:
    """The current request's id, for a call to another service."""
    current = request_id.get()
    return {HEADER: current} if current else {}


def middleware(service: str, streams: tuple[str, ...] = ()):
    """Request id in and out, and each request counted and timed by its route (not its path: no ids in labels).
    `streams`: routes that stay open (server-sent events, WebSockets): counted, not timed."""

    @web.middleware
    async def observe(request: web.Request, handler):
        # Not reset afterwards: the access log line, written after this, carries it; the next request sets its own.
        request_id.set(new_request_id(request.headers.get(HEADER)))
        route = request.match_info.route.resource
        name = route.canonical if route is not None else "unmatched"
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            response.headers[HEADER] = request_id.get()
            return response
        except web.HTTPException as http:
            status = http.status
            http.headers[HEADER] = request_id.get()
            raise
        finally:
            REQUESTS.labels(service, name, request.method, str(status)).inc()
            if name not in streams:
                LATENCY.labels(service, name).observe(time.perf_counter() - started)

    return observe


Check = Callable[[], Awaitable[None]]


def add_endpoints(app: web.Application, checks: dict[str, Check], before_metrics: list[Check] = ()) -> None:
    """/health: the process answers. /ready: every check passes (a load balancer sends it traffic).
    /metrics: Prometheus's text format, after `before_metrics` refreshed what is read at scrape time."""

    async def health(_request):
        return web.json_response({"status": "ok"})

    async def ready(_request):
        failed = {}
        for name, check in checks.items():
            try:
                await check()
            except Exception as problem:  # a readiness probe reports, it never crashes
                failed[name] = type(problem).__name__
        status = 503 if failed else 200
        return web.json_response({"status": "unready" if failed else "ready", "failed": failed}, status=status)

    async def metrics(_request):
        for refresh in before_metrics:
            try:
                await refresh()
            except Exception as problem:
                log.warning("metrics: a gauge could not be read: %s", type(problem).__name__)
        return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.router.add_get("/health", health)
    app.router.add_get("/ready", ready)
    app.router.add_get("/metrics", metrics)

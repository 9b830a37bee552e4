"""Operations: structured logs with a request id, ``/health`` and ``/metrics``.

``init_ops(app)`` is called once by ``create_app``: it configures logging, gives every
request an id (the client's ``X-Request-Id`` when it is a sane token, else a new one;
sent back in the response's ``X-Request-Id``), counts and times every request, writes
one log line per request, and registers the two endpoints.

The request line names the route and its arguments, never the raw path: a password reset
link's token is an argument named like a secret, so it is written as ``[redacted]``, and
a path that matched no route is not written at all.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, current_app, g, request
from werkzeug.wrappers import Response

from portal.ops.logs import (
    configure_logging,
    logged_path,
    new_request_id,
    sane_request_id,
    wants_json,
)
from portal.ops.metrics import RequestMetrics

REQUEST_ID_HEADER = "X-Request-Id"

log = logging.getLogger("dpledger.requests")


def init_ops(app: Flask) -> None:
    configure_logging(
        json_lines=wants_json(app.config.get("ENV_NAME", ""), app.config.get("LOG_FORMAT")),
        level=app.config.get("LOG_LEVEL") or "INFO",
    )
    app.extensions["dpledger.request_metrics"] = RequestMetrics()
    app.before_request(_start_request)
    app.after_request(_finish_request)

    from portal.ops.views import ops_pages

    app.register_blueprint(ops_pages)


def request_metrics(app: Flask) -> RequestMetrics:
    found: RequestMetrics = app.extensions["dpledger.request_metrics"]
    return found


def _start_request() -> None:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = given if sane_request_id(given) else new_request_id()
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    started = g.get("request_started")
    if started is None:
        return response
    seconds = time.perf_counter() - started
    route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
    request_metrics(current_app).observe(request.method, route, response.status_code, seconds)
    path = logged_path(route, request.view_args or {}) if request.url_rule else route
    log.log(
        logging.DEBUG if request.endpoint == "static" else logging.INFO,
        "%s %s %s %.1fms",
        request.method,
        path,
        response.status_code,
        seconds * 1000,
        extra={
            "method": request.method,
            "path": path,
            "route": route,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 1),
        },
    )
    return response

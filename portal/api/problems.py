"""RFC 9457 problem JSON for the whole API, mapped once.

Every error an API request can meet becomes ``application/problem+json`` with ``type``,
``title``, ``status``, ``detail`` and ``code`` (the stable machine name: a domain error's
own, or one per HTTP status below), plus ``errors`` (per field) for invalid input:

- ``ledger.errors.DomainError`` and its kinds (the adapters' and the API's own too);
- marshmallow validation (422, via flask-smorest's ``abort``), with the field errors;
- HTTP errors (400, 401, 403, 404, 405, 409, 413, 415, …);
- anything unexpected: 500, logged with its traceback, never shown.

The handlers are attached to each API blueprint; ``portal.errors`` calls ``http_problem``
for requests under ``/api/`` that matched no route (404, 405), where no blueprint is known.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, request
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from ledger.errors import DomainError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
API_PREFIX = "/api/"

# A stable code per HTTP status, for errors that are not domain errors.
HTTP_CODES: Mapping[int, str] = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    500: "internal_error",
}


class ProblemSchema(Schema):
    """An RFC 9457 problem: what went wrong, in words and as a stable ``code``."""

    type = fields.String(required=True, metadata={"description": "A URI naming the problem"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    code = fields.String(
        required=True, metadata={"description": "Stable machine name, e.g. insufficient_funds"}
    )
    errors = fields.Dict(
        metadata={"description": "For invalid input: the messages for each field (by location)"}
    )


def problem_type(code: str) -> str:
    return f"https://dpledger.example/problems/{code}"


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    errors: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def domain_problem(error: DomainError) -> Response:
    headers = getattr(error, "headers", None)
    return problem(error.http_status, error.code, error.title, error.detail, headers=headers)


def http_problem(error: HTTPException) -> Response:
    status = error.code or 500
    if status >= 500:
        return server_problem()
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") if isinstance(data, Mapping) else None
    detail = error.description or ""
    if status == 422 and messages:
        detail = "The request is not valid: see errors for each field."
    headers = {}
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return problem(
        status,
        HTTP_CODES.get(status, "http_error"),
        error.name,
        detail,
        errors=messages if isinstance(messages, Mapping) else None,
        headers=headers,
    )


def server_problem() -> Response:
    return problem(
        500,
        HTTP_CODES[500],
        "Internal Server Error",
        "Something went wrong on our side. Nothing was changed by the part that failed; "
        "the request may be retried.",
    )


def is_api_request() -> bool:
    return request.path == API_PREFIX.rstrip("/") or request.path.startswith(API_PREFIX)


def register_problem_handlers(blueprint: Blueprint) -> None:
    """Problem JSON for every error raised in this blueprint's views and guards. The
    request's transaction is rolled back: an error changes nothing."""
    from portal.app import roll_back_request

    @blueprint.errorhandler(DomainError)
    def _domain_error(error: DomainError) -> Response:
        roll_back_request()
        return domain_problem(error)

    @blueprint.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        roll_back_request()
        if (error.code or 500) >= 500:
            log.error("API request failed", exc_info=error)
        return http_problem(error)

    @blueprint.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        roll_back_request()
        log.error("API request failed", exc_info=error)
        return server_problem()

"""The API's blueprint class: flask-smorest's, reading JSON bodies exactly.

JSON numbers that are not integers are read as ``Decimal``, never ``float``, the same
way the adapters read a stored body (``adapters.formats.parse_json``): an amount sent as
the number 12.34 is 1234 pence, and 12.345 is refused as a fraction of a penny rather
than rounded. Unknown fields are refused in the query string as in the body.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar, cast

import flask
import flask_smorest
from marshmallow import RAISE
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

F = TypeVar("F", bound=Callable[..., Any])


class ExactJsonParser(FlaskParser):
    # Unknown query parameters are refused too (422), like unknown body fields.
    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": RAISE,
        "querystring": RAISE,
    }

    def _raw_load_json(self, req: flask.Request) -> Any:
        if not is_json_request(req):
            return core.missing
        return json.loads(req.get_data(cache=True).decode("utf-8"), parse_float=Decimal)


class ApiBlueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """flask-smorest's blueprint, with the exact parser, and its decorators typed (the
    package has no type information) so views keep their signatures for mypy."""

    ARGUMENTS_PARSER = ExactJsonParser()

    def route(self, rule: str, **options: Any) -> Callable[[F], F]:
        return cast(Callable[[F], F], super().route(rule, **options))

    def arguments(self, schema: Any, **options: Any) -> Callable[[F], F]:
        return cast(Callable[[F], F], super().arguments(schema, **options))

    def response(self, status_code: int, schema: Any = None, **options: Any) -> Callable[[F], F]:
        return cast(Callable[[F], F], super().response(status_code, schema, **options))

    def alt_response(
        self, status_code: int, response: str | None = None, **options: Any
    ) -> Callable[[F], F]:
        return cast(Callable[[F], F], super().alt_response(status_code, response, **options))

    def doc(self, **documentation: Any) -> Callable[[F], F]:
        return cast(Callable[[F], F], super().doc(**documentation))

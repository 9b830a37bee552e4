"""``GET /api/docs``: the OpenAPI document as a plain page, rendered here from the same
document served at ``/api/openapi.json`` (no script, no other origin: the CSP allows
neither, so Swagger UI and ReDoc from a CDN are not an option)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, current_app, render_template

from portal.api import openapi_document

api_docs_pages = Blueprint("api_docs_page", __name__)

_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    description: str
    security: list[str]
    parameters: list[dict[str, Any]]
    responses: list[tuple[str, str]]
    anchor: str


@dataclass
class Tag:
    name: str
    description: str
    operations: list[Operation] = field(default_factory=list)


def describe_api(document: dict[str, Any]) -> list[Tag]:
    tags = {t["name"]: Tag(t["name"], t.get("description", "")) for t in document["tags"]}
    for path, item in document["paths"].items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            security = [
                f"{scheme}" + (f" ({', '.join(scopes)})" if scopes else "")
                for requirement in operation.get("security", [])
                for scheme, scopes in requirement.items()
            ]
            responses = [
                (code, _response_text(document, response))
                for code, response in operation.get("responses", {}).items()
            ]
            parameters = item.get("parameters", []) + operation.get("parameters", [])
            for tag in operation.get("tags", ["other"]):
                tags.setdefault(tag, Tag(tag, "")).operations.append(
                    Operation(
                        method=method.upper(),
                        path=path,
                        summary=operation.get("summary", ""),
                        description=operation.get("description", ""),
                        security=security,
                        parameters=parameters,
                        responses=responses,
                        anchor=f"{method}-{path}".replace("/", "-").strip("-"),
                    )
                )
    return [tag for tag in tags.values() if tag.operations]


def _response_text(document: dict[str, Any], response: dict[str, Any]) -> str:
    ref = response.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        found: dict[str, Any] = document.get("components", {}).get("responses", {}).get(name, {})
        return str(found.get("description", name)) + " (problem JSON)"
    return str(response.get("description", ""))


@api_docs_pages.get("/api/docs")
def api_docs() -> str:
    document = openapi_document(current_app._get_current_object())  # type: ignore[attr-defined]
    return render_template("api/docs.html", info=document["info"], tags=describe_api(document))

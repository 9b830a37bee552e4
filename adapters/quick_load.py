"""A marshmallow schema's ``load``, quicker for the input it nearly always gets.

A real-time request is read through marshmallow schemas (the Stripe event and its
authorisation), and marshmallow's machinery (error stores, hooks, a closure a field,
nested schemas loaded as schemas) costs some 0.3 ms a request, more than the checks
themselves. ``QuickLoad`` reads a payload directly when every field it meets holds exactly
the JSON type the field takes (a str for ``String``, an int that is not a bool for
``Integer``, a bool for ``Boolean``, an object for ``Dict`` and ``Nested``, an array of
objects for ``List(Nested)``): then marshmallow's answer is that value as it is (a copy,
for ``Dict``), and a field missing gets its ``load_default``, as marshmallow gives it.
Anything else (a missing required field, a wrong type, a null where none is allowed, a
field of another kind that refuses its value) goes to the schema's own ``load``, so the
result, and every error, is marshmallow's. A schema this cannot follow (hooks,
validators, ``data_key``, unknown fields not excluded) always goes to marshmallow.
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, missing

_STR, _INT, _BOOL, _DICT, _NESTED, _NESTED_LIST, _OTHER = range(7)
_FALLBACK: Any = object()
# Fields whose loaded value is the JSON value itself, when it is exactly this type (an
# int that is not a bool, say).
_EXACT = {_STR: str, _INT: int, _BOOL: bool}


class QuickLoad:
    """``load(data)``: what ``schema.load(data)`` returns (or raises)."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.plan: list[tuple[str, int, fields.Field[Any], QuickLoad | None]] | None = []
        for name, field in schema.fields.items():
            kind, nested = _kind(field)
            if (
                kind is None
                or field.validators
                or field.data_key is not None
                or field.attribute is not None
                or (nested is not None and nested.plan is None)
            ):
                self.plan = None
                break
            self.plan.append((name, kind, field, nested))
        if schema.unknown != EXCLUDE or any(schema._hooks.values()):
            self.plan = None

    def load(self, data: Any) -> dict[str, Any]:
        if self.plan is not None:
            quick = self._quick(data)
            if quick is not _FALLBACK:
                return quick  # type: ignore[no-any-return]
        loaded: dict[str, Any] = self.schema.load(data)
        return loaded

    def _quick(self, data: Any) -> Any:
        if type(data) is not dict or self.plan is None:
            return _FALLBACK
        out: dict[str, Any] = {}
        for name, kind, field, nested in self.plan:
            value = data.get(name, missing)
            if value is missing:
                if field.required:
                    return _FALLBACK
                default = field.load_default
                if default is not missing:
                    out[name] = default() if callable(default) else default
                continue
            if value is None:
                if not field.allow_none:
                    return _FALLBACK
                out[name] = None
            elif kind in _EXACT:
                if type(value) is not _EXACT[kind]:
                    return _FALLBACK
                out[name] = value
            elif kind == _DICT:
                if type(value) is not dict:
                    return _FALLBACK
                out[name] = dict(value)
            elif kind == _NESTED:
                assert nested is not None
                loaded = nested._quick(value)
                if loaded is _FALLBACK:
                    return _FALLBACK
                out[name] = loaded
            elif kind == _NESTED_LIST:
                assert nested is not None
                if type(value) is not list:
                    return _FALLBACK
                items = [nested._quick(item) for item in value]
                if any(item is _FALLBACK for item in items):
                    return _FALLBACK
                out[name] = items
            else:
                try:
                    out[name] = field.deserialize(value, name, data)
                except ValidationError:
                    return _FALLBACK
        return out


def _kind(field: fields.Field[Any]) -> tuple[int | None, QuickLoad | None]:
    """How ``QuickLoad`` reads the field (None: it cannot)."""
    kind = type(field)
    if kind is fields.String:
        return _STR, None
    if kind is fields.Integer:
        return _INT, None
    if kind is fields.Boolean:
        return _BOOL, None
    if kind is fields.Dict:
        plain = field.key_field is None and field.value_field is None  # type: ignore[attr-defined]
        return (_DICT if plain else None), None
    if kind is fields.Nested:
        return _nested(field, _NESTED)
    if kind is fields.List:
        inner = field.inner  # type: ignore[attr-defined]
        if type(inner) is fields.Nested:
            return _nested(inner, _NESTED_LIST)
        return None, None
    if kind.__module__.startswith("marshmallow"):
        return None, None  # a marshmallow field not covered above
    # A field of our own: its deserialize decides, as it would inside the schema.
    return _OTHER, None


def _nested(field: fields.Field[Any], kind: int) -> tuple[int | None, QuickLoad | None]:
    """A nested schema read whole, one object at a time (not ``many``, ``only`` or
    ``exclude``, which change what it reads)."""
    if (
        getattr(field, "many", False)
        or getattr(field, "only", None)
        or getattr(field, "exclude", ())
    ):
        return None, None
    return kind, QuickLoad(field.schema)  # type: ignore[attr-defined]

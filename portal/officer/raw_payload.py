"""A provider's payload as readable, indented JSON, exactly as it was sent.

``json.dumps`` cannot write a ``Decimal`` as the number it is (the adapters read every
non-integer number as a Decimal, never a float), so the few JSON types are written out
here. The text is escaped by the template like any other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

INDENT = "  "


def pretty_json(value: Any, depth: int = 0) -> str:
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        inner = INDENT * (depth + 1)
        items = [
            f"{inner}{json.dumps(str(key))}: {pretty_json(item, depth + 1)}"
            for key, item in value.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + INDENT * depth + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        inner = INDENT * (depth + 1)
        items = [f"{inner}{pretty_json(item, depth + 1)}" for item in value]
        return "[\n" + ",\n".join(items) + "\n" + INDENT * depth + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value)

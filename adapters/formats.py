"""The provider-format interface every adapter implements, and how to find one by name.

A format splits a delivery's raw body into provider events (each with the provider's own
event id and type) and maps each onto a canonical event. It is pure: no database, no
clock, so a stored delivery can be read again on replay exactly as it was the first time.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from adapters.canonical import CanonicalEvent
from adapters.errors import MalformedPayload


@dataclass(frozen=True)
class RawEvent:
    """One provider event in a delivery, in the provider's own words."""

    provider_event_id: str
    event_type: str
    position: int
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Ignore:
    """An event we record but do not apply, and why."""

    reason: str


class ProviderFormat(Protocol):
    name: str

    def split(self, body: bytes, channel: str) -> list[RawEvent]:
        """The provider events in a delivery; ``MalformedPayload`` if it is not one."""
        ...

    def to_canonical(self, raw: RawEvent) -> CanonicalEvent | Ignore:
        """The canonical event a provider event says; ``MalformedPayload`` if it cannot."""
        ...


# provider name -> module defining FORMAT
_FORMAT_MODULES = {
    "stripe": "adapters.stripe_issuing",
    "marqeta": "adapters.marqeta",
    "simulated": "adapters.simulated",
}


def format_for(provider: str, channel: str = "webhook") -> ProviderFormat:
    """The format of a stored delivery: canonical events for the API channel, whatever
    provider's cards they are about; else the provider's own."""
    module_name = "adapters.api_events" if channel == "api" else _FORMAT_MODULES.get(provider)
    if module_name is None:
        raise MalformedPayload(f"no adapter for provider {provider!r}")
    found: ProviderFormat = importlib.import_module(module_name).FORMAT
    return found


def parse_json(body: bytes) -> Any:
    """JSON with every non-integer number read exactly as a Decimal (never a float)."""
    try:
        return json.loads(body.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MalformedPayload(f"the body is not JSON: {error}") from None


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, whatever its case (HTTP header names are case-insensitive)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None

"""The ledger's own settings, read from one place.

``from_environment()`` gives the ``LedgerSettings`` every caller passes to ``Ledger`` and
``CardPayments`` (the adapters, the scheduler's jobs); the web app reads it once when it
starts (``portal/config.py``), so a bad value stops it there rather than at the first
clearing. Every variable is listed in ``docs/configuration.md``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

# How far a clearing may exceed its hold and still post against it (tips, fuel), in
# percent of the hold.
OVER_POST_TOLERANCE_VARIABLE = "DPLEDGER_HOLD_OVER_POST_TOLERANCE_PERCENT"
MAX_OVER_POST_TOLERANCE_PERCENT = 100


@dataclass(frozen=True)
class LedgerSettings:
    """Council-level settings the ledger itself needs."""

    # How far a clearing may exceed its hold and still post against it (tips, fuel).
    over_post_tolerance_percent: int = 20


class InvalidLedgerSetting(ValueError):
    """A ledger setting in the environment that the ledger cannot work with."""


def from_environment(environ: Mapping[str, str] | None = None) -> LedgerSettings:
    """The ledger's settings from the environment (``os.environ`` unless given); an unset
    or empty variable keeps its default. Raises ``InvalidLedgerSetting``, naming the
    variable, for a value it cannot use."""
    env = os.environ if environ is None else environ
    default = LedgerSettings()
    return LedgerSettings(
        over_post_tolerance_percent=_whole_percent(
            env,
            OVER_POST_TOLERANCE_VARIABLE,
            default.over_post_tolerance_percent,
            MAX_OVER_POST_TOLERANCE_PERCENT,
        )
    )


def _whole_percent(env: Mapping[str, str], name: str, default: int, most: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()):
        raise InvalidLedgerSetting(
            f"{name}={raw!r} is not a whole number of percent (for example 20)"
        )
    value = int(raw)
    if value > most:
        raise InvalidLedgerSetting(f"{name}={raw!r} is more than {most} percent")
    return value

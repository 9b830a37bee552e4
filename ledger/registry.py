"""Imports every part's models so the metadata (Alembic, tests) sees every table.

Parts that add tables list their models module here. The ledger names them as strings and
imports them only when asked, so it still depends on none of the other parts.
"""

from __future__ import annotations

import importlib

MODEL_MODULES = ("ledger.models", "adapters.models", "monitoring.models", "portal.models")


def load_all_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)

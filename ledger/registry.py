"""Imports every part's models so the metadata (Alembic, tests) sees every table.

Parts that add tables list their models module here.
"""

from __future__ import annotations

import importlib

MODEL_MODULES = ("ledger.models", "adapters.models", "monitoring.models")


def load_all_models() -> None:
    for name in MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise

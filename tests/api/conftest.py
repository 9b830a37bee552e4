"""The API tests' fixtures (see ``tests.api.api_support``)."""

from tests.api.api_support import api, api_module

__all__ = ["api", "api_module"]

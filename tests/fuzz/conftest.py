"""The in-process moto stack of tests/e2e, for the API fuzz tests."""

from tests.e2e.conftest import loaded, stack

__all__ = ["loaded", "stack"]

"""Fixtures of the store tests: each backend, and both (`backend`, which runs a test twice)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from newsroom.core import retry
from tests.store.backends import Backend, memory_backend, moto_backend


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "sleep", lambda _seconds: None)


@pytest.fixture(params=["moto", "memory"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "memory":
        yield memory_backend()
        return
    with moto_backend() as backend:
        yield backend


@pytest.fixture
def memory() -> Backend:
    """The memory backend alone: rules moto forgives, and the fake's own strictness."""
    return memory_backend()


@pytest.fixture
def moto() -> Iterator[Backend]:
    """The moto backend alone: what moto does where it differs from DynamoDB."""
    with moto_backend() as backend:
        yield backend

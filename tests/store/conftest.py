"""Fixtures of the store tests: each backend, and both (`backend`, which runs a test twice)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from devtools.template import create_table
from newsroom.core import retry
from newsroom.store.dynamo import DynamoStore
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
def store() -> Iterator[DynamoStore]:
    """`DynamoStore` on moto alone, on the template's table (a file may define its own)."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "t")
        yield DynamoStore(client, "t", b"secret")


@pytest.fixture
def memory() -> Backend:
    """The memory backend alone: rules moto forgives, and the fake's own strictness."""
    return memory_backend()


@pytest.fixture
def moto() -> Iterator[Backend]:
    """The moto backend alone: what moto does where it differs from DynamoDB."""
    with moto_backend() as backend:
        yield backend

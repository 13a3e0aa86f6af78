"""The two backends the store's contract runs on, and what the contract tests build with: the
store on moto (the table from template.yaml) and the store on the in-memory client, each with
one fault plan (`devtools.memory_faults.Faults`; on moto through `FaultyClient`)."""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from devtools.memory_dynamodb import MemoryDynamoDB, memory_dynamodb_from_template, memory_store
from devtools.memory_faults import Faults, FaultyClient
from devtools.template import create_table
from newsroom.core.models import Article
from newsroom.store.dynamo import DynamoStore
from tests.store.test_stories import T0
from tests.store.test_stories import article as stories_article

DAY = timedelta(days=1)
KB = 1024


@dataclass(frozen=True)
class Backend:
    name: str
    client: Any  # the DynamoDB client the store is given (faults applied)
    faults: Faults
    make: Callable[..., DynamoStore]
    now: list[float]  # the stores' clock (epoch seconds); tests move it

    def store(self, **options: Any) -> DynamoStore:
        return self.make(clock=lambda: self.now[0], **options)

    @property
    def memory(self) -> MemoryDynamoDB:
        assert isinstance(self.client, MemoryDynamoDB)
        return self.client


@contextmanager
def moto_backend() -> Iterator[Backend]:
    with mock_aws():
        real = boto3.client("dynamodb", region_name="us-east-1")
        create_table(real, "t")
        faults = Faults()
        wrapped = FaultyClient(real, faults)

        def make(**options: Any) -> DynamoStore:
            return DynamoStore(wrapped, "t", b"secret", **options)

        yield Backend("moto", wrapped, faults, make, [T0.timestamp()])


def memory_backend() -> Backend:
    client, table = memory_dynamodb_from_template(table_name="t")

    def make(**options: Any) -> DynamoStore:
        return memory_store(b"secret", client=client, table_name=table, **options)

    return Backend("memory", client, client.faults, make, [T0.timestamp()])


def article(n: int, **changes: Any) -> Article:
    """`tests/store/test_stories.py`'s article, from the contract suite's own source."""
    return stories_article(n, **{"source_id": "src", "source_name": "Source", **changes})


def story_key(a: Article) -> dict[str, Any]:
    return {"PK": {"S": f"ART#{a.id}"}, "SK": {"S": "ART"}}


def error_code(caught: pytest.ExceptionInfo[ClientError]) -> str:
    return str(caught.value.response["Error"]["Code"])


def incompressible(size: int, seed: int = 0) -> str:
    """`size` bytes of random ASCII text that zlib shrinks by about a fifth at most: the store
    compresses documents (`newsroom.store.documents`), so a repeated letter is a few bytes stored,
    and a test of DynamoDB's size limits needs text that stays large. No quote or backslash, which
    JSON would escape."""
    alphabet = string.ascii_letters + string.digits + "-_.,;:!?()[]{}+=*/%$#@~^| "
    return "".join(random.Random(seed).choices(alphabet, k=size))


def raw_item(n: int, size: int) -> dict[str, Any]:
    """An item of exactly `size` bytes by AWS's sizing rules (names plus values)."""
    item = {"PK": {"S": f"RAW#{n:04d}"}, "SK": {"S": "RAW"}}
    fixed = sum(len(name) + len(value["S"]) for name, value in item.items()) + len("blob")
    return {**item, "blob": {"S": "x" * (size - fixed)}}


def four_mb_transaction() -> list[dict[str, Any]]:
    """Eleven puts of 390 KB: 4.2 MB, over TransactWriteItems' 4 MB aggregate; ten are 3.8 MB."""
    return [{"Put": {"TableName": "t", "Item": raw_item(n, 390 * KB)}} for n in range(11)]

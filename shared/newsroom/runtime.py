"""Process-wide clients, created once per Lambda execution environment and reused.

Handlers ask for what they need here; tests call `reset()` after changing the environment.
`AWS_ENDPOINT_URL` (honoured by boto3 itself) points everything at moto in the local run.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from newsroom.config import load_sources, settings
from newsroom.storage import DynamoStore, Store


@cache
def dynamodb() -> Any:
    import boto3

    return boto3.client("dynamodb")


@cache
def sqs() -> Any:
    import boto3

    return boto3.client("sqs")


@cache
def store() -> Store:
    s = settings()
    return DynamoStore(dynamodb(), s.table_name, s.cursor_secret)


def reset() -> None:
    for cached in (dynamodb, sqs, store, settings, load_sources):
        cached.cache_clear()

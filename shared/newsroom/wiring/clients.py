"""Process-wide clients, created once per Lambda execution environment and reused.

Handlers ask for what they need here; tests call `reset()` after changing the environment.
`AWS_ENDPOINT_URL` (honoured by boto3 itself) points everything at moto in the local run.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

from newsroom.core.claimcheck import EntryBucket
from newsroom.core.config import client_config, dynamodb_client_config, load_sources, settings
from newsroom.store.dynamo import DynamoStore
from newsroom.store.roles import RejectLog, Store


@cache
def dynamodb() -> Any:
    import boto3

    return boto3.client("dynamodb", config=dynamodb_client_config())


@cache
def sqs() -> Any:
    import boto3

    return boto3.client("sqs", config=client_config())


@cache
def s3() -> Any:
    import boto3

    return boto3.client("s3", config=client_config())


@cache
def entry_bucket() -> EntryBucket | None:
    """Where oversize entries go (`claimcheck`); None when the stack has no entry bucket."""
    name = settings().entry_bucket
    return EntryBucket(s3(), name) if name else None


@cache
def store() -> Store:
    s = settings()
    # Deployed (`CURSOR_KEY_IN_TABLE`), no key is given: the store reads the table's on the first
    # cursor it signs or checks, once per execution environment (the store is cached).
    key = None if s.cursor_key_in_table else s.cursor_secret
    return DynamoStore(dynamodb(), s.table_name, key, retention=timedelta(days=s.article_retention_days))


@cache
def rejects() -> RejectLog:
    s = settings()
    return DynamoStore(dynamodb(), s.table_name, s.cursor_secret)  # it never pages


def reset() -> None:
    for cached in (dynamodb, sqs, s3, entry_bucket, store, rejects, settings, load_sources):
        cached.cache_clear()

"""Process-wide clients, created once per Lambda execution environment and reused.

Handlers ask for what they need here; tests call `reset()` after changing the environment.
`AWS_ENDPOINT_URL` (honoured by boto3 itself) points everything at moto in the local run.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

from newsroom.claimcheck import EntryBucket
from newsroom.config import load_sources, read_secret, settings
from newsroom.storage import DynamoStore, RejectLog, Store


def client_config() -> Any:
    """Retries and timeouts for every AWS client, explicit so no environment can change them.

    botocore's "standard" mode retries throttling (`ProvisionedThroughputExceededException`,
    `ThrottlingException`, ...), 5xx and connection errors with jittered exponential backoff
    (`rand() * 2**n` s, capped) under a retry quota that stops retry storms when a service is
    down. Six attempts spend ~15 s at most on average, inside the processor's 30 s timeout; a
    message that still fails is retried by SQS. Short read timeouts: DynamoDB and SQS answer in
    milliseconds, and a hung connection must not eat the invocation.
    """
    from botocore.config import Config

    return Config(
        retries={"mode": "standard", "max_attempts": 6},
        connect_timeout=3,
        read_timeout=10,
        tcp_keepalive=True,
    )


@cache
def dynamodb() -> Any:
    import boto3

    return boto3.client("dynamodb", config=client_config())


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
    return DynamoStore(dynamodb(), s.table_name, s.cursor_key, retention=timedelta(days=s.article_retention_days))


@cache
def rejects() -> RejectLog:
    s = settings()
    return DynamoStore(dynamodb(), s.table_name, s.cursor_key)


def reset() -> None:
    for cached in (dynamodb, sqs, s3, entry_bucket, store, rejects, settings, load_sources, read_secret):
        cached.cache_clear()

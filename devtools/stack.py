"""The in-process stack the tests share: moto for AWS, with the table, queues and entry bucket
created from template.yaml, the sample server for the internet, and the environment the
handlers read, as template.yaml sets it.

    with local_stack(monkeypatch.setenv, tmp_path) as stack:
        invoke(load_handler_module("fetch_feeds"), load_event("fetch_feeds_schedule"))

`setenv` is how the caller sets (and later restores) environment variables: pytest's
`monkeypatch.setenv`, or a `pytest.MonkeyPatch.context()`'s for a wider-scoped fixture.

`dynamodb` chooses the DynamoDB the stack runs on: moto's (the default) or any factory of a
boto3-shaped DynamoDB client (an in-memory stand-in, say). The stack calls the factory once,
creates the table on that client from template.yaml, and the handlers use that same client.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from devtools.moto_local import direct_attribute_values, item_level_transaction_rollback
from devtools.sample_server import SampleServer
from devtools.template import LocalResources, create_resources

TEST_CURSOR_SECRET = "test-cursor-secret-0123456789"  # noqa: S105 - signs test cursors only
LOCAL_API_URL = "http://127.0.0.1:3000"  # where tests and `make run` address the API

DynamoDBFactory = Callable[[], Any]  # returns a client with boto3's DynamoDB client interface


def moto_dynamodb() -> Any:
    """moto's DynamoDB, the default: a boto3 client that `mock_aws` answers in-process."""
    import boto3

    return boto3.client("dynamodb", region_name="us-east-1")


def memory_dynamodb() -> Any:
    """The strict in-memory DynamoDB (`devtools.memory_dynamodb`): the same table from
    template.yaml, DynamoDB's limits, a fraction of moto's cost per call."""
    from devtools.memory_dynamodb import MemoryDynamoDB

    return MemoryDynamoDB()


@cache
def _boto3_session() -> Any:
    """One boto3 session for every stack of this process.

    `mock_aws` clears boto3's default session on entry, so each stack's first clients would parse
    botocore's service models (JSON, about 0.15 s a client) again; a kept session keeps its
    loader's cache. Its clients are still moto's: moto registers its stubber with every session
    created after moto is imported, and this one is created inside `mock_aws`.
    """
    import boto3

    return boto3.Session()


@dataclass
class LocalStack:
    resources: LocalResources
    samples: SampleServer
    dynamodb: Any
    sqs: Any
    s3: Any


_GENUINE: list[Any] = []


def _genuine_runtime_dynamodb(runtime: Any) -> Any:
    """`runtime.dynamodb` as the package defines it, never a stand-in a stack patched in."""
    if not _GENUINE:
        current = runtime.dynamodb
        if getattr(current, "stand_in", False):
            raise RuntimeError("runtime.dynamodb was patched before the first stack")
        _GENUINE.append(current)
    return _GENUINE[0]


@contextmanager
def local_stack(
    setenv: Callable[[str, str], None], workdir: Path, *, dynamodb: DynamoDBFactory = moto_dynamodb
) -> Iterator[LocalStack]:
    import boto3
    from moto import mock_aws

    from newsroom.wiring import clients as runtime

    # In-process moto intercepts boto3's calls; an endpoint URL would send them elsewhere.
    saved_endpoint = os.environ.pop("AWS_ENDPOINT_URL", None)
    try:
        with mock_aws(), item_level_transaction_rollback(), direct_attribute_values():
            # mock_aws puts the default session back as it was on exit.
            boto3.DEFAULT_SESSION = _boto3_session()
            table_client = dynamodb()
            sqs = boto3.client("sqs", region_name="us-east-1")
            s3 = boto3.client("s3", region_name="us-east-1")
            resources = create_resources(table_client, sqs, s3=s3)
            runtime_dynamodb = _genuine_runtime_dynamodb(runtime)
            if dynamodb is moto_dynamodb:
                # On moto the handlers build their own client, with the runtime's retry and
                # timeout config; set explicitly, so no stand-in a stack left behind survives.
                setattr(runtime, "dynamodb", runtime_dynamodb)  # noqa: B010 - restored below
            else:
                # The handlers share the stack's client (a stand-in's data lives in its client).
                stand_in = cache(lambda: table_client)
                stand_in.stand_in = True  # type: ignore[attr-defined]
                setattr(runtime, "dynamodb", stand_in)  # noqa: B010 - restored below
            samples = SampleServer().start()
            try:
                env = {
                    "TABLE_NAME": resources.table_name,
                    "QUEUE_URL": resources.queue_url,
                    "FETCH_QUEUE_URL": resources.fetch_queue_url,
                    "ENTRY_BUCKET": resources.entry_bucket,
                    "SOURCES_FILE": str(samples.sources_file(workdir / "sources.json")),
                    "PRICE_API_BASE_URL": f"{samples.base_url}/api/v3",
                    "ALLOW_PRIVATE_NETWORK": "true",
                    "POWERTOOLS_METRICS_DISABLED": "true",
                    "CURSOR_SECRET": TEST_CURSOR_SECRET,
                    # The local API's address, configured as a deployment behind a custom domain
                    # would be: links never come from the request's Host header.
                    "PUBLIC_BASE_URL": LOCAL_API_URL,
                }
                for key, value in env.items():
                    setenv(key, value)
                runtime.reset()
                yield LocalStack(resources=resources, samples=samples, dynamodb=table_client, sqs=sqs, s3=s3)
            finally:
                samples.stop()
                setattr(runtime, "dynamodb", runtime_dynamodb)  # noqa: B010 - see above
                runtime.reset()
    finally:
        if saved_endpoint is not None:
            os.environ["AWS_ENDPOINT_URL"] = saved_endpoint

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


@contextmanager
def _item_level_transaction_rollback() -> Iterator[None]:
    """moto's TransactWriteItems, rolled back item by item instead of table by table.

    DynamoDB applies a transaction all or nothing
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html).
    moto keeps that by deep-copying every table the transaction names, once per action, before
    it starts, and putting the copies back if an action fails: each transaction then costs time
    in proportion to the whole table, and a test that stores a few hundred stories spends most
    of its time copying. Only the items the actions name can change, so this copies just those
    and puts them back (or removes them, if they were new) when the transaction fails. A table
    with a stream is left to moto's own copy: its stream records would need putting back too.
    """
    import copy

    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items

    class _TablesKept:
        """`copy` as moto's DynamoDB backend sees it: a table "copy" is the table itself."""

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            if isinstance(value, Table) and value.stream_shard is None:
                return value
            return copy.deepcopy(value, memo)

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        saved: list[tuple[Table, DynamoType, DynamoType | None, Any]] = []
        for action in transact_items:
            _, op = next(iter(action.items()))
            table = self.tables.get(op.get("TableName", ""))
            key = op.get("Item") if "Item" in op else op.get("Key")
            if table is None or table.stream_shard is not None or not isinstance(key, dict):
                continue
            if table.hash_key_attr not in key or (table.range_key_attr and table.range_key_attr not in key):
                continue  # moto refuses the action itself
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
        try:
            original(self, transact_items)
        except BaseException:
            for table, hash_key, range_key, item in reversed(saved):
                if item is None:
                    table.delete_item(hash_key, range_key)
                elif range_key is None:
                    table.items[hash_key] = item
                else:
                    table.items[hash_key][range_key] = item
            raise

    saved_copy = models.copy
    setattr(models, "copy", _TablesKept)  # noqa: B010 - a module's name, put back below
    setattr(DynamoDBBackend, "transact_write_items", transact_write_items)  # noqa: B010
    try:
        yield
    finally:
        setattr(DynamoDBBackend, "transact_write_items", original)  # noqa: B010
        setattr(models, "copy", saved_copy)  # noqa: B010


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
        with mock_aws(), _item_level_transaction_rollback():
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

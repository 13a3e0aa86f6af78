"""DynamoDB batch calls that never return a partial result silently.

A batch call can succeed and still leave part of its request undone: `BatchGetItem` answers
with `UnprocessedKeys` when the table throttles, when more than 1 MB per partition is asked, and
when its response would pass 16 MB ("A single operation can retrieve up to 16 MB of data, which
can contain as many as 100 items. BatchGetItem returns a partial result if the response size
limit is exceeded, the table's provisioned throughput is exceeded, more than 1MB per partition
is requested, or an internal processing failure occurs"; more than 100 keys is a
ValidationException: Amazon DynamoDB API Reference, BatchGetItem,
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html).
`BatchWriteItem` does the same with `UnprocessedItems` (25 requests per call at most:
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html).

`follow_unprocessed` is the one retry loop for all of them (and the storage's transaction retry
gives up the same way): it sends what is left again with the jittered backoff of `retry`,
restarting the count whenever a call made progress (the 16 MB cut always does), and raises
`StoreIncomplete` after `attempts` calls in a row that left everything as it was. A caller
never sees a partial result as if it were the whole: a missing source state is not a new
source, a missing fingerprint is not "no duplicate", a missing body is not an empty one.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from newsroom.core import retry

MAX_GET_KEYS = 100  # BatchGetItem: more is a ValidationException
MAX_WRITE_REQUESTS = 25  # BatchWriteItem: likewise
# A batch none of whose items could be processed is refused with one of these instead of being
# answered with everything unprocessed; botocore has already retried it when we see it.
THROTTLE_CODES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"})


class StoreIncomplete(RuntimeError):
    """DynamoDB left part of a request undone after every retry; retrying later may succeed.

    `missing` names what was not read or written (item keys as "PK|SK"); `partial` is what a
    read did get, keyed as the read's caller keys it, so a caller may use the rest and fail only
    what is missing.
    """

    def __init__(self, operation: str, missing: Sequence[str], partial: Mapping[str, Any] | None = None) -> None:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        super().__init__(f"DynamoDB left {len(missing)} item(s) of {operation} unprocessed after retries: {shown}")
        self.operation = operation
        self.missing = tuple(missing)
        self.partial: Mapping[str, Any] = partial or {}


def key_name(key: Mapping[str, Any]) -> str:
    return f"{key['PK']['S']}|{key['SK']['S']}"


def follow_unprocessed(
    send: Callable[[list[Any]], list[Any]],
    pending: list[Any],
    *,
    attempts: int = retry.DEFAULT_ATTEMPTS,
    rand: Callable[[], float] = random.random,
) -> list[Any]:
    """Call `send(pending)` (which returns what is still pending) until nothing is left, or
    until `attempts` calls in a row made no progress; returns what is left (empty: all done)."""
    stalled = 0
    calls = 0
    while pending:
        if calls:
            retry.sleep(retry.delay(calls - 1, rand=rand))
        before = len(pending)
        try:
            pending = send(pending)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in THROTTLE_CODES:
                raise
            break  # still throttled after botocore's own retries: what is pending stays so
        calls += 1
        stalled = stalled + 1 if len(pending) >= before else 0
        if stalled >= attempts:
            break
    return pending


def batch_get(
    client: Any,
    table: str,
    keys: Sequence[Mapping[str, Any]],
    *,
    projection: str | None = None,
    consistent: bool = False,
) -> list[dict[str, Any]]:
    """Every item of `keys` that exists (absent ones are simply not returned): one BatchGetItem
    per 100 keys, following `UnprocessedKeys`. Raises `StoreIncomplete` (with the items read so
    far in `partial`, by "PK|SK") when some keys stay unprocessed."""
    unique = list({key_name(k): k for k in keys}.values())
    found: list[dict[str, Any]] = []
    left: list[Mapping[str, Any]] = []
    extra: dict[str, Any] = {}
    if projection:
        # The keys are always projected too: `partial` and the callers name items by them.
        extra["ProjectionExpression"] = f"PK, SK, {projection}"
    if consistent:
        extra["ConsistentRead"] = True

    def send(pending: list[Any]) -> list[Any]:
        resp = client.batch_get_item(RequestItems={table: {"Keys": pending, **extra}})
        found.extend(resp.get("Responses", {}).get(table, []))
        return list((resp.get("UnprocessedKeys") or {}).get(table, {}).get("Keys", []))

    for start in range(0, len(unique), MAX_GET_KEYS):
        left.extend(follow_unprocessed(send, list(unique[start : start + MAX_GET_KEYS])))
    if left:
        raise StoreIncomplete("BatchGetItem", [key_name(k) for k in left], {key_name(i): i for i in found})
    return found


def batch_write(client: Any, table: str, requests: Sequence[Mapping[str, Any]]) -> None:
    """Write every request (PutRequest/DeleteRequest): one BatchWriteItem per 25, following
    `UnprocessedItems`; raises `StoreIncomplete` when some stay unprocessed."""

    def send(pending: list[Any]) -> list[Any]:
        resp = client.batch_write_item(RequestItems={table: pending})
        return list((resp.get("UnprocessedItems") or {}).get(table, []))

    left: list[Any] = []
    for start in range(0, len(requests), MAX_WRITE_REQUESTS):
        left.extend(follow_unprocessed(send, list(requests[start : start + MAX_WRITE_REQUESTS])))
    if left:
        names = [key_name(next(iter(r.values())).get("Item") or next(iter(r.values()))["Key"]) for r in left]
        raise StoreIncomplete("BatchWriteItem", names)

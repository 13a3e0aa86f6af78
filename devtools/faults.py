"""Fault injection for the reliability tests and `make soak`: AWS faults through botocore's event hooks.

`AwsFaults.attach(client)` makes a real boto3 client (against moto, in-process or server mode)
misbehave the way DynamoDB does under load, without touching the code under test:

- throttling: a call is answered, before it is sent, with the 400 DynamoDB returns
  (`ProvisionedThroughputExceededException` or `ThrottlingException`); botocore's retry handler
  sees exactly what it would see from AWS;
- a `TransactWriteItems` cancelled because one of its items was throttled
  (`TransactionCanceledException` with a `ThrottlingError` reason), which botocore does not retry;
- `BatchWriteItem` / `BatchGetItem` that leave part of the request in `UnprocessedItems` /
  `UnprocessedKeys` (the held-back part is never sent, so it must be sent again to exist);
  at random, or for good (`hold_keys`: the items it names are never processed, however often
  they are sent, as a partition past its limits or an internal failure leaves them). A request of
  nothing but such items comes back with all of them unprocessed, or, with `refuse_all_held`,
  is refused with `ProvisionedThroughputExceededException`, as AWS refuses a batch it could
  process none of for lack of throughput:
  https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html);
- a crash: `SimulatedCrash` (a `BaseException`, so no `except Exception` swallows it, as a
  killed or timed-out Lambda is not caught either) before or after the N-th write call.

Every fault is drawn from a seeded `random.Random`, so a failing run can be repeated exactly.
"""

from __future__ import annotations

import io
import json
import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSResponse

WRITE_OPERATIONS = frozenset({"PutItem", "DeleteItem", "UpdateItem", "TransactWriteItems", "BatchWriteItem"})
_THROTTLE_CODES = (
    ("ProvisionedThroughputExceededException", "com.amazonaws.dynamodb.v20120810"),
    ("ThrottlingException", "com.amazon.coral.availability"),
)


class SimulatedCrash(BaseException):
    """The process dies here (timeout, out of memory, host lost): nothing after it runs."""


class _Raw(io.BytesIO):
    """The raw-stream shape botocore reads an HTTP body from."""

    def stream(self, **_kwargs: Any) -> Any:
        contents = self.read()
        while contents:
            yield contents
            contents = self.read()


def _error_response(url: str, code: str, namespace: str, message: str, **extra: Any) -> AWSResponse:
    body = json.dumps({"__type": f"{namespace}#{code}", "message": message, **extra}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code}
    return AWSResponse(url, 400, headers, _Raw(body))


def _operation(event_name: str) -> str:
    return event_name.rsplit(".", 1)[-1]


class AwsFaults:
    """Random DynamoDB faults for one or more clients; `counts` says what was injected."""

    def __init__(
        self,
        seed: int,
        *,
        throttle_rate: float = 0.0,
        cancel_rate: float = 0.0,
        unprocessed_rate: float = 0.0,
        hold_keys: Callable[[str], bool] | None = None,
        refuse_all_held: bool = False,
        throttled_operations: frozenset[str] | None = None,
    ) -> None:
        self._random = random.Random(seed)  # noqa: S311 - seeded, reproducible faults, not security
        self._lock = threading.Lock()
        self.throttle_rate = throttle_rate
        self.cancel_rate = cancel_rate
        self.unprocessed_rate = unprocessed_rate
        self.hold_keys = hold_keys  # "PK|SK" -> whether that item stays unprocessed for good
        self.refuse_all_held = refuse_all_held
        self.throttled_operations = throttled_operations  # None: every operation may be throttled
        self.counts: Counter[str] = Counter()
        self.enabled = True

    def _draw(self, rate: float) -> bool:
        if not self.enabled or rate <= 0:
            return False
        with self._lock:
            return self._random.random() < rate

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.counts[key] += n

    def attach(self, client: Any) -> AwsFaults:
        if not hasattr(client, "_endpoint"):
            raise TypeError("AwsFaults works under botocore's HTTP layer: a boto3 client (on moto), not the memory one")
        events = client.meta.events
        events.register_first("before-send.dynamodb", self._before_send)
        for operation in ("BatchWriteItem", "BatchGetItem"):
            events.register(f"provide-client-params.dynamodb.{operation}", self._hold_back)
            events.register(f"after-call.dynamodb.{operation}", self._report_held_back)
        return self

    # -- throttling and throttled transactions ------------------------------------------------

    def _before_send(self, request: Any, event_name: str, **_kwargs: Any) -> AWSResponse | None:
        operation = _operation(event_name)
        if operation in ("BatchGetItem", "BatchWriteItem") and self._all_held(request):
            self._count("ProvisionedThroughputExceededException(all held)")
            return _error_response(
                request.url,
                "ProvisionedThroughputExceededException",
                "com.amazonaws.dynamodb.v20120810",
                "The level of configured provisioned throughput for the table was exceeded.",
            )
        if operation == "TransactWriteItems" and self._draw(self.cancel_rate):
            items = json.loads(request.body or b"{}").get("TransactItems") or [{}]
            reasons = [{"Code": "None"}] * len(items)
            reasons[self._random.randrange(len(items))] = {
                "Code": "ThrottlingError",
                "Message": "Throughput exceeds the current capacity of your table or index.",
            }
            self._count("TransactionCanceledException(ThrottlingError)")
            codes = ", ".join(r["Code"] for r in reasons)
            return _error_response(
                request.url,
                "TransactionCanceledException",
                "com.amazonaws.dynamodb.v20120810",
                f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
                CancellationReasons=reasons,
            )
        if (self.throttled_operations is None or operation in self.throttled_operations) and self._draw(
            self.throttle_rate
        ):
            with self._lock:
                code, namespace = self._random.choice(_THROTTLE_CODES)
            self._count(code)
            return _error_response(request.url, code, namespace, "Rate of requests exceeds the allowed throughput.")
        return None

    # -- UnprocessedItems / UnprocessedKeys -----------------------------------------------------

    def _held(self, entry: dict[str, Any]) -> bool:
        return self.enabled and self.hold_keys is not None and self.hold_keys(_entry_name(entry))

    def _all_held(self, request: Any) -> bool:
        if not self.enabled or self.hold_keys is None or not self.refuse_all_held:
            return False
        items = json.loads(request.body or b"{}").get("RequestItems") or {}
        entries = [e for r in items.values() for e in (r if isinstance(r, list) else r["Keys"])]
        return bool(entries) and all(self._held(e) for e in entries)

    def _hold_back(self, params: dict[str, Any], context: dict[str, Any], **_kwargs: Any) -> None:
        randomly = self._draw(self.unprocessed_rate)
        if not randomly and self.hold_keys is None:
            return
        kept: dict[str, Any] = {}
        held: dict[str, Any] = {}
        for table, request in params["RequestItems"].items():
            # BatchWriteItem: a list of requests; BatchGetItem: {"Keys": [...], projection...}
            entries = request if isinstance(request, list) else request["Keys"]
            with self._lock:
                back = [e for e in entries if self._held(e) or (randomly and self._random.random() < 0.5)]
            front = [e for e in entries if not any(e is b for b in back)]
            if not front and all(self._held(e) for e in entries):
                if self.refuse_all_held:
                    front, back = entries, []  # sent whole: `_before_send` refuses it
                else:  # a call must ask for something: an absent item, whose read or delete is a no-op
                    front = [_NOTHING_GET if isinstance(request, dict) else _NOTHING_DELETE]
            if not front:  # DynamoDB never leaves a whole request unprocessed without an error
                first = next(e for e in back if not self._held(e))
                front, back = [first], [e for e in back if e is not first]
            if isinstance(request, list):
                kept[table], held[table] = front, back
            else:
                kept[table] = {**request, "Keys": front}
                held[table] = {**request, "Keys": back}
            self._count("Unprocessed", len(back))
        # A new top-level dict: the caller's own request structures are never modified.
        params["RequestItems"] = kept
        context["newsroom_held_back"] = {t: v for t, v in held.items() if (v if isinstance(v, list) else v["Keys"])}

    def _report_held_back(self, parsed: dict[str, Any], context: dict[str, Any], event_name: str, **_: Any) -> None:
        held = context.pop("newsroom_held_back", None)
        if not held:
            return
        key = "UnprocessedItems" if _operation(event_name) == "BatchWriteItem" else "UnprocessedKeys"
        target = parsed.setdefault(key, {})
        for table, request in held.items():
            if isinstance(request, list):
                target.setdefault(table, []).extend(request)
            elif table in target:
                target[table]["Keys"].extend(request["Keys"])
            else:
                target[table] = request


class CrashAt:
    """Raise `SimulatedCrash` at the `at`-th write call (1-based): before it is sent, or after it landed.

    `error` makes it raise something else instead, e.g. an ordinary exception that fails only
    the record being processed.
    """

    def __init__(self, at: int, *, after: bool, error: Callable[[str], BaseException] = SimulatedCrash) -> None:
        self.at = at
        self.after = after
        self.error = error
        self.writes = 0
        self.crashed = False
        self._lock = threading.Lock()

    def attach(self, client: Any) -> CrashAt:
        stage = "after-call" if self.after else "before-call"
        client.meta.events.register(f"{stage}.dynamodb", self._on_call)
        return self

    def _on_call(self, event_name: str, **_kwargs: Any) -> None:
        if _operation(event_name) not in WRITE_OPERATIONS or self.crashed:
            return
        with self._lock:
            self.writes += 1
            hit = self.writes == self.at
            if hit:
                self.crashed = True
        if hit:
            raise self.error(f"injected {'after' if self.after else 'before'} write #{self.at} ({event_name})")


class WriteCounter:
    """Counts write calls (to choose crash points across a whole run)."""

    def __init__(self) -> None:
        self.writes = 0

    def attach(self, client: Any) -> WriteCounter:
        client.meta.events.register("after-call.dynamodb", self._on_call)
        return self

    def _on_call(self, event_name: str, **_kwargs: Any) -> None:
        if _operation(event_name) in WRITE_OPERATIONS:
            self.writes += 1


def detach_all(client: Any, *handlers: Any) -> None:
    """Remove the handlers these helpers registered (by their bound methods)."""
    events = client.meta.events
    for handler in handlers:
        for name, method in (
            ("before-send.dynamodb", getattr(handler, "_before_send", None)),
            ("before-call.dynamodb", getattr(handler, "_on_call", None)),
            ("after-call.dynamodb", getattr(handler, "_on_call", None)),
        ):
            if method is not None:
                events.unregister(name, method)
        for operation in ("BatchWriteItem", "BatchGetItem"):
            if hasattr(handler, "_hold_back"):
                events.unregister(f"provide-client-params.dynamodb.{operation}", handler._hold_back)
                events.unregister(f"after-call.dynamodb.{operation}", handler._report_held_back)


_NOTHING_GET: dict[str, Any] = {"PK": {"S": "FAULTS#nothing"}, "SK": {"S": "nothing"}}
_NOTHING_DELETE: dict[str, Any] = {"DeleteRequest": {"Key": _NOTHING_GET}}


def _entry_name(entry: dict[str, Any]) -> str:
    """ "PK|SK" of a BatchGetItem key or a BatchWriteItem put/delete request."""
    key = entry
    if "PutRequest" in entry:
        key = entry["PutRequest"]["Item"]
    elif "DeleteRequest" in entry:
        key = entry["DeleteRequest"]["Key"]
    return f"{key['PK']['S']}|{key['SK']['S']}"


# -- table dumps ------------------------------------------------------------------------------


def story_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The story items among a table's items (a story's partition also holds its event item)."""
    return [i for i in items if i["PK"]["S"].startswith("ART#") and i["SK"]["S"] == "ART"]


def dump_table(dynamodb: Any, table: str, *, keys_only: bool = False) -> list[dict[str, Any]]:
    """Every item of the table (or only its key), sorted by key, exactly as stored (a test and
    soak tool: it Scans)."""
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    if keys_only:
        kwargs["ProjectionExpression"] = "PK, SK"
    while True:
        resp = dynamodb.scan(**kwargs)
        items.extend(resp.get("Items", []))
        if not resp.get("LastEvaluatedKey"):
            break
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    return sorted(items, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))


def clear_table(dynamodb: Any, table: str) -> None:
    """Delete every item (so one test can compare several runs on the template's own table)."""
    items = dump_table(dynamodb, table, keys_only=True)
    for start in range(0, len(items), 25):
        requests = [{"DeleteRequest": {"Key": {"PK": i["PK"], "SK": i["SK"]}}} for i in items[start : start + 25]]
        pending: dict[str, Any] = {table: requests}
        while pending:
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def diff_dumps(before: list[dict[str, Any]], after: list[dict[str, Any]], limit: int = 5) -> str:
    """A short readable difference between two dumps ("" when identical)."""
    left = {(i["PK"]["S"], i["SK"]["S"]): i for i in before}
    right = {(i["PK"]["S"], i["SK"]["S"]): i for i in after}
    lines: list[str] = []
    for key in sorted(left.keys() - right.keys())[:limit]:
        lines.append(f"missing {key}")
    for key in sorted(right.keys() - left.keys())[:limit]:
        lines.append(f"extra   {key}")
    changed = [k for k in sorted(left.keys() & right.keys()) if left[k] != right[k]]
    for key in changed[:limit]:
        fields = sorted(f for f in left[key].keys() | right[key].keys() if left[key].get(f) != right[key].get(f))
        lines.append(f"changed {key}: {fields}")
    return "\n".join(lines)

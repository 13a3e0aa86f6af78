"""Injectable DynamoDB faults for the in-memory client, and for a real boto3 client in the
contract tests, so one fault plan means the same on both backends.

`Faults.call(operation, params, send)` runs one call with the plan applied:

- throttling (`throttle`): chosen operations fail, for the next `times` calls or for a `share`
  of them drawn from a seeded `random.Random`, with the error the caller sees once botocore's own
  retries are spent (`ProvisionedThroughputExceededException`, or the code given). A throttled
  `TransactWriteItems` is cancelled instead, with a `ThrottlingError` reason on its first action
  and `None` on the others, as DynamoDB reports an item throttled inside a transaction
  (TransactWriteItems, "Cancellation reason codes":
  https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html);
- partial batches (`leave_unprocessed`): the named items ("PK|SK") are never sent and come back
  in `UnprocessedKeys` / `UnprocessedItems`, for the next `times` calls that name them or for
  good. A batch all of whose items are held back is refused with
  `ProvisionedThroughputExceededException`, as DynamoDB refuses a batch it could process none of
  ("If none of the items can be processed due to insufficient provisioned throughput on all of
  the tables in the request, then BatchGetItem returns a ProvisionedThroughputExceededException":
  https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html, and the
  same for BatchWriteItem:
  https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html).

`FaultyClient` applies a plan to any client (a boto3 client on moto): the faults happen before
the request is sent, so botocore's retries are not involved. `devtools.faults.AwsFaults` is the
other layer: random faults injected under botocore, which its retry handler sees.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.errorfactory import ClientExceptionsFactory
from botocore.exceptions import ClientError

from newsroom.store.batches import key_name

THROTTLED = "ProvisionedThroughputExceededException"
THROTTLED_MESSAGE = "The level of configured provisioned throughput for the table was exceeded."
OPERATIONS = {
    "get_item": "GetItem",
    "put_item": "PutItem",
    "update_item": "UpdateItem",
    "delete_item": "DeleteItem",
    "query": "Query",
    "scan": "Scan",
    "batch_get_item": "BatchGetItem",
    "batch_write_item": "BatchWriteItem",
    "transact_write_items": "TransactWriteItems",
}
Send = Callable[[dict[str, Any]], dict[str, Any]]
_service_lock = threading.Lock()
_service: dict[str, Any] = {}


def service_model() -> Any:
    """botocore's model of the DynamoDB API (loaded once: its exceptions and parameter names)."""
    with _service_lock:
        if "model" not in _service:
            import botocore.session

            model = botocore.session.get_session().get_service_model("dynamodb")
            _service["model"] = model
            _service["exceptions"] = ClientExceptionsFactory().create_client_exceptions(model)
        return _service["model"]


def client_exceptions() -> Any:
    """The `client.exceptions` of a boto3 DynamoDB client: botocore's own classes, so code that
    catches `client.exceptions.ConditionalCheckFailedException` works unchanged."""
    service_model()
    return _service["exceptions"]


def client_error(code: str, message: str, operation: str, *, exceptions: Any = None, **extra: Any) -> ClientError:
    """The error a boto3 client raises for a DynamoDB error response of `code` (a class of
    `exceptions`, a client's own: each botocore session makes its own classes)."""
    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": 400},
        "message": message,
        **extra,
    }
    error_class: type[ClientError] = (exceptions or client_exceptions()).from_code(code)
    return error_class(response, operation)


def cancelled(reasons: list[dict[str, str]], *, exceptions: Any = None) -> ClientError:
    codes = ", ".join(reason["Code"] for reason in reasons)
    return client_error(
        "TransactionCanceledException",
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
        "TransactWriteItems",
        exceptions=exceptions,
        CancellationReasons=reasons,
    )


def _entry_key(entry: dict[str, Any]) -> dict[str, Any]:
    if "PutRequest" in entry:
        item: dict[str, Any] = entry["PutRequest"]["Item"]
        return item
    if "DeleteRequest" in entry:
        key: dict[str, Any] = entry["DeleteRequest"]["Key"]
        return key
    return entry


@dataclass
class _Throttle:
    operations: frozenset[str]
    remaining: int | None
    share: float
    code: str | None


class Faults:
    """A plan of injected faults; `counts` says what was injected."""

    def __init__(self, seed: int = 0) -> None:
        self._random = random.Random(seed)  # noqa: S311 - seeded, reproducible faults, not security
        self._lock = threading.Lock()
        self._throttles: list[_Throttle] = []
        self._held: dict[str, int | None] = {}  # "PK|SK" -> calls left to hold it back (None: for good)
        self.injected: list[str] = []

    def throttle(self, *operations: str, times: int | None = None, share: float = 1.0, code: str | None = None) -> None:
        """Throttle the named operations ("GetItem", ...; none named: every operation)."""
        unknown = set(operations) - set(OPERATIONS.values())
        if unknown:
            raise ValueError(f"unknown operations: {sorted(unknown)}")
        with self._lock:
            self._throttles.append(_Throttle(frozenset(operations), times, share, code))

    def leave_unprocessed(self, *names: str, times: int | None = None) -> None:
        """Hold back these items ("PK|SK") in BatchGetItem and BatchWriteItem calls."""
        with self._lock:
            self._held.update(dict.fromkeys(names, times))

    def clear(self) -> None:
        with self._lock:
            self._throttles.clear()
            self._held.clear()

    def call(self, operation: str, params: dict[str, Any], send: Send, exceptions: Any = None) -> dict[str, Any]:
        """`send(params)` with the plan applied; errors are classes of `exceptions` (the
        calling client's `exceptions`; by default the memory client's)."""
        self._maybe_throttle(operation, params, exceptions)
        if operation in ("BatchGetItem", "BatchWriteItem") and self._held:
            return self._partial(operation, params, send, exceptions)
        return send(params)

    def _maybe_throttle(self, operation: str, params: dict[str, Any], exceptions: Any) -> None:
        with self._lock:
            hit = None
            for rule in self._throttles:
                if rule.operations and operation not in rule.operations:
                    continue
                if rule.remaining == 0 or self._random.random() >= rule.share:
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                hit = rule
                break
            if hit is None:
                return
            self.injected.append(f"throttle {operation}")
        if operation == "TransactWriteItems" and hit.code is None:
            reasons = [{"Code": "None"} for _ in params.get("TransactItems", [])] or [{"Code": "None"}]
            reasons[0] = {
                "Code": "ThrottlingError",
                "Message": "Throughput exceeds the current capacity of your table.",
            }
            raise cancelled(reasons, exceptions=exceptions)
        raise client_error(hit.code or THROTTLED, THROTTLED_MESSAGE, operation, exceptions=exceptions)

    def _take_held(self, entry: dict[str, Any]) -> bool:
        name = key_name(_entry_key(entry))
        if name not in self._held:
            return False
        left = self._held[name]
        if left is not None:
            if left <= 1:
                del self._held[name]
            else:
                self._held[name] = left - 1
        return True

    def _partial(self, operation: str, params: dict[str, Any], send: Send, exceptions: Any) -> dict[str, Any]:
        sent: dict[str, Any] = {}
        held: dict[str, Any] = {}
        with self._lock:
            for table, request in params.get("RequestItems", {}).items():
                entries = request if isinstance(request, list) else request.get("Keys", [])
                back = [entry for entry in entries if self._take_held(entry)]
                front = [entry for entry in entries if not any(entry is b for b in back)]
                self.injected.extend(f"unprocessed {key_name(_entry_key(e))}" for e in back)
                if isinstance(request, list):
                    sent[table], held[table] = front, back
                else:
                    sent[table], held[table] = {**request, "Keys": front}, {**request, "Keys": back}
        if not any(held[t] if isinstance(held[t], list) else held[t]["Keys"] for t in held):
            return send(params)
        sent = {t: r for t, r in sent.items() if (r if isinstance(r, list) else r["Keys"])}
        if not sent:
            raise client_error(THROTTLED, THROTTLED_MESSAGE, operation, exceptions=exceptions)
        response = send({**params, "RequestItems": sent})
        field = "UnprocessedItems" if operation == "BatchWriteItem" else "UnprocessedKeys"
        unprocessed = response.setdefault(field, {})
        for table, request in held.items():
            if isinstance(request, list):
                if request:
                    unprocessed.setdefault(table, []).extend(request)
            elif request["Keys"]:
                unprocessed.setdefault(table, {**request, "Keys": []})["Keys"].extend(request["Keys"])
        return response


class FaultyClient:
    """A client (a boto3 DynamoDB client on moto) with a fault plan applied to its data calls."""

    def __init__(self, client: Any, faults: Faults) -> None:
        self._client = client
        self.faults = faults
        self.exceptions = client.exceptions

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._client, name)
        operation = OPERATIONS.get(name)
        if operation is None:
            return target

        def call(**params: Any) -> dict[str, Any]:
            return self.faults.call(operation, params, lambda sent: dict(target(**sent)), self.exceptions)

        return call

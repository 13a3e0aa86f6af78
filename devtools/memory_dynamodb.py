"""An in-memory DynamoDB, as strict as DynamoDB, for tests and local runs.

Faked at the lowest stable interface: `MemoryDynamoDB` stands in for the boto3 *low-level*
DynamoDB client (`boto3.client("dynamodb")`), not for the store. `memory_store()` returns the one
store implementation, `newsroom.store.dynamo.DynamoStore`, over this client: no store logic is
written twice, a test on the memory backend runs the code production runs, and the strictness
lives here, in the fake table. `tests/store/test_contract.py` runs one suite against both this
and DynamoStore on moto.

It implements exactly the operations the store and its tools call (GetItem, PutItem,
UpdateItem, DeleteItem, Query, Scan, BatchGetItem, BatchWriteItem, TransactWriteItems; and
CreateTable, UpdateTimeToLive, DescribeTable, DeleteTable to build the table from
template.yaml) with the expression subset of `devtools.memory_expressions`. A parameter the API
does not have raises botocore's `ParamValidationError`, as boto3 does; one it has but this fake
does not implement, and any expression outside the subset, raises a ValidationException, so new
code fails loudly here instead of being forgiven. Errors are botocore `ClientError`s with
DynamoDB's codes and shapes (`client.exceptions` holds botocore's own classes).

DynamoDB's rules it enforces, each cited where it is checked: item size (400 KB, by AWS's sizing
rules), key sizes and types, BatchGetItem (100 keys, 16 MB returned, the rest in
`UnprocessedKeys`, no duplicate keys, answers in no particular order), BatchWriteItem (25
requests, 16 MB, no duplicates), TransactWriteItems (100 actions, 4 MB, one action per item,
all-or-nothing with `CancellationReasons`), Query and Scan pages (1 MB, `Limit`, a
`LastEvaluatedKey` whenever a page stops early, even at the very end), expression names and
values defined and used, reserved words. TTL deletes nothing by itself: DynamoDB deletes expired
items lazily, typically within a few days, and until then every read returns them;
`sweep_expired(now)` is that deletion, when a test wants it. Faults (throttling, unprocessed
keys) are injected through `client.faults` (`devtools.memory_faults`).

Fast on purpose: plain dicts, no botocore serialisation. One lock makes each call atomic, as
DynamoDB applies each request atomically, so threads may share a client.
"""

from __future__ import annotations

import bisect
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, ParamValidationError

from devtools.counting import item_size
from devtools.memory_expressions import (
    ExpressionError,
    Expressions,
    Item,
    Value,
    canonical_number,
    parse_condition,
    parse_key_condition,
    parse_projection,
    parse_update,
)
from devtools.memory_faults import OPERATIONS, Faults, cancelled, client_error, client_exceptions, service_model
from devtools.template import TEMPLATE, create_table
from newsroom.store.dynamo import DEFAULT_RETENTION, DynamoStore

KB = 1024
MB = 1024 * KB
# "The maximum item size in DynamoDB is 400 KB, which includes both attribute name binary length
# (UTF-8 length) and attribute value lengths" ("Quotas in Amazon DynamoDB", Items:
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html), sized by
# "DynamoDB item sizes and formats":
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
MAX_ITEM_BYTES = 400 * KB
# Partition keys 1 to 2,048 bytes, sort keys 1 to 1,024 bytes (ServiceQuotas.html, as above).
MAX_PARTITION_KEY_BYTES = 2048
MAX_SORT_KEY_BYTES = 1024
# Query and Scan read at most 1 MB per call, then stop with a LastEvaluatedKey
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Pagination.html).
MAX_PAGE_BYTES = 1 * MB
# BatchGetItem: at most 100 keys, at most 16 MB returned, the rest in UnprocessedKeys
# (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html).
MAX_BATCH_GET_KEYS = 100
MAX_BATCH_GET_BYTES = 16 * MB
# BatchWriteItem: at most 25 requests and 16 MB per call
# (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html).
MAX_BATCH_WRITE_REQUESTS = 25
MAX_BATCH_WRITE_BYTES = 16 * MB
# TransactWriteItems: at most 100 actions, "no two actions can target the same item", and "the
# aggregate size of the items in the transaction cannot exceed 4 MB"
# (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html).
MAX_TRANSACT_ACTIONS = 100
MAX_TRANSACT_BYTES = 4 * MB

_TYPES = frozenset({"S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M"})
_NAMES = "ExpressionAttributeNames"
_VALUES = "ExpressionAttributeValues"
# What this fake implements of each operation's parameters; the API's others raise.
_SUPPORTED: dict[str, frozenset[str]] = {
    "GetItem": frozenset({"TableName", "Key", "ConsistentRead", "ProjectionExpression", _NAMES}),
    "PutItem": frozenset({"TableName", "Item", "ConditionExpression", _NAMES, _VALUES}),
    "UpdateItem": frozenset({"TableName", "Key", "UpdateExpression", "ConditionExpression", _NAMES, _VALUES}),
    "DeleteItem": frozenset({"TableName", "Key", "ConditionExpression", _NAMES, _VALUES}),
    "Query": frozenset(
        {"TableName", "KeyConditionExpression", "FilterExpression", "ProjectionExpression", _NAMES, _VALUES}
        | {"ExclusiveStartKey", "Limit", "ScanIndexForward", "Select", "ConsistentRead"}
    ),
    "Scan": frozenset({"TableName", "ConsistentRead", "ExclusiveStartKey", "Limit"}),
    "BatchGetItem": frozenset({"RequestItems"}),
    "BatchWriteItem": frozenset({"RequestItems"}),
    "TransactWriteItems": frozenset({"TransactItems"}),
    "CreateTable": frozenset({"TableName", "AttributeDefinitions", "KeySchema", "BillingMode"}),
    "DeleteTable": frozenset({"TableName"}),
    "DescribeTable": frozenset({"TableName"}),
    "UpdateTimeToLive": frozenset({"TableName", "TimeToLiveSpecification"}),
}
_BATCH_GET_TABLE = frozenset({"Keys", "ProjectionExpression", _NAMES, "ConsistentRead"})
_ACTIONS = {
    "Put": frozenset({"TableName", "Item", "ConditionExpression", _NAMES, _VALUES}),
    "Update": frozenset({"TableName", "Key", "UpdateExpression", "ConditionExpression", _NAMES, _VALUES}),
    "Delete": frozenset({"TableName", "Key", "ConditionExpression", _NAMES, _VALUES}),
    "ConditionCheck": frozenset({"TableName", "Key", "ConditionExpression", _NAMES, _VALUES}),
}


class _Invalid(Exception):
    """A ValidationException (or another error code) to raise for the current operation."""

    def __init__(self, message: str, code: str = "ValidationException") -> None:
        super().__init__(message)
        self.code = code


def _outside(what: str) -> _Invalid:
    return _Invalid(f"{what} is outside the memory fake's subset (extend devtools/memory_dynamodb.py)")


def _scalar(value: Value) -> Any:
    ((kind, inner),) = value.items()
    return Decimal(inner) if kind == "N" else inner


def _copy(value: Value) -> Value:
    ((kind, inner),) = value.items()
    if kind == "M":
        return {"M": {name: _copy(v) for name, v in inner.items()}}
    if kind == "L":
        return {"L": [_copy(v) for v in inner]}
    if kind in ("SS", "NS", "BS"):
        return {kind: list(inner)}
    return {kind: inner}


def copy_item(item: Item) -> Item:
    return {name: _copy(value) for name, value in item.items()}


def _normal(value: Any, where: str) -> Value:
    """A typed value as DynamoDB would store it, or _Invalid for what it refuses
    ("Supported data types and naming rules in Amazon DynamoDB":
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html)."""
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in _TYPES:
        raise _Invalid(
            f"Supplied AttributeValue is empty, must contain exactly one of the supported datatypes ({where})"
        )
    ((kind, inner),) = value.items()
    if kind == "S" and isinstance(inner, str):
        return {"S": inner}
    if kind == "N":
        return {"N": canonical_number(inner)}
    if kind == "B" and isinstance(inner, bytes | bytearray | str):
        return {"B": inner.encode() if isinstance(inner, str) else bytes(inner)}
    if kind == "BOOL" and isinstance(inner, bool):
        return {"BOOL": inner}
    if kind == "NULL":
        if inner is not True:
            raise _Invalid(
                "One or more parameter values were invalid: Null attribute value types must have the value of true"
            )
        return {"NULL": True}
    if kind in ("SS", "NS", "BS") and isinstance(inner, list | tuple | set):
        members = [_normal({kind[0]: member}, where)[kind[0]] for member in inner]
        if not members:
            raise _Invalid(f"One or more parameter values were invalid: An {kind} set may not be empty ({where})")
        if len({repr(m) for m in members}) < len(members):
            raise _Invalid(f"One or more parameter values were invalid: Input collection {kind} contains duplicates")
        return {kind: members}
    if kind == "L" and isinstance(inner, list | tuple):
        return {"L": [_normal(v, where) for v in inner]}
    if kind == "M" and isinstance(inner, dict):
        return {"M": {str(name): _normal(v, where) for name, v in inner.items()}}
    raise _Invalid(f"One or more parameter values were invalid: {kind} of {type(inner).__name__} ({where})")


@dataclass
class _Table:
    name: str
    hash_key: str
    range_key: str | None
    key_types: dict[str, str]
    ttl_attribute: str | None = None
    # partition key -> sort key -> item, and each partition's sort keys in order
    items: dict[Any, dict[Any, Item]] = field(default_factory=dict)
    order: dict[Any, list[Any]] = field(default_factory=dict)

    @property
    def key_names(self) -> frozenset[str]:
        return frozenset(n for n in (self.hash_key, self.range_key) if n)

    def key_of(self, key: Item) -> tuple[Any, Any]:
        return _scalar(key[self.hash_key]), _scalar(key[self.range_key]) if self.range_key else None

    def get(self, where: tuple[Any, Any]) -> Item | None:
        return self.items.get(where[0], {}).get(where[1])

    def put(self, where: tuple[Any, Any], item: Item) -> None:
        partition = self.items.setdefault(where[0], {})
        if where[1] not in partition:
            bisect.insort(self.order.setdefault(where[0], []), where[1])
        partition[where[1]] = item

    def delete(self, where: tuple[Any, Any]) -> None:
        partition = self.items.get(where[0], {})
        if partition.pop(where[1], None) is not None:
            order = self.order[where[0]]
            del order[bisect.bisect_left(order, where[1])]
            if not partition:
                del self.items[where[0]], self.order[where[0]]

    def key_item(self, item: Item) -> Item:
        return {name: item[name] for name in (self.hash_key, self.range_key) if name}


class MemoryDynamoDB:
    """The boto3 low-level DynamoDB client's interface, on dicts. `faults` injects failures."""

    def __init__(self, *, seed: int = 0) -> None:
        self._tables: dict[str, _Table] = {}
        self._lock = threading.RLock()
        self._random = random.Random(seed)  # noqa: S311 - response order, reproducible, not security
        self.faults = Faults(seed)
        self.exceptions = client_exceptions()

    def _call(
        self, operation: str, params: dict[str, Any], run: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any]:
        def send(sent: dict[str, Any]) -> dict[str, Any]:
            _check_parameters(operation, sent)
            with self._lock:
                try:
                    response = run(sent)
                except ExpressionError as exc:
                    raise client_error("ValidationException", str(exc), operation) from None
                except _Invalid as exc:
                    raise client_error(exc.code, str(exc), operation) from None
            response["ResponseMetadata"] = {"HTTPStatusCode": 200}
            return response

        if operation in OPERATIONS.values():
            return self.faults.call(operation, params, send)
        return send(params)

    # -- the client's operations ---------------------------------------------------------------

    def get_item(self, **params: Any) -> dict[str, Any]:
        return self._call("GetItem", params, self._get_item)

    def put_item(self, **params: Any) -> dict[str, Any]:
        return self._call("PutItem", params, self._put_item)

    def update_item(self, **params: Any) -> dict[str, Any]:
        return self._call("UpdateItem", params, self._update_item)

    def delete_item(self, **params: Any) -> dict[str, Any]:
        return self._call("DeleteItem", params, self._delete_item)

    def query(self, **params: Any) -> dict[str, Any]:
        return self._call("Query", params, self._query)

    def scan(self, **params: Any) -> dict[str, Any]:
        return self._call("Scan", params, self._scan)

    def batch_get_item(self, **params: Any) -> dict[str, Any]:
        return self._call("BatchGetItem", params, self._batch_get_item)

    def batch_write_item(self, **params: Any) -> dict[str, Any]:
        return self._call("BatchWriteItem", params, self._batch_write_item)

    def transact_write_items(self, **params: Any) -> dict[str, Any]:
        return self._call("TransactWriteItems", params, self._transact_write_items)

    def create_table(self, **params: Any) -> dict[str, Any]:
        return self._call("CreateTable", params, self._create_table)

    def delete_table(self, **params: Any) -> dict[str, Any]:
        return self._call("DeleteTable", params, self._delete_table)

    def describe_table(self, **params: Any) -> dict[str, Any]:
        return self._call("DescribeTable", params, lambda p: {"Table": self._describe(self._table(p["TableName"]))})

    def update_time_to_live(self, **params: Any) -> dict[str, Any]:
        return self._call("UpdateTimeToLive", params, self._update_time_to_live)

    def get_waiter(self, name: str) -> _Waiter:
        if name not in ("table_exists", "table_not_exists"):
            raise _outside(f"waiter {name!r}")
        return _Waiter(self, name == "table_exists")

    def has_table(self, name: str) -> bool:
        with self._lock:
            return name in self._tables

    # -- items and keys --------------------------------------------------------------------------

    def _table(self, name: str) -> _Table:
        table = self._tables.get(name)
        if table is None:
            raise _Invalid(f"Requested resource not found: Table: {name} not found", "ResourceNotFoundException")
        return table

    @staticmethod
    def _key_values(table: _Table, item: Item) -> None:
        for name in sorted(table.key_names):
            if name not in item:
                raise _Invalid(f"One or more parameter values were invalid: Missing the key {name} in the item")
            ((kind, inner),) = item[name].items()
            if kind != table.key_types[name]:
                raise _Invalid(
                    f"One or more parameter values were invalid: Type mismatch for key {name} "
                    f"expected: {table.key_types[name]} actual: {kind}"
                )
            size = len(inner.encode()) if kind == "S" else len(inner) if kind == "B" else len(str(inner))
            if size == 0:
                raise _Invalid(
                    "One or more parameter values are not valid. The AttributeValue for a key attribute "
                    f"cannot contain an empty {'string' if kind == 'S' else 'binary'} value. Key: {name}"
                )
            if name == table.hash_key and size > MAX_PARTITION_KEY_BYTES:
                raise _Invalid(
                    "One or more parameter values were invalid: "
                    "Size of hashkey has exceeded the maximum size limit of 2048 bytes"
                )
            if name == table.range_key and size > MAX_SORT_KEY_BYTES:
                raise _Invalid(
                    "One or more parameter values were invalid: "
                    "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
                )

    def _key(self, table: _Table, key: Any) -> Item:
        if not isinstance(key, dict) or set(key) != table.key_names:
            raise _Invalid("The provided key element does not match the schema")
        normal = {name: _normal(value, name) for name, value in key.items()}
        if any(next(iter(normal[n])) != table.key_types[n] for n in normal):
            raise _Invalid("The provided key element does not match the schema")
        self._key_values(table, normal)
        return normal

    def _item(self, table: _Table, item: Any) -> Item:
        if not isinstance(item, dict):
            raise _Invalid("One or more parameter values were invalid: an item must be a map")
        normal = {str(name): _normal(value, str(name)) for name, value in item.items()}
        self._key_values(table, normal)
        _check_size(normal)
        return normal

    @staticmethod
    def _names(params: dict[str, Any]) -> Expressions:
        values = params.get(_VALUES)
        if values is not None:
            values = {name: _normal(value, name) for name, value in values.items()}
        return Expressions(params.get(_NAMES), values)

    @staticmethod
    def _condition(params: dict[str, Any], names: Expressions) -> Callable[[Item], bool] | None:
        text = params.get("ConditionExpression")
        return parse_condition(text, names) if text is not None else None

    @staticmethod
    def _projection(params: dict[str, Any], names: Expressions) -> tuple[str, ...] | None:
        text = params.get("ProjectionExpression")
        return parse_projection(text, names) if text is not None else None

    # -- single items ----------------------------------------------------------------------------

    def _get_item(self, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table(params["TableName"])
        where = table.key_of(self._key(table, params["Key"]))
        names = Expressions(params.get(_NAMES), None)
        projection = self._projection(params, names)
        names.finish()
        item = table.get(where)
        return {"Item": _project(item, projection)} if item is not None else {}

    def _put_item(self, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table(params["TableName"])
        item = self._item(table, params["Item"])
        names = self._names(params)
        condition = self._condition(params, names)
        names.finish()
        where = table.key_of(item)
        _require(condition, table.get(where))
        table.put(where, item)
        return {}

    def _update_item(self, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table(params["TableName"])
        key = self._key(table, params["Key"])
        names = self._names(params)
        update = parse_update(params["UpdateExpression"], names, table.key_names)
        condition = self._condition(params, names)
        names.finish()
        where = table.key_of(key)
        current = table.get(where)
        _require(condition, current)
        updated = update(current or key)
        _check_size(updated, "Item size to update has exceeded the maximum allowed size")
        table.put(where, updated)
        return {}

    def _delete_item(self, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table(params["TableName"])
        where = table.key_of(self._key(table, params["Key"]))
        names = self._names(params)
        condition = self._condition(params, names)
        names.finish()
        _require(condition, table.get(where))
        table.delete(where)
        return {}

    # -- Query and Scan --------------------------------------------------------------------------

    def _query(self, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table(params["TableName"])
        if "KeyConditionExpression" not in params:
            raise _outside("Query without KeyConditionExpression")
        names = self._names(params)
        condition = parse_key_condition(params["KeyConditionExpression"], names, table.hash_key, table.range_key)
        matches = _filter(params, names)
        projection = self._projection(params, names)
        names.finish()
        select = _select(params, projection)
        for name, value in [(table.hash_key, condition.partition)] + [
            (table.range_key or "", v) for v in condition.sort_values
        ]:
            if next(iter(value)) != table.key_types[name]:
                raise _Invalid(
                    "One or more parameter values were invalid: Condition parameter type does not match schema type"
                )
        partition_key = _scalar(condition.partition)
        order = table.order.get(partition_key, [])
        forward = params.get("ScanIndexForward", True)
        start = 0
        if "ExclusiveStartKey" in params:
            start_key = self._key(table, params["ExclusiveStartKey"])
            sort_value = start_key[table.range_key] if table.range_key else None
            if _scalar(start_key[table.hash_key]) != partition_key or (
                condition.sort is not None and sort_value is not None and not condition.sort(sort_value)
            ):
                raise _Invalid("The provided starting key is outside query boundaries based on provided conditions")
            position = table.key_of(start_key)[1]
            start = (
                bisect.bisect_right(order, position) if forward else len(order) - bisect.bisect_left(order, position)
            )
        partition = table.items.get(partition_key, {})
        ordered = order if forward else order[::-1]
        candidates = (
            partition[sort]
            for sort in ordered[start:]
            if condition.sort is None or condition.sort(partition[sort][table.range_key or ""])
        )
        return _page(table, candidates, params, matches, projection, select)

    def _scan(self, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table(params["TableName"])
        keys = sorted((pk, sk) for pk, partition in table.items.items() for sk in partition)
        start = 0
        if "ExclusiveStartKey" in params:
            start = bisect.bisect_right(keys, table.key_of(self._key(table, params["ExclusiveStartKey"])))
        candidates = (table.items[pk][sk] for pk, sk in keys[start:])
        return _page(table, candidates, params, None, None, "ALL_ATTRIBUTES")

    # -- batches ---------------------------------------------------------------------------------

    def _batch_get_item(self, params: dict[str, Any]) -> dict[str, Any]:
        requests = params["RequestItems"]
        if not requests:
            raise _Invalid(
                "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: "
                "Member must have length greater than or equal to 1"
            )
        if sum(len(request.get("Keys") or ()) for request in requests.values()) > MAX_BATCH_GET_KEYS:
            raise _Invalid("Too many items requested for the BatchGetItem call")
        plans = []
        for table_name, request in requests.items():
            if set(request) - _BATCH_GET_TABLE:
                raise _outside(f"BatchGetItem {sorted(set(request) - _BATCH_GET_TABLE)}")
            table = self._table(table_name)
            if not request.get("Keys"):
                raise _Invalid("1 validation error detected: Keys: Member must have length greater than or equal to 1")
            names = Expressions(request.get(_NAMES), None)
            projection = self._projection(request, names)
            names.finish()
            wheres = [table.key_of(self._key(table, key)) for key in request["Keys"]]
            if len(set(wheres)) < len(wheres):
                raise _Invalid("Provided list of item keys contains duplicates")
            plans.append((table_name, request, table, wheres, projection))
        responses: dict[str, list[Item]] = {}
        unprocessed: dict[str, Any] = {}
        returned = 0
        for table_name, request, table, wheres, projection in plans:
            found: list[Item] = []
            left: list[Any] = []
            for key, where in zip(request["Keys"], wheres, strict=True):
                item = table.get(where)
                # Past 16 MB (whole items, as they are read) the rest is left in UnprocessedKeys.
                if left or (item is not None and returned + item_size(item) > MAX_BATCH_GET_BYTES):
                    left.append(key)
                elif item is not None:
                    returned += item_size(item)
                    found.append(_project(item, projection))
            # "BatchGetItem ... items are returned in no particular order": neither is ours.
            self._random.shuffle(found)
            responses[table_name] = found
            if left:
                unprocessed[table_name] = {**request, "Keys": left}
        return {"Responses": responses, "UnprocessedKeys": unprocessed}

    def _batch_write_item(self, params: dict[str, Any]) -> dict[str, Any]:
        requests = params["RequestItems"]
        count = sum(len(entries) for entries in requests.values())
        if not count or any(not entries for entries in requests.values()):
            raise _Invalid(
                "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: "
                "Member must have length greater than or equal to 1"
            )
        if count > MAX_BATCH_WRITE_REQUESTS:
            raise _Invalid("Too many items requested for the BatchWriteItem call")
        plan: list[tuple[_Table, tuple[Any, Any], Item | None]] = []
        request_bytes = 0
        for table_name, entries in requests.items():
            table = self._table(table_name)
            seen: set[tuple[Any, Any]] = set()
            for entry in entries:
                if entry.keys() == {"PutRequest"} and entry["PutRequest"].keys() == {"Item"}:
                    item: Item | None = self._item(table, entry["PutRequest"]["Item"])
                    where = table.key_of(item or {})
                    request_bytes += item_size(item or {})
                elif entry.keys() == {"DeleteRequest"} and entry["DeleteRequest"].keys() == {"Key"}:
                    key = self._key(table, entry["DeleteRequest"]["Key"])
                    item, where = None, table.key_of(key)
                    request_bytes += item_size(key)
                else:
                    raise _Invalid(
                        "A BatchWriteItem request must hold exactly one PutRequest (Item) or DeleteRequest (Key)"
                    )
                if where in seen:
                    raise _Invalid("Provided list of item keys contains duplicates")
                seen.add(where)
                plan.append((table, where, item))
        if request_bytes > MAX_BATCH_WRITE_BYTES:
            raise _Invalid("Item collection size of the BatchWriteItem request has exceeded 16 MB")
        for table, where, item in plan:
            if item is None:
                table.delete(where)
            else:
                table.put(where, item)
        return {"UnprocessedItems": {}}

    # -- transactions ----------------------------------------------------------------------------

    def _transact_write_items(self, params: dict[str, Any]) -> dict[str, Any]:
        actions = params["TransactItems"]
        if not 1 <= len(actions) <= MAX_TRANSACT_ACTIONS:
            raise _Invalid(
                f"1 validation error detected: Value at 'transactItems' failed to satisfy constraint: "
                f"Member must have length less than or equal to {MAX_TRANSACT_ACTIONS}"
            )
        plan: list[tuple[str, _Table, tuple[Any, Any], Callable[[Item], bool] | None, Any]] = []
        seen: set[tuple[str, Any, Any]] = set()
        total = 0
        for action in actions:
            if not isinstance(action, dict) or len(action) != 1 or next(iter(action)) not in _ACTIONS:
                raise _Invalid("TransactItems can only contain one of Check, Put, Update or Delete")
            ((kind, spec),) = action.items()
            if set(spec) - _ACTIONS[kind]:
                raise _outside(f"TransactWriteItems {kind} {sorted(set(spec) - _ACTIONS[kind])}")
            table = self._table(spec["TableName"])
            names = self._names(spec)
            condition = self._condition(spec, names)
            change: Any = None
            if kind == "Put":
                change = self._item(table, spec["Item"])
                key = table.key_item(change)
                total += item_size(change)
            else:
                key = self._key(table, spec["Key"])
                total += item_size(key) + sum(item_size({n: v}) for n, v in (spec.get(_VALUES) or {}).items())
                if kind == "Update":
                    change = (parse_update(spec["UpdateExpression"], names, table.key_names), key)
                elif kind == "ConditionCheck" and condition is None:
                    raise _Invalid("A ConditionCheck needs a ConditionExpression")
            names.finish()
            where = table.key_of(key)
            if (table.name, *where) in seen:
                raise _Invalid("Transaction request cannot include multiple operations on one item")
            seen.add((table.name, *where))
            plan.append((kind, table, where, condition, change))
        if total > MAX_TRANSACT_BYTES:
            raise _Invalid("Transaction request cannot exceed 4 MB: the aggregate size of its items is too large")
        reasons: list[dict[str, str]] = []
        results: list[Item | None] = []
        for kind, table, where, condition, change in plan:
            current = table.get(where)
            result: Item | None = current
            reason = {"Code": "None"}
            if condition is not None and not condition(current or {}):
                reason = {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
            elif kind == "Put":
                result = change
            elif kind == "Delete":
                result = None
            elif kind == "Update":
                update, key = change
                result = update(current or key)
                if item_size(result or {}) > MAX_ITEM_BYTES:
                    reason = {
                        "Code": "ValidationError",
                        "Message": "Item size to update has exceeded the maximum allowed size",
                    }
            reasons.append(reason)
            results.append(result)
        if any(reason["Code"] != "None" for reason in reasons):
            raise cancelled(reasons)
        for (kind, table, where, _, _), result in zip(plan, results, strict=True):
            if kind == "ConditionCheck":
                continue
            if result is None:
                table.delete(where)
            else:
                table.put(where, result)
        return {}

    # -- tables ----------------------------------------------------------------------------------

    def _create_table(self, params: dict[str, Any]) -> dict[str, Any]:
        name = params["TableName"]
        if name in self._tables:
            raise _Invalid(f"Table already exists: {name}", "ResourceInUseException")
        schema = {element["KeyType"]: element["AttributeName"] for element in params["KeySchema"]}
        types = {a["AttributeName"]: a["AttributeType"] for a in params["AttributeDefinitions"]}
        if "HASH" not in schema or len(schema) != len(params["KeySchema"]) or set(types) != set(schema.values()):
            raise _Invalid(
                "One or more parameter values were invalid: Number of attributes in KeySchema does not "
                "exactly match number of attributes defined in AttributeDefinitions"
            )
        if any(kind not in ("S", "N", "B") for kind in types.values()):
            raise _Invalid("Member must satisfy enum value set: [B, N, S]")
        if params.get("BillingMode", "PROVISIONED") != "PAY_PER_REQUEST":
            raise _outside("provisioned capacity")
        table = _Table(name, schema["HASH"], schema.get("RANGE"), types)
        self._tables[name] = table
        return {"TableDescription": self._describe(table)}

    def _delete_table(self, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table(params["TableName"])
        del self._tables[table.name]
        return {"TableDescription": {**self._describe(table), "TableStatus": "DELETING"}}

    def _describe(self, table: _Table) -> dict[str, Any]:
        keys = [{"AttributeName": table.hash_key, "KeyType": "HASH"}]
        if table.range_key:
            keys.append({"AttributeName": table.range_key, "KeyType": "RANGE"})
        return {
            "TableName": table.name,
            "TableStatus": "ACTIVE",
            "KeySchema": keys,
            "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in table.key_types.items()],
            "ItemCount": sum(len(p) for p in table.items.values()),
            "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
        }

    def _update_time_to_live(self, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table(params["TableName"])
        spec = params["TimeToLiveSpecification"]
        enabled = bool(spec["Enabled"])
        if enabled and table.ttl_attribute is not None:
            raise _Invalid("TimeToLive is already enabled")
        table.ttl_attribute = str(spec["AttributeName"]) if enabled else None
        return {"TimeToLiveSpecification": dict(spec)}

    # -- TTL ------------------------------------------------------------------------------------

    def sweep_expired(self, now: datetime | float) -> int:
        """Delete what DynamoDB's TTL process would by `now`: items whose TTL attribute is a number
        of epoch seconds less than `now` ("Time to Live (TTL)":
        https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html). Returns how many."""
        moment = now.timestamp() if isinstance(now, datetime) else float(now)
        deleted = 0
        with self._lock:
            for table in self._tables.values():
                if table.ttl_attribute is None:
                    continue
                expired = [
                    (pk, sk)
                    for pk, partition in table.items.items()
                    for sk, item in partition.items()
                    if "N" in item.get(table.ttl_attribute, {}) and Decimal(item[table.ttl_attribute]["N"]) < moment
                ]
                for where in expired:
                    table.delete(where)
                deleted += len(expired)
        return deleted

    def item_count(self, table_name: str) -> int:
        with self._lock:
            return sum(len(p) for p in self._table(table_name).items.values())


def _check_size(item: Item, message: str = "Item size has exceeded the maximum allowed size") -> None:
    if item_size(item) > MAX_ITEM_BYTES:
        raise _Invalid(message)


def _require(condition: Callable[[Item], bool] | None, current: Item | None) -> None:
    if condition is not None and not condition(current or {}):
        raise _Invalid("The conditional request failed", "ConditionalCheckFailedException")


def _project(item: Item, projection: tuple[str, ...] | None) -> Item:
    if projection is None:
        return copy_item(item)
    return {name: _copy(item[name]) for name in projection if name in item}


def _filter(params: dict[str, Any], names: Expressions) -> Callable[[Item], bool] | None:
    text = params.get("FilterExpression")
    return parse_condition(text, names, "FilterExpression") if text is not None else None


def _select(params: dict[str, Any], projection: tuple[str, ...] | None) -> str:
    select = str(params.get("Select", "SPECIFIC_ATTRIBUTES" if projection else "ALL_ATTRIBUTES"))
    if select not in ("ALL_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT"):
        raise _outside(f"Select={select}")
    if (select == "SPECIFIC_ATTRIBUTES") != (projection is not None):
        raise _Invalid(f"Cannot specify the ProjectionExpression when choosing to get {select}")
    return select


def _page(
    table: _Table,
    candidates: Any,
    params: dict[str, Any],
    matches: Callable[[Item], bool] | None,
    projection: tuple[str, ...] | None,
    select: str,
) -> dict[str, Any]:
    """One page of a Query or Scan: items read until `Limit` or 1 MB (whole items, before the
    filter: "A single Query operation will read up to the maximum number of items set (if using
    the Limit parameter) or a maximum of 1 MB of data and then apply any filtering",
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.FilterExpression.html).
    A page that stopped at either carries a LastEvaluatedKey, even when nothing follows: "If
    LastEvaluatedKey is not empty, it does not necessarily mean that there is more data"."""
    limit = params.get("Limit")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise _Invalid(
            "1 validation error detected: Value at 'limit' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1"
        )
    read: list[Item] = []
    size = 0
    stopped = False
    for item in candidates:
        item_bytes = item_size(item)
        if size + item_bytes > MAX_PAGE_BYTES:
            stopped = True
            break
        read.append(item)
        size += item_bytes
        if limit is not None and len(read) >= limit:
            stopped = True
            break
    matched = [item for item in read if matches is None or matches(item)]
    response: dict[str, Any] = {"Count": len(matched), "ScannedCount": len(read)}
    if select != "COUNT":
        response["Items"] = [_project(item, projection) for item in matched]
    if stopped and read:
        response["LastEvaluatedKey"] = copy_item(table.key_item(read[-1]))
    return response


class _Waiter:
    def __init__(self, client: MemoryDynamoDB, exists: bool) -> None:
        self._client = client
        self._exists = exists

    def wait(self, *, TableName: str, **_config: Any) -> None:
        if self._client.has_table(TableName) != self._exists:
            from botocore.exceptions import WaiterError

            raise WaiterError(
                name="table_exists" if self._exists else "table_not_exists", reason="memory", last_response={}
            )


def _check_parameters(operation: str, params: dict[str, Any]) -> None:
    shape = service_model().operation_model(operation).input_shape
    unknown = sorted(set(params) - set(shape.members))
    missing = sorted(set(shape.required_members) - set(params))
    if unknown or missing:
        report = "; ".join(
            [f'Unknown parameter in input: "{name}"' for name in unknown]
            + [f'Missing required parameter in input: "{name}"' for name in missing]
        )
        raise ParamValidationError(report=report)
    unsupported = sorted(set(params) - _SUPPORTED[operation])
    if unsupported:
        raise client_error("ValidationException", str(_outside(f"{operation} {unsupported}")), operation)


# -- factories -----------------------------------------------------------------------------------


def memory_dynamodb_from_template(
    template_path: Path = TEMPLATE, table_name: str = "newsroom-NewsTable", *, seed: int = 0
) -> tuple[MemoryDynamoDB, str]:
    """A memory client holding the stack's table, created from `template_path`'s `NewsTable`
    properties (key schema, attribute types, TTL) by the same code that creates the moto table."""
    client = MemoryDynamoDB(seed=seed)
    create_table(client, table_name, template=template_path)
    return client, table_name


def memory_store(
    cursor_secret: bytes | Callable[[], bytes] = b"secret",
    *,
    client: MemoryDynamoDB | None = None,
    table_name: str = "t",
    retention: timedelta = DEFAULT_RETENTION,
    clock: Callable[[], float] = time.time,
) -> DynamoStore:
    """`DynamoStore` over a memory client (a new one, or `client`, whose table is created from
    template.yaml when it has none of that name)."""
    if client is None:
        client, _ = memory_dynamodb_from_template(table_name=table_name)
    elif not client.has_table(table_name):
        create_table(client, table_name)
    return DynamoStore(client, table_name, cursor_secret, retention=retention, clock=clock)


__all__ = [
    "MAX_ITEM_BYTES",
    "ClientError",
    "MemoryDynamoDB",
    "copy_item",
    "item_size",
    "memory_dynamodb_from_template",
    "memory_store",
]

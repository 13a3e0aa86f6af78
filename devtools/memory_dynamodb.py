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
template.yaml) with the expression subset of `devtools.memory_expressions`; items, keys and
pages are `devtools.memory_items`, batches and transactions `devtools.memory_batches`. A request botocore's
validator refuses (a parameter the API does not have, one missing, a wrong type) raises its
`ParamValidationError`, as a default boto3 client does before sending (our DynamoDB client does
not validate, `config.client_config`, which says what becomes of such a request without it); a
parameter the API has but this fake
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
keys) are injected through `client.faults` (`devtools.memory_faults`). Each call emits botocore's
`before-call.dynamodb.<Operation>` and `after-call.dynamodb.<Operation>` events on
`client.meta.events` with botocore's names, order and `parsed` answer, so the crash injectors of
`devtools.faults` (`CrashAt`, `WriteCounter`) attach to either client.

Fast on purpose: plain dicts, no botocore serialisation. One lock makes each call atomic, as
DynamoDB applies each request atomically, so threads may share a client.
"""

from __future__ import annotations

import bisect
import functools
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, ParamValidationError, WaiterError
from botocore.hooks import HierarchicalEmitter
from botocore.validate import ParamValidator

from devtools.memory_batches import batch_get_item, batch_write_item, transact_write_items
from devtools.memory_expressions import ExpressionError, Expressions, parse_key_condition, parse_update
from devtools.memory_faults import OPERATIONS, Faults, client_error, client_exceptions, service_model
from devtools.memory_items import (
    NAMES,
    VALUES,
    Invalid,
    Table,
    check_size,
    condition,
    expressions,
    outside,
    page,
    project,
    projection,
    require,
    scalar,
    select,
)
from devtools.template import TEMPLATE, create_table
from newsroom.store.dynamo import DEFAULT_RETENTION, DynamoStore

# What this fake implements of each operation's parameters; the API's others raise.
_SUPPORTED: dict[str, frozenset[str]] = {
    "GetItem": frozenset({"TableName", "Key", "ConsistentRead", "ProjectionExpression", NAMES}),
    "PutItem": frozenset({"TableName", "Item", "ConditionExpression", NAMES, VALUES}),
    "UpdateItem": frozenset({"TableName", "Key", "UpdateExpression", "ConditionExpression", NAMES, VALUES}),
    "DeleteItem": frozenset({"TableName", "Key", "ConditionExpression", NAMES, VALUES}),
    "Query": frozenset(
        {"TableName", "KeyConditionExpression", "FilterExpression", "ProjectionExpression", NAMES, VALUES}
        | {"ExclusiveStartKey", "Limit", "ScanIndexForward", "Select", "ConsistentRead"}
    ),
    "Scan": frozenset({"TableName", "ConsistentRead", "ExclusiveStartKey", "Limit", "ProjectionExpression", NAMES}),
    "BatchGetItem": frozenset({"RequestItems"}),
    "BatchWriteItem": frozenset({"RequestItems"}),
    "TransactWriteItems": frozenset({"TransactItems"}),
    "CreateTable": frozenset({"TableName", "AttributeDefinitions", "KeySchema", "BillingMode"}),
    "DeleteTable": frozenset({"TableName"}),
    "DescribeTable": frozenset({"TableName"}),
    "UpdateTimeToLive": frozenset({"TableName", "TimeToLiveSpecification"}),
}


class MemoryDynamoDB:
    """The boto3 low-level DynamoDB client's interface, on dicts. `faults` injects failures."""

    def __init__(self, *, seed: int = 0, latency: float = 0.0) -> None:
        """`latency`: seconds each call spends "on the network", half before DynamoDB applies it
        and half after, outside the lock, so threads interleave as Lambda instances do between
        a read and the write that depends on it."""
        self._latency = latency
        self._tables: dict[str, Table] = {}
        self._lock = threading.RLock()
        self._random = random.Random(seed)  # noqa: S311 - response order, reproducible, not security
        self.faults = Faults(seed)
        self.exceptions = client_exceptions()
        self.meta = _Meta(HierarchicalEmitter())

    def _call(
        self, operation: str, params: dict[str, Any], run: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any]:
        def send(sent: dict[str, Any]) -> dict[str, Any]:
            if self._latency:
                time.sleep(self._latency / 2)
            with self._lock:
                try:
                    response = run(sent)
                except ExpressionError as exc:
                    raise client_error("ValidationException", str(exc), operation) from None
                except Invalid as exc:
                    raise client_error(exc.code, str(exc), operation) from None
            if self._latency:
                time.sleep(self._latency / 2)
            response["ResponseMetadata"] = {"HTTPStatusCode": 200}
            return response

        # As botocore's BaseClient._make_api_call: the parameters validated, then before-call once
        # per API call (a handler's answer replaces the call), then after-call once the answer is
        # parsed, an error answer too, before raising it. Only the names, order and `parsed` are
        # botocore's: no model, HTTP response or signer exists here, so `AwsFaults` (which works
        # under botocore's HTTP layer) needs moto.
        _check_parameters(operation, params)
        context: dict[str, Any] = {}
        _handler, stubbed = self.meta.events.emit_until_response(
            f"before-call.dynamodb.{operation}", model=None, params=params, request_signer=None, context=context
        )
        after_call = functools.partial(
            self.meta.events.emit, f"after-call.dynamodb.{operation}", http_response=None, model=None, context=context
        )
        try:
            if stubbed is not None:
                response = stubbed
            elif operation in OPERATIONS.values():
                response = self.faults.call(operation, params, send)
            else:
                response = send(params)
        except ClientError as exc:
            after_call(parsed=exc.response)
            raise
        after_call(parsed=response)
        return response

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
            raise ValueError(f"Waiter does not exist: {name}")  # boto3's own answer
        return _Waiter(self, name == "table_exists")

    def has_table(self, name: str) -> bool:
        with self._lock:
            return name in self._tables

    # -- single items ----------------------------------------------------------------------------

    def _get_item(self, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table(params["TableName"])
        where = table.key_of(table.key(params["Key"]))
        names = Expressions(params.get(NAMES), None)
        attributes = projection(params, names)
        names.finish()
        item = table.get(where)
        return {"Item": project(item, attributes)} if item is not None else {}

    def _put_item(self, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table(params["TableName"])
        item = table.item(params["Item"])
        names = expressions(params)
        test = condition(params, names)
        names.finish()
        where = table.key_of(item)
        require(test, table.get(where))
        table.put(where, item)
        return {}

    def _update_item(self, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table(params["TableName"])
        key = table.key(params["Key"])
        names = expressions(params)
        update = parse_update(params["UpdateExpression"], names, table.key_names)
        test = condition(params, names)
        names.finish()
        where = table.key_of(key)
        current = table.get(where)
        require(test, current)
        updated = update(current or key)
        check_size(updated, "Item size to update has exceeded the maximum allowed size")
        table.put(where, updated)
        return {}

    def _delete_item(self, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table(params["TableName"])
        where = table.key_of(table.key(params["Key"]))
        names = expressions(params)
        test = condition(params, names)
        names.finish()
        require(test, table.get(where))
        table.delete(where)
        return {}

    # -- Query and Scan --------------------------------------------------------------------------

    def _query(self, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table(params["TableName"])
        if "KeyConditionExpression" not in params:
            raise outside("Query without KeyConditionExpression")
        names = expressions(params)
        keys = parse_key_condition(params["KeyConditionExpression"], names, table.hash_key, table.range_key)
        matches = condition(params, names, "FilterExpression")
        attributes = projection(params, names)
        names.finish()
        chosen = select(params, attributes)
        for name, value in [(table.hash_key, keys.partition)] + [(table.range_key or "", v) for v in keys.sort_values]:
            if next(iter(value)) != table.key_types[name]:
                raise Invalid(
                    "One or more parameter values were invalid: Condition parameter type does not match schema type"
                )
        partition_key = scalar(keys.partition)
        order = table.order.get(partition_key, [])
        forward = params.get("ScanIndexForward", True)
        start = 0
        if "ExclusiveStartKey" in params:
            start_key = table.key(params["ExclusiveStartKey"])
            sort_value = start_key[table.range_key] if table.range_key else None
            if scalar(start_key[table.hash_key]) != partition_key or (
                keys.sort is not None and sort_value is not None and not keys.sort(sort_value)
            ):
                raise Invalid("The provided starting key is outside query boundaries based on provided conditions")
            position = table.key_of(start_key)[1]
            start = (
                bisect.bisect_right(order, position) if forward else len(order) - bisect.bisect_left(order, position)
            )
        partition = table.items.get(partition_key, {})
        ordered = order if forward else order[::-1]
        candidates = (
            partition[sort]
            for sort in ordered[start:]
            if keys.sort is None or keys.sort(partition[sort][table.range_key or ""])
        )
        return page(table, candidates, params, matches, attributes, chosen)

    def _scan(self, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table(params["TableName"])
        every = sorted((pk, sk) for pk, partition in table.items.items() for sk in partition)
        start = 0
        if "ExclusiveStartKey" in params:
            start = bisect.bisect_right(every, table.key_of(table.key(params["ExclusiveStartKey"])))
        names = expressions(params)
        attributes = projection(params, names)
        names.finish()
        candidates = (table.items[pk][sk] for pk, sk in every[start:])
        return page(table, candidates, params, None, attributes, select(params, attributes))

    def _batch_get_item(self, params: dict[str, Any]) -> dict[str, Any]:
        return batch_get_item(self._table, params, self._random)

    def _batch_write_item(self, params: dict[str, Any]) -> dict[str, Any]:
        return batch_write_item(self._table, params)

    def _transact_write_items(self, params: dict[str, Any]) -> dict[str, Any]:
        return transact_write_items(self._table, params)

    def _table(self, name: str) -> Table:
        table = self._tables.get(name)
        if table is None:
            raise Invalid(f"Requested resource not found: Table: {name} not found", "ResourceNotFoundException")
        return table

    # -- tables ----------------------------------------------------------------------------------

    def _create_table(self, params: dict[str, Any]) -> dict[str, Any]:
        name = params["TableName"]
        if name in self._tables:
            raise Invalid(f"Table already exists: {name}", "ResourceInUseException")
        schema = {element["KeyType"]: element["AttributeName"] for element in params["KeySchema"]}
        types = {a["AttributeName"]: a["AttributeType"] for a in params["AttributeDefinitions"]}
        if "HASH" not in schema or len(schema) != len(params["KeySchema"]) or set(types) != set(schema.values()):
            raise Invalid(
                "One or more parameter values were invalid: Number of attributes in KeySchema does not "
                "exactly match number of attributes defined in AttributeDefinitions"
            )
        if any(kind not in ("S", "N", "B") for kind in types.values()):
            raise Invalid("Member must satisfy enum value set: [B, N, S]")
        if params.get("BillingMode", "PROVISIONED") != "PAY_PER_REQUEST":
            raise outside("provisioned capacity")
        table = Table(name, schema["HASH"], schema.get("RANGE"), types)
        self._tables[name] = table
        return {"TableDescription": self._describe(table)}

    def _delete_table(self, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table(params["TableName"])
        del self._tables[table.name]
        return {"TableDescription": {**self._describe(table), "TableStatus": "DELETING"}}

    def _describe(self, table: Table) -> dict[str, Any]:
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
            raise Invalid("TimeToLive is already enabled")
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


@dataclass(frozen=True)
class _Meta:
    """The part of a boto3 client's `meta` the tests' fault injectors use."""

    events: HierarchicalEmitter


class _Waiter:
    def __init__(self, client: MemoryDynamoDB, exists: bool) -> None:
        self._client = client
        self._exists = exists

    def wait(self, *, TableName: str, **_config: Any) -> None:
        if self._client.has_table(TableName) != self._exists:
            raise WaiterError(
                name="table_exists" if self._exists else "table_not_exists", reason="memory", last_response={}
            )


def _check_parameters(operation: str, params: dict[str, Any]) -> None:
    # botocore's own validator, as a default client runs it before sending: our DynamoDB client
    # turns it off for speed (`config.client_config`), so this fake is where a request of the
    # wrong shape (an unknown or missing parameter, a wrong type, a number out of range) fails
    # with botocore's own report.
    report = ParamValidator().validate(params, service_model().operation_model(operation).input_shape)
    if report.has_errors():
        raise ParamValidationError(report=report.generate_report())
    unsupported = sorted(set(params) - _SUPPORTED[operation])
    if unsupported:
        raise client_error("ValidationException", str(outside(f"{operation} {unsupported}")), operation)


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

"""BatchGetItem, BatchWriteItem and TransactWriteItems of the in-memory DynamoDB
(`devtools.memory_dynamodb`), with DynamoDB's limits on each; the client calls them under its
lock, so each is atomic.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from devtools.counting import item_size
from devtools.memory_expressions import Expressions, Item, parse_update
from devtools.memory_faults import cancelled
from devtools.memory_items import (
    MAX_ITEM_BYTES,
    MB,
    NAMES,
    VALUES,
    Invalid,
    Table,
    condition,
    expressions,
    outside,
    project,
    projection,
)

Tables = Callable[[str], Table]  # the table of a name, or ResourceNotFoundException
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

_BATCH_GET_TABLE = frozenset({"Keys", "ProjectionExpression", NAMES, "ConsistentRead"})
_ACTIONS = {
    "Put": frozenset({"TableName", "Item", "ConditionExpression", NAMES, VALUES}),
    "Update": frozenset({"TableName", "Key", "UpdateExpression", "ConditionExpression", NAMES, VALUES}),
    "Delete": frozenset({"TableName", "Key", "ConditionExpression", NAMES, VALUES}),
    "ConditionCheck": frozenset({"TableName", "Key", "ConditionExpression", NAMES, VALUES}),
}


# -- batches ---------------------------------------------------------------------------------


def batch_get_item(tables: Tables, params: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    requests = params["RequestItems"]
    if not requests:
        raise Invalid(
            "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1"
        )
    if sum(len(request.get("Keys") or ()) for request in requests.values()) > MAX_BATCH_GET_KEYS:
        raise Invalid("Too many items requested for the BatchGetItem call")
    plans = []
    for table_name, request in requests.items():
        if set(request) - _BATCH_GET_TABLE:
            raise outside(f"BatchGetItem {sorted(set(request) - _BATCH_GET_TABLE)}")
        table = tables(table_name)
        if not request.get("Keys"):
            raise Invalid("1 validation error detected: Keys: Member must have length greater than or equal to 1")
        names = Expressions(request.get(NAMES), None)
        attributes = projection(request, names)
        names.finish()
        wheres = [table.key_of(table.key(key)) for key in request["Keys"]]
        if len(set(wheres)) < len(wheres):
            raise Invalid("Provided list of item keys contains duplicates")
        plans.append((table_name, request, table, wheres, attributes))
    responses: dict[str, list[Item]] = {}
    unprocessed: dict[str, Any] = {}
    returned = 0
    for table_name, request, table, wheres, attributes in plans:
        found: list[Item] = []
        left: list[Any] = []
        for key, where in zip(request["Keys"], wheres, strict=True):
            item = table.get(where)
            # Past 16 MB (whole items, as they are read) the rest is left in UnprocessedKeys.
            if left or (item is not None and returned + item_size(item) > MAX_BATCH_GET_BYTES):
                left.append(key)
            elif item is not None:
                returned += item_size(item)
                found.append(project(item, attributes))
        # "BatchGetItem ... items are returned in no particular order": neither is ours.
        rng.shuffle(found)
        responses[table_name] = found
        if left:
            unprocessed[table_name] = {**request, "Keys": left}
    return {"Responses": responses, "UnprocessedKeys": unprocessed}


def batch_write_item(tables: Tables, params: dict[str, Any]) -> dict[str, Any]:
    requests = params["RequestItems"]
    count = sum(len(entries) for entries in requests.values())
    if not count or any(not entries for entries in requests.values()):
        raise Invalid(
            "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1"
        )
    if count > MAX_BATCH_WRITE_REQUESTS:
        raise Invalid("Too many items requested for the BatchWriteItem call")
    plan: list[tuple[Table, tuple[Any, Any], Item | None]] = []
    request_bytes = 0
    for table_name, entries in requests.items():
        table = tables(table_name)
        seen: set[tuple[Any, Any]] = set()
        for entry in entries:
            if entry.keys() == {"PutRequest"} and entry["PutRequest"].keys() == {"Item"}:
                item: Item | None = table.item(entry["PutRequest"]["Item"])
                where = table.key_of(item or {})
                request_bytes += item_size(item or {})
            elif entry.keys() == {"DeleteRequest"} and entry["DeleteRequest"].keys() == {"Key"}:
                key = table.key(entry["DeleteRequest"]["Key"])
                item, where = None, table.key_of(key)
                request_bytes += item_size(key)
            else:
                raise Invalid("A BatchWriteItem request must hold exactly one PutRequest (Item) or DeleteRequest (Key)")
            if where in seen:
                raise Invalid("Provided list of item keys contains duplicates")
            seen.add(where)
            plan.append((table, where, item))
    if request_bytes > MAX_BATCH_WRITE_BYTES:
        raise Invalid("Item collection size of the BatchWriteItem request has exceeded 16 MB")
    for table, where, item in plan:
        if item is None:
            table.delete(where)
        else:
            table.put(where, item)
    return {"UnprocessedItems": {}}


# -- transactions ----------------------------------------------------------------------------


def transact_write_items(tables: Tables, params: dict[str, Any]) -> dict[str, Any]:
    actions = params["TransactItems"]
    if not 1 <= len(actions) <= MAX_TRANSACT_ACTIONS:
        raise Invalid(
            f"1 validation error detected: Value at 'transactItems' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_TRANSACT_ACTIONS}"
        )
    plan: list[tuple[str, Table, tuple[Any, Any], Callable[[Item], bool] | None, Any]] = []
    seen: set[tuple[str, Any, Any]] = set()
    total = 0
    for action in actions:
        if not isinstance(action, dict) or len(action) != 1 or next(iter(action)) not in _ACTIONS:
            raise Invalid("TransactItems can only contain one of Check, Put, Update or Delete")
        ((kind, spec),) = action.items()
        if set(spec) - _ACTIONS[kind]:
            raise outside(f"TransactWriteItems {kind} {sorted(set(spec) - _ACTIONS[kind])}")
        table = tables(spec["TableName"])
        names = expressions(spec)
        test = condition(spec, names)
        change: Any = None
        if kind == "Put":
            change = table.item(spec["Item"])
            key = table.key_item(change)
            total += item_size(change)
        else:
            key = table.key(spec["Key"])
            total += item_size(key) + sum(item_size({n: v}) for n, v in (spec.get(VALUES) or {}).items())
            if kind == "Update":
                change = (parse_update(spec["UpdateExpression"], names, table.key_names), key)
            elif kind == "ConditionCheck" and test is None:
                raise Invalid("A ConditionCheck needs a ConditionExpression")
        names.finish()
        where = table.key_of(key)
        if (table.name, *where) in seen:
            raise Invalid("Transaction request cannot include multiple operations on one item")
        seen.add((table.name, *where))
        plan.append((kind, table, where, test, change))
    if total > MAX_TRANSACT_BYTES:
        raise Invalid("Transaction request cannot exceed 4 MB: the aggregate size of its items is too large")
    reasons: list[dict[str, str]] = []
    results: list[Item | None] = []
    for kind, table, where, test, change in plan:
        current = table.get(where)
        result: Item | None = current
        reason = {"Code": "None"}
        if test is not None and not test(current or {}):
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

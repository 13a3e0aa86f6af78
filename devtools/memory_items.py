"""Items, keys and tables of the in-memory DynamoDB (`devtools.memory_dynamodb`): typed values
as DynamoDB stores them, its key and item-size rules, a table kept in key order, and one page of
a Query or Scan.

Every refusal is an `Invalid` (a ValidationException unless it names another code), which the
client raises as botocore's `ClientError`.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from devtools.counting import item_size
from devtools.memory_expressions import (
    Condition,
    Expressions,
    Item,
    Value,
    canonical_number,
    parse_condition,
    parse_projection,
)

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

_TYPES = frozenset({"S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M"})
NAMES = "ExpressionAttributeNames"
VALUES = "ExpressionAttributeValues"


class Invalid(Exception):
    """A ValidationException (or another error code) to raise for the current operation."""

    def __init__(self, message: str, code: str = "ValidationException") -> None:
        super().__init__(message)
        self.code = code


def outside(what: str) -> Invalid:
    return Invalid(f"{what} is outside the memory fake's subset (extend devtools/memory_dynamodb.py)")


def scalar(value: Value) -> Any:
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


def normal(value: Any, where: str) -> Value:
    """A typed value as DynamoDB would store it, or `Invalid` for what it refuses
    ("Supported data types and naming rules in Amazon DynamoDB":
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html)."""
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in _TYPES:
        raise Invalid(
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
            raise Invalid(
                "One or more parameter values were invalid: Null attribute value types must have the value of true"
            )
        return {"NULL": True}
    if kind in ("SS", "NS", "BS") and isinstance(inner, list | tuple | set):
        members = [normal({kind[0]: member}, where)[kind[0]] for member in inner]
        if not members:
            raise Invalid(f"One or more parameter values were invalid: An {kind} set may not be empty ({where})")
        if len({repr(m) for m in members}) < len(members):
            raise Invalid(f"One or more parameter values were invalid: Input collection {kind} contains duplicates")
        return {kind: members}
    if kind == "L" and isinstance(inner, list | tuple):
        return {"L": [normal(v, where) for v in inner]}
    if kind == "M" and isinstance(inner, dict):
        return {"M": {str(name): normal(v, where) for name, v in inner.items()}}
    raise Invalid(f"One or more parameter values were invalid: {kind} of {type(inner).__name__} ({where})")


@dataclass
class Table:
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
        return scalar(key[self.hash_key]), scalar(key[self.range_key]) if self.range_key else None

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

    def check_key_values(self, item: Item) -> None:
        for name in sorted(self.key_names):
            if name not in item:
                raise Invalid(f"One or more parameter values were invalid: Missing the key {name} in the item")
            ((kind, inner),) = item[name].items()
            if kind != self.key_types[name]:
                raise Invalid(
                    f"One or more parameter values were invalid: Type mismatch for key {name} "
                    f"expected: {self.key_types[name]} actual: {kind}"
                )
            size = len(inner.encode()) if kind == "S" else len(inner) if kind == "B" else len(str(inner))
            if size == 0:
                raise Invalid(
                    "One or more parameter values are not valid. The AttributeValue for a key attribute "
                    f"cannot contain an empty {'string' if kind == 'S' else 'binary'} value. Key: {name}"
                )
            if name == self.hash_key and size > MAX_PARTITION_KEY_BYTES:
                raise Invalid(
                    "One or more parameter values were invalid: "
                    "Size of hashkey has exceeded the maximum size limit of 2048 bytes"
                )
            if name == self.range_key and size > MAX_SORT_KEY_BYTES:
                raise Invalid(
                    "One or more parameter values were invalid: "
                    "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
                )

    def key(self, key: Any) -> Item:
        """A request's key, checked against the schema and normalised."""
        if not isinstance(key, dict) or set(key) != self.key_names:
            raise Invalid("The provided key element does not match the schema")
        normalised = {name: normal(value, name) for name, value in key.items()}
        if any(next(iter(normalised[n])) != self.key_types[n] for n in normalised):
            raise Invalid("The provided key element does not match the schema")
        self.check_key_values(normalised)
        return normalised

    def item(self, item: Any) -> Item:
        """A request's item, checked (keys, values, size) and normalised."""
        if not isinstance(item, dict):
            raise Invalid("One or more parameter values were invalid: an item must be a map")
        normalised = {str(name): normal(value, str(name)) for name, value in item.items()}
        self.check_key_values(normalised)
        check_size(normalised)
        return normalised


def expressions(params: dict[str, Any]) -> Expressions:
    values = params.get(VALUES)
    if values is not None:
        values = {name: normal(value, name) for name, value in values.items()}
    return Expressions(params.get(NAMES), values)


def condition(params: dict[str, Any], names: Expressions, field: str = "ConditionExpression") -> Condition | None:
    text = params.get(field)
    return parse_condition(text, names, field) if text is not None else None


def projection(params: dict[str, Any], names: Expressions) -> tuple[str, ...] | None:
    text = params.get("ProjectionExpression")
    return parse_projection(text, names) if text is not None else None


def check_size(item: Item, message: str = "Item size has exceeded the maximum allowed size") -> None:
    if item_size(item) > MAX_ITEM_BYTES:
        raise Invalid(message)


def require(test: Condition | None, current: Item | None) -> None:
    if test is not None and not test(current or {}):
        raise Invalid("The conditional request failed", "ConditionalCheckFailedException")


def project(item: Item, attributes: tuple[str, ...] | None) -> Item:
    if attributes is None:
        return copy_item(item)
    return {name: _copy(item[name]) for name in attributes if name in item}


def select(params: dict[str, Any], attributes: tuple[str, ...] | None) -> str:
    chosen = str(params.get("Select", "SPECIFIC_ATTRIBUTES" if attributes else "ALL_ATTRIBUTES"))
    if chosen not in ("ALL_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT"):
        raise outside(f"Select={chosen}")
    if (chosen == "SPECIFIC_ATTRIBUTES") != (attributes is not None):
        raise Invalid(f"Cannot specify the ProjectionExpression when choosing to get {chosen}")
    return chosen


def page(
    table: Table,
    candidates: Iterable[Item],
    params: dict[str, Any],
    matches: Condition | None,
    attributes: tuple[str, ...] | None,
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
        raise Invalid(
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
        response["Items"] = [project(item, attributes) for item in matched]
    if stopped and read:
        response["LastEvaluatedKey"] = copy_item(table.key_item(read[-1]))
    return response

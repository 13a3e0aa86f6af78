"""IAM evaluation of template.yaml's DynamoDB statements, as far as the tests need it.

An Allow statement grants an action on a partition key when it names the action and every one
of its conditions holds. `ForAllValues:StringLike` on `dynamodb:LeadingKeys` holds when every
partition key the request names matches one of the patterns; it also holds, vacuously, when the
request names none, which is why each statement pairs it with `Null: {dynamodb:LeadingKeys: false}`
("Using IAM policy conditions for fine-grained access control", Amazon DynamoDB Developer Guide:
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html;
"Single-valued vs. multivalued context keys", IAM User Guide).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from devtools.template import load_template

LEADING_KEYS = "dynamodb:LeadingKeys"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def dynamodb_statements(function: str) -> list[dict[str, Any]]:
    """The statements of `function`'s inline policies that grant a DynamoDB action."""
    policies = load_template()["Resources"][function]["Properties"].get("Policies", [])
    statements = [s for p in policies if isinstance(p, dict) for s in p.get("Statement", [])]
    return [s for s in statements if any(str(a).startswith("dynamodb:") for a in _as_list(s["Action"]))]


def leading_key_patterns(statement: dict[str, Any]) -> list[str]:
    condition = statement.get("Condition") or {}
    return [str(p) for p in _as_list(condition.get("ForAllValues:StringLike", {}).get(LEADING_KEYS, []))]


def _condition_holds(operator: str, values: dict[str, Any], partition_key: str | None) -> bool:
    if set(values) != {LEADING_KEYS}:
        raise AssertionError(f"a condition key the tests cannot evaluate: {sorted(values)}")
    patterns = [str(v) for v in _as_list(values[LEADING_KEYS])]
    if operator == "Null":
        # "false": the key must be present in the request.
        return (partition_key is None) == (patterns == ["true"])
    if operator == "ForAllValues:StringLike":
        return partition_key is None or any(fnmatchcase(partition_key, p) for p in patterns)
    if operator == "ForAllValues:StringEquals":
        return partition_key is None or partition_key in patterns
    raise AssertionError(f"a condition operator the tests cannot evaluate: {operator}")


def statement_allows(statement: dict[str, Any], action: str, partition_key: str | None) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    if not any(fnmatchcase(action, a) for a in _as_list(statement["Action"])):
        return False
    return all(
        _condition_holds(operator, values, partition_key)
        for operator, values in (statement.get("Condition") or {}).items()
    )


def allowed_by_template(function: str, action: str, partition_key: str | None) -> bool:
    """Whether `function`'s role may perform `action` on an item of partition `partition_key`
    (None: a request that names no key)."""
    return any(statement_allows(s, action, partition_key) for s in dynamodb_statements(function))

"""The local stack's DynamoDB clients: a failed transaction leaves every item as it was, as DynamoDB
does; the memory client emits botocore's call events as a boto3 client does."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from devtools.stack import DynamoDBFactory, local_stack, memory_dynamodb, moto_dynamodb


def _item(dynamodb: Any, table: str, pk: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = dynamodb.get_item(TableName=table, Key={"PK": {"S": pk}, "SK": {"S": "x"}}).get(
        "Item"
    )
    return item


def test_a_failed_transaction_restores_changed_items_and_removes_new_ones(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with local_stack(monkeypatch.setenv, tmp_path) as stack:
        dynamodb, table = stack.dynamodb, stack.resources.table_name
        kept = {"PK": {"S": "kept"}, "SK": {"S": "x"}, "n": {"N": "1"}}
        dynamodb.put_item(TableName=table, Item=kept)
        dynamodb.put_item(TableName=table, Item={"PK": {"S": "gone"}, "SK": {"S": "x"}})
        actions = [
            {
                "Update": {
                    "TableName": table,
                    "Key": {"PK": {"S": "kept"}, "SK": {"S": "x"}},
                    "UpdateExpression": "SET n = :two",
                    "ExpressionAttributeValues": {":two": {"N": "2"}},
                }
            },
            {"Put": {"TableName": table, "Item": {"PK": {"S": "new"}, "SK": {"S": "x"}}}},
            {"Delete": {"TableName": table, "Key": {"PK": {"S": "gone"}, "SK": {"S": "x"}}}},
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": {"PK": {"S": "absent"}, "SK": {"S": "x"}},
                    "ConditionExpression": "attribute_exists(PK)",
                }
            },
        ]

        with pytest.raises(ClientError) as failed:
            dynamodb.transact_write_items(TransactItems=actions)

        assert failed.value.response["Error"]["Code"] == "TransactionCanceledException"
        assert _item(dynamodb, table, "kept") == kept
        assert _item(dynamodb, table, "new") is None
        assert _item(dynamodb, table, "gone") is not None

        dynamodb.transact_write_items(TransactItems=actions[:3])  # without the failing check: all applied

        assert _item(dynamodb, table, "kept") == {**kept, "n": {"N": "2"}}
        assert _item(dynamodb, table, "new") is not None
        assert _item(dynamodb, table, "gone") is None


def test_the_template_is_parsed_once_per_version_however_its_path_is_spelled(tmp_path: Path) -> None:
    from devtools.template import TEMPLATE, load_template

    copy = tmp_path / "template.yaml"
    copy.write_text(TEMPLATE.read_text())
    first = load_template(copy)
    assert load_template(tmp_path / "." / "template.yaml") is first  # one parse, two spellings
    copy.write_text(TEMPLATE.read_text().replace("Runtime: python3.13", "Runtime: python3.12", 1))
    stat = copy.stat()
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # an edit, whatever the clock's grain
    edited = load_template(copy)
    assert edited is not first
    assert edited["Globals"]["Function"]["Runtime"] == "python3.12"


@pytest.mark.parametrize("factory", [moto_dynamodb, memory_dynamodb], ids=["moto", "memory"])
def test_both_clients_emit_botocore_s_call_events_around_each_call_and_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, factory: DynamoDBFactory
) -> None:
    """The crash sweep (tests/e2e/test_faults.py) injects through these events on the memory
    client: each call is one before-call and one after-call, an error answer included, and a
    handler raising in before-call stops the call before it changes anything."""
    with local_stack(monkeypatch.setenv, tmp_path, dynamodb=factory) as stack:
        dynamodb, table = stack.dynamodb, stack.resources.table_name
        seen: list[str] = []

        def record(event_name: str, **_: Any) -> None:
            stage, _service, operation = event_name.split(".")
            seen.append(f"{stage} {operation}")

        dynamodb.meta.events.register("before-call.dynamodb", record)
        dynamodb.meta.events.register("after-call.dynamodb", record)
        item = {"PK": {"S": "a"}, "SK": {"S": "x"}}
        dynamodb.put_item(TableName=table, Item=item)
        with pytest.raises(ClientError):
            dynamodb.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(PK)")
        assert seen == ["before-call PutItem", "after-call PutItem"] * 2

        def crash(**_: Any) -> None:
            raise RuntimeError("crashed before sending")

        dynamodb.meta.events.register("before-call.dynamodb.DeleteItem", crash)
        with pytest.raises(RuntimeError):
            dynamodb.delete_item(TableName=table, Key=item)
        assert _item(dynamodb, table, "a") == item

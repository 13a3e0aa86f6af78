"""The in-memory DynamoDB's own strictness: rules DynamoDB enforces that moto forgives (each
with its moto gap recorded in test_contract.py), and requests DynamoDB refuses, which the fake
must refuse too rather than forgive."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from devtools.faults import clear_table, dump_table
from devtools.memory_dynamodb import memory_dynamodb_from_template, memory_store
from devtools.memory_items import MAX_ITEM_BYTES
from devtools.template import TEMPLATE
from newsroom.core.models import SourceState
from tests.store.backends import DAY, KB, T0, Backend, article, error_code, four_mb_transaction, raw_item, story_key


def test_the_400_kb_limit_counts_names_and_values_to_the_byte(memory: Backend) -> None:
    # "The maximum item size in DynamoDB is 400 KB, which includes both attribute name binary
    # length (UTF-8 length) and attribute value lengths (again binary length)":
    # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html
    memory.client.put_item(TableName="t", Item=raw_item(1, MAX_ITEM_BYTES))
    with pytest.raises(ClientError) as caught:
        memory.client.put_item(TableName="t", Item=raw_item(2, MAX_ITEM_BYTES + 1))
    assert error_code(caught) == "ValidationException"
    with pytest.raises(ClientError):  # a multi-byte character counts its UTF-8 bytes
        memory.client.put_item(TableName="t", Item={**raw_item(3, MAX_ITEM_BYTES - 1), "é": {"S": ""}})


def test_transactions_over_4_mb_are_refused(memory: Backend) -> None:
    # "The aggregate size of the items in the transaction cannot exceed 4 MB":
    # https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
    with pytest.raises(ClientError) as caught:
        memory.client.transact_write_items(TransactItems=four_mb_transaction())
    assert error_code(caught) == "ValidationException"
    assert memory.memory.item_count("t") == 0
    memory.client.transact_write_items(TransactItems=four_mb_transaction()[:10])  # 3.8 MB


# -- the memory backend's own strictness (DynamoDB refuses these; so must the fake) ---------------


def test_ttl_expired_items_stay_until_swept(memory: Backend) -> None:
    store = memory.store(retention=timedelta(days=30))
    store.create_article(article(1), guid=None)
    assert memory.memory.sweep_expired(T0 + 29 * DAY) == 0
    # Deleted by the sweep only: the story, its four listing entries (all, cat, src, coin).
    assert memory.memory.sweep_expired(T0 + 31 * DAY) == 5
    assert "Item" not in memory.client.get_item(TableName="t", Key=story_key(article(1)))
    assert store.source_story_counts(["src"]) == {"src": 1}  # counts carry no expiry


def test_a_page_stopped_by_limit_carries_a_last_evaluated_key_even_at_the_end(memory: Backend) -> None:
    # "If LastEvaluatedKey is not empty, it does not necessarily mean that there is more data":
    # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Pagination.html
    # (moto returns one only when more items follow: test_contract.py records it.)
    memory.client.put_item(TableName="t", Item=raw_item(1, 100))
    page = memory.client.query(
        TableName="t", KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": {"S": "RAW#0001"}}, Limit=1
    )
    assert page["Count"] == 1 and page["LastEvaluatedKey"] == {"PK": {"S": "RAW#0001"}, "SK": {"S": "RAW"}}
    rest = memory.client.query(
        TableName="t",
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "RAW#0001"}},
        ExclusiveStartKey=page["LastEvaluatedKey"],
    )
    assert rest["Count"] == 0 and "LastEvaluatedKey" not in rest
    with pytest.raises(ClientError, match="outside query boundaries"):
        memory.client.query(
            TableName="t",
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": "RAW#0002"}},
            ExclusiveStartKey=page["LastEvaluatedKey"],
        )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"ConditionExpression": "attribute_not_exists(PK)", "ExpressionAttributeValues": {":x": {"S": "1"}}},
            "unused",
        ),
        ({"ConditionExpression": "PK = :missing"}, "not defined"),
        ({"ConditionExpression": "at = :x", "ExpressionAttributeValues": {":x": {"S": "1"}}}, "reserved keyword"),
        ({"ConditionExpression": "size(story_id) > :x", "ExpressionAttributeValues": {":x": {"N": "1"}}}, "subset"),
        ({"ConditionExpression": "story_id <> :x", "ExpressionAttributeValues": {":x": {"S": "1"}}}, "subset"),
        ({"ReturnValues": "ALL_OLD"}, "subset"),
    ],
)
def test_expressions_outside_dynamodb_rules_or_the_subset_are_refused(
    memory: Backend, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientError, match=message) as caught:
        memory.client.put_item(TableName="t", Item=raw_item(1, 100), **params)
    assert error_code(caught) == "ValidationException"


@pytest.mark.parametrize(
    "params",
    [
        {"Key": {"PK": {"S": 1}, "SK": {"S": "x"}}},  # a number where DynamoDB's JSON holds a string
        {"Key": {"PK": {"S": "x"}, "SK": {"S": "x"}}, "ConsistentRead": "yes"},  # not a boolean
        {"Key": {"PK": {"S": "x"}, "SK": {"S": "x"}}, "ProjectionExpression": 7},
    ],
)
def test_a_request_of_the_wrong_shape_is_refused_as_botocore_s_validator_refuses_it(
    memory: Backend, params: dict[str, Any]
) -> None:
    """Our DynamoDB client sends without botocore's validation (`config.client_config`), so the
    fake runs it: what a default boto3 client refused before sending still fails in every test."""
    with pytest.raises(ParamValidationError, match="Invalid type"):
        memory.client.get_item(TableName="t", **params)


def test_requests_dynamodb_refuses_are_refused(memory: Backend) -> None:
    client = memory.client
    with pytest.raises(ParamValidationError):  # not a DynamoDB parameter at all, as boto3 says
        client.get_item(TableName="t", Key=story_key(article(1)), Consistent=True)
    for bad_key in (
        {"PK": {"S": "x"}},  # the sort key is missing
        {"PK": {"N": "1"}, "SK": {"S": "x"}},  # the wrong type
        {"PK": {"S": ""}, "SK": {"S": "x"}},  # an empty key string
        {"PK": {"S": "x"}, "SK": {"S": "s" * 1025}},  # a sort key over 1,024 bytes
    ):
        with pytest.raises(ClientError) as caught:
            client.get_item(TableName="t", Key=bad_key)
        assert error_code(caught) == "ValidationException", bad_key
    writes = [{"PutRequest": {"Item": raw_item(n, 100)}} for n in range(26)]
    with pytest.raises(ClientError, match="Too many items"):
        client.batch_write_item(RequestItems={"t": writes})
    with pytest.raises(ClientError) as missing:
        client.get_item(TableName="nope", Key=story_key(article(1)))
    assert error_code(missing) == "ResourceNotFoundException"


def test_reads_return_copies_and_numbers_as_dynamodb_normalises_them(memory: Backend) -> None:
    item = {**raw_item(1, 100), "n": {"N": "0010.500"}}
    memory.client.put_item(TableName="t", Item=item)
    item["blob"]["S"] = "changed by the caller"
    read = memory.client.get_item(TableName="t", Key={"PK": {"S": "RAW#0001"}, "SK": {"S": "RAW"}})["Item"]
    assert read["n"] == {"N": "10.5"} and read["blob"]["S"] != "changed by the caller"
    read["blob"]["S"] = "changed again"
    again = memory.client.get_item(TableName="t", Key={"PK": {"S": "RAW#0001"}, "SK": {"S": "RAW"}})["Item"]
    assert again["blob"]["S"].startswith("x")


def test_the_table_is_made_from_the_template_it_is_given(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(
        TEMPLATE.read_text(encoding="utf-8").replace("AttributeName: expires_at", "AttributeName: gone_at")
    )
    client, table = memory_dynamodb_from_template(template, "other")
    described = client.describe_table(TableName=table)["Table"]
    assert [k["AttributeName"] for k in described["KeySchema"]] == ["PK", "SK"]
    old = int((T0 - DAY).timestamp())
    client.put_item(TableName=table, Item={"PK": {"S": "a"}, "SK": {"S": "a"}, "gone_at": {"N": str(old)}})
    client.put_item(TableName=table, Item={"PK": {"S": "b"}, "SK": {"S": "b"}, "expires_at": {"N": str(old)}})
    assert client.sweep_expired(T0) == 1  # the template's TTL attribute, not the usual one
    assert client.item_count(table) == 1
    store = memory_store(client=client, table_name="another")  # a table it lacks is made for it
    store.put_source_state(SourceState("s"))
    assert client.has_table("another") and store.get_source_states(["s"]) == {"s": SourceState("s")}


def test_the_table_tools_scan_and_batch_write_on_the_memory_client(memory: Backend) -> None:
    for n in range(30):
        memory.client.put_item(TableName="t", Item=raw_item(n, 200 * KB))  # 6 MB: Scan pages of 1 MB
    dumped = dump_table(memory.client, "t")
    assert [item["PK"]["S"] for item in dumped] == [f"RAW#{n:04d}" for n in range(30)]
    clear_table(memory.client, "t")
    assert dump_table(memory.client, "t") == []

"""moto as the tests use it (`devtools.moto_local`): the speed-ups keep DynamoDB's all-or-nothing
transactions, the server still routes each service's requests, and the process-wide patches
come off when their last user leaves, in whatever order users leave."""

from __future__ import annotations

import threading
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from devtools.moto_local import (
    direct_attribute_values,
    item_level_transaction_rollback,
    moto_server,
    one_request_at_a_time,
)


def _table(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def _put(pk: str, value: str, condition: str | None = None) -> dict[str, Any]:
    put: dict[str, Any] = {"TableName": "t", "Item": {"PK": {"S": pk}, "SK": {"S": "x"}, "v": {"S": value}}}
    if condition:
        put["ConditionExpression"] = condition
    return {"Put": put}


@pytest.fixture
def server() -> Any:
    server = moto_server(serialized=True)
    host, port = server.get_host_and_port()
    reset = urllib.request.Request(f"http://{host}:{port}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset, timeout=10).close()  # moto's backends are process-wide
    try:
        yield server
    finally:
        server.stop()


def _clients(server: Any) -> tuple[Any, Any]:
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    creds = {"aws_access_key_id": "local", "aws_secret_access_key": "local", "region_name": "us-east-1"}
    return boto3.client("dynamodb", endpoint_url=endpoint, **creds), boto3.client("sqs", endpoint_url=endpoint, **creds)


def test_a_cancelled_transaction_writes_nothing_and_keeps_what_was_there(server: Any) -> None:
    dynamodb, _ = _clients(server)
    _table(dynamodb)
    dynamodb.put_item(**_put("kept", "before")["Put"])
    with pytest.raises(ClientError) as raised:
        dynamodb.transact_write_items(
            TransactItems=[
                _put("new", "written first"),
                _put("kept", "overwritten"),
                _put("kept-too", "x", condition="attribute_exists(PK)"),  # fails: the whole lot is undone
            ]
        )
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    items = {i["PK"]["S"]: i["v"]["S"] for i in dynamodb.scan(TableName="t")["Items"]}
    assert items == {"kept": "before"}
    dynamodb.transact_write_items(TransactItems=[_put("new", "now"), _put("kept", "after")])
    items = {i["PK"]["S"]: i["v"]["S"] for i in dynamodb.scan(TableName="t")["Items"]}
    assert items == {"kept": "after", "new": "now"}


def test_one_server_answers_dynamodb_and_sqs_from_many_threads(server: Any) -> None:
    dynamodb, sqs = _clients(server)
    _table(dynamodb)
    queue_url = sqs.create_queue(QueueName="q")["QueueUrl"]

    def work(n: int) -> None:
        for k in range(10):
            dynamodb.put_item(**_put(f"{n}-{k}", "v")["Put"])
            sqs.send_message(QueueUrl=queue_url, MessageBody=f"{n}-{k}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert dynamodb.scan(TableName="t", Select="COUNT")["Count"] == 40
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "40"


def test_patches_come_off_when_the_last_user_leaves_in_any_order() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    transact, call_action = DynamoDBBackend.transact_write_items, DynamoHandler.call_action
    first, second, lock = item_level_transaction_rollback(), item_level_transaction_rollback(), one_request_at_a_time()
    first.__enter__()
    patched = DynamoDBBackend.transact_write_items
    assert patched is not transact
    second.__enter__()
    lock.__enter__()
    assert DynamoDBBackend.transact_write_items is patched  # installed once, not wrapped twice
    assert DynamoHandler.call_action is not call_action
    first.__exit__(None, None, None)  # not the last user: the patch stays
    assert DynamoDBBackend.transact_write_items is patched
    lock.__exit__(None, None, None)
    assert DynamoHandler.call_action is call_action
    second.__exit__(None, None, None)
    assert DynamoDBBackend.transact_write_items is transact


# -- direct_attribute_values: the same JSON as moto's own serializer --------------------------

_names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=6)
_numbers = st.one_of(
    st.integers(-(10**20), 10**20).map(str), st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str)
)
_scalars = st.one_of(
    st.text(min_size=1, max_size=20).map(lambda s: {"S": s}),
    _numbers.map(lambda n: {"N": n}),
    st.binary(min_size=1, max_size=20).map(lambda b: {"B": b}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.sets(st.text(min_size=1, max_size=8), min_size=1, max_size=4).map(lambda s: {"SS": sorted(s)}),
    st.sets(st.integers(-1000, 1000), min_size=1, max_size=4).map(lambda s: {"NS": [str(n) for n in sorted(s)]}),
    st.sets(st.binary(min_size=1, max_size=8), min_size=1, max_size=3).map(lambda s: {"BS": sorted(s)}),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: {"L": items}),
        st.dictionaries(_names, inner, max_size=3).map(lambda members: {"M": members}),
    ),
    max_leaves=8,
)


def _serialized(operation: str, result: dict[str, Any]) -> str:
    from moto.core.serialize import XFormedAttributePicker, get_serializer_class
    from moto.core.utils import get_service_model

    # What moto's responses do (`BaseResponse.serialized`, `ActionResult.execute_result`).
    model = get_service_model("dynamodb").operation_model(operation)
    serializer = get_serializer_class("dynamodb", "json")(
        operation_model=model, pretty_print=False, value_picker=XFormedAttributePicker(response_transformers=None)
    )
    return str(serializer.serialize(result)["body"])


@pytest.fixture(scope="module")
def moto_table() -> Any:
    from moto import mock_aws
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        _table(dynamodb)
        yield dynamodb, dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables["t"]


_examples = iter(range(10**9))


@settings(max_examples=60)
@given(
    attributes=st.lists(
        st.dictionaries(_names.filter(lambda n: n not in ("PK", "SK")), _values, max_size=5), min_size=1, max_size=4
    )
)
def test_attribute_values_serialize_to_the_json_moto_writes_without_the_patch(
    moto_table: Any, attributes: list[dict[str, Any]]
) -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    dynamodb, table = moto_table
    keys = [f"p{next(_examples)}" for _ in attributes]
    for key, extra in zip(keys, attributes, strict=True):
        dynamodb.put_item(TableName="t", Item={"PK": {"S": key}, "SK": {"S": "x"}, **extra})
    stored = [table.get_item(DynamoType({"S": key}), DynamoType({"S": "x"})).to_json()["Attributes"] for key in keys]
    results = {
        "Scan": {"Items": stored, "Count": len(stored), "ScannedCount": len(stored)},
        "GetItem": {"Item": stored[0]},
    }
    plain = {operation: _serialized(operation, result) for operation, result in results.items()}
    with direct_attribute_values():
        direct = {operation: _serialized(operation, result) for operation, result in results.items()}
        # The API as the SDK sees it, through the patched serializer too.
        read = dynamodb.batch_get_item(
            RequestItems={"t": {"Keys": [{"PK": {"S": key}, "SK": {"S": "x"}} for key in keys]}}
        )["Responses"]["t"]
    assert direct == plain
    assert sorted(read, key=lambda item: int(item["PK"]["S"][1:])) == [
        {"PK": {"S": key}, "SK": {"S": "x"}, **extra} for key, extra in zip(keys, attributes, strict=True)
    ]

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

from devtools.moto_local import item_level_transaction_rollback, moto_server, one_request_at_a_time


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

"""Every DynamoDB call each function makes in a real run is one template.yaml's IAM allows.

The handlers run against moto (which does not evaluate IAM), with every DynamoDB request recorded
at the client: its IAM action and the partition key of each item it names. The template's
statements are then evaluated for each as IAM would, `dynamodb:LeadingKeys` conditions included
("Using IAM policy conditions for fine-grained access control", Amazon DynamoDB Developer
Guide: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html),
so a prefix the code needs and the policy forgot fails here, not as AccessDenied in production.
The static half (each function may write exactly its declared item families) is
tests/template/test_iam_policies.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from devtools.lambda_local import api_event, drain_queue, invoke, load_event, load_handler_module
from devtools.stack import DynamoDBFactory, moto_dynamodb
from tests.e2e.conftest import Stack
from tests.iam import allowed_by_template


@pytest.fixture
def stack_dynamodb() -> DynamoDBFactory:
    """moto itself, not the memory client:
    every call is recorded through the client's botocore events and checked against the policies."""
    return moto_dynamodb


@dataclass(frozen=True)
class Access:
    function: str
    action: str  # the IAM action, e.g. "dynamodb:UpdateItem" for an Update inside a transaction
    partition_key: str


class Recorder:
    """Records every DynamoDB request a client sends, under the function currently running."""

    def __init__(self) -> None:
        self.function = "?"
        self.accesses: set[Access] = set()

    @contextmanager
    def running(self, function: str) -> Iterator[None]:
        from newsroom.sources import registry

        # Each function runs in its own execution environment: no registry read cached by another.
        registry._cache = None
        self.function = function
        try:
            yield
        finally:
            self.function = "?"

    def _add(self, action: str, key: dict[str, Any]) -> None:
        self.accesses.add(Access(self.function, f"dynamodb:{action}", key["PK"]["S"]))

    def before_call(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        operation = model.name
        if operation in {"GetItem", "DeleteItem", "UpdateItem"}:
            self._add(operation, params["Key"])
        elif operation == "PutItem":
            self._add(operation, params["Item"])
        elif operation == "Query":
            placeholder = re.search(r"\bPK\s*=\s*(:\w+)", params["KeyConditionExpression"])
            assert placeholder, params["KeyConditionExpression"]
            self._add(operation, {"PK": params["ExpressionAttributeValues"][placeholder.group(1)]})
        elif operation == "BatchGetItem":
            for table in params["RequestItems"].values():
                for key in table["Keys"]:
                    self._add(operation, key)
        elif operation == "BatchWriteItem":
            for requests in params["RequestItems"].values():
                for request in requests:
                    if "PutRequest" in request:
                        self._add(operation, request["PutRequest"]["Item"])
                    else:
                        self._add(operation, request["DeleteRequest"]["Key"])
        elif operation == "TransactWriteItems":
            # IAM authorizes each item of a transaction as its own action.
            names = {
                "Put": "PutItem",
                "Update": "UpdateItem",
                "Delete": "DeleteItem",
                "ConditionCheck": "ConditionCheckItem",
            }
            for item in params["TransactItems"]:
                ((kind, spec),) = item.items()
                self._add(names[kind], spec.get("Key") or spec["Item"])
        else:
            self.accesses.add(Access(self.function, f"dynamodb:{operation}", "<no key>"))


def _record(stack: Stack) -> Recorder:
    from newsroom.wiring import clients as runtime

    recorder = Recorder()
    runtime.dynamodb().meta.events.register("provide-client-params.dynamodb.*", recorder.before_call)
    return recorder


def test_every_dynamodb_call_of_a_whole_run_is_allowed_by_its_functions_policy(stack: Stack) -> None:
    recorder = _record(stack)
    dispatcher = load_handler_module("dispatch_sources")
    with recorder.running("DispatchSourcesFunction"):
        invoke(dispatcher, load_event("dispatch_sources_schedule"), "DispatchSourcesFunction")
    with recorder.running("FetchFeedsFunction"):
        drain_queue(
            stack.sqs,
            stack.resources.fetch_queue_url,
            stack.resources.fetch_queue_arn,
            stack.fetch,
            function_name="FetchFeedsFunction",
        )
    # A poison message too, so the processor's reject record is exercised.
    stack.sqs.send_message(QueueUrl=stack.resources.queue_url, MessageBody="not an entry")
    with recorder.running("ProcessArticlesFunction"):
        report = drain_queue(stack.sqs, stack.resources.queue_url, stack.resources.queue_arn, stack.process)
    assert report.processed > 0 and report.failed >= 1
    with recorder.running("DispatchSourcesFunction"):
        invoke(dispatcher, load_event("dispatch_sources_schedule"), "DispatchSourcesFunction")
    with recorder.running("FetchFeedsFunction"):
        drain_queue(
            stack.sqs,
            stack.resources.fetch_queue_url,
            stack.resources.fetch_queue_arn,
            stack.fetch,
            function_name="FetchFeedsFunction",
        )
    with recorder.running("FetchPricesFunction"):
        invoke(stack.prices, load_event("fetch_prices_schedule"), "FetchPricesFunction")
        invoke(stack.prices, load_event("fetch_prices_schedule"), "FetchPricesFunction")
    with recorder.running("ApiFunction"):
        listing = stack.get("/articles?limit=2")
        assert listing["statusCode"] == 200
        body = json.loads(listing["body"])
        story = body["items"][0]["id"]
        paths = [
            f"/articles?limit=2&cursor={body['next_cursor']}",
            f"/articles/{story}",
            "/articles?category=policy",
            "/articles?source=defiliban",
            "/feed.rss",
            "/feed.atom",
            "/feed.json?coin=SOL",
            "/prices",
            "/sources",
            "/health",
            "/",
            "/category/policy",
        ]
        for path in paths:
            assert stack.get(path)["statusCode"] == 200, path
        page = stack.get(f"/articles/{story}", {"Accept": "text/html"})
        assert page["statusCode"] == 200
        event = api_event("GET", f"/news/x-{story}", {"Host": "127.0.0.1:3000", "X-Forwarded-Proto": "http"})
        assert invoke(stack.api, event, "ApiFunction")["statusCode"] in (200, 301)

    functions = {a.function for a in recorder.accesses}
    assert functions == {
        "DispatchSourcesFunction",
        "FetchFeedsFunction",
        "ProcessArticlesFunction",
        "FetchPricesFunction",
        "ApiFunction",
    }
    denied = sorted(
        (a.function, a.action, a.partition_key)
        for a in recorder.accesses
        if not allowed_by_template(a.function, a.action, a.partition_key)
    )
    assert not denied, "\n".join(map(str, denied))

"""An in-process stack: moto for AWS (resources from template.yaml), the sample server for the internet."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from devtools.lambda_local import drain_queue, invoke, load_event, load_handler_module
from devtools.sample_server import SampleServer
from devtools.stack import DynamoDBFactory, local_stack, memory_dynamodb
from devtools.template import LocalResources


@dataclass
class Stack:
    resources: LocalResources
    samples: SampleServer
    dynamodb: Any
    sqs: Any
    s3: Any
    fetch: ModuleType
    process: ModuleType
    prices: ModuleType
    api: ModuleType

    def run_fetch(self) -> dict[str, int]:
        return invoke(self.fetch, load_event("fetch_feeds_schedule"), "FetchFeedsFunction")

    def drain(self) -> Any:
        return drain_queue(self.sqs, self.resources.queue_url, self.resources.queue_arn, self.process)

    def queued(self) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=self.resources.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"])

    def get(self, path: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        from devtools.lambda_local import api_event

        event = api_event("GET", path, {"Host": "127.0.0.1:3000", "X-Forwarded-Proto": "http", **(headers or {})})
        result = invoke(self.api, event, "ApiFunction")
        # API Gateway merges multiValueHeaders into the HTTP response; tests read them as one dict.
        headers = dict(result.get("headers") or {})
        headers.update({k: v[-1] for k, v in (result.get("multiValueHeaders") or {}).items() if v})
        result["headers"] = headers
        return result


@pytest.fixture
def stack_dynamodb() -> DynamoDBFactory:
    """The DynamoDB the `stack` fixture runs on: the strict in-memory client. A module that needs
    moto itself (botocore event hooks, call recording, fault injection through the client's
    events) overrides this fixture with `devtools.stack.moto_dynamodb`."""
    return memory_dynamodb


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, stack_dynamodb: DynamoDBFactory) -> Iterator[Stack]:
    with local_stack(monkeypatch.setenv, tmp_path, dynamodb=stack_dynamodb) as base:
        yield Stack(
            resources=base.resources,
            samples=base.samples,
            dynamodb=base.dynamodb,
            sqs=base.sqs,
            s3=base.s3,
            fetch=load_handler_module("fetch_feeds"),
            process=load_handler_module("process_articles"),
            prices=load_handler_module("fetch_prices"),
            api=load_handler_module("api"),
        )


@pytest.fixture
def loaded(stack: Stack) -> Stack:
    """The stack after one fetch round, the queue drained and prices fetched."""
    summary = stack.run_fetch()
    assert summary["entries"] > 0
    report = stack.drain()
    assert report.failed == 0
    invoke(stack.prices, load_event("fetch_prices_schedule"), "FetchPricesFunction")
    return stack

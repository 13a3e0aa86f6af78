"""Fan-out end to end in moto: dispatcher → FetchQueue → fetch worker → ArticleQueue → processor.

Queues come from template.yaml (FetchQueue's own settings included); feeds from the sample server.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import pytest

from devtools.lambda_local import drain_queue, invoke, load_event, load_handler_module, sqs_event
from devtools.template import _queue_attributes, load_template, resource_properties
from newsroom.core.config import load_sources, settings, source_to_json
from newsroom.fetch.fanout import raw_sources_of
from newsroom.wiring import clients as runtime
from tests.e2e.conftest import Stack


@dataclass
class FanOut:
    stack: Stack
    fetch_queue_url: str
    fetch_queue_arn: str
    dispatcher: Any

    def dispatch(self) -> dict[str, int]:
        return invoke(self.dispatcher, load_event("fetch_feeds_schedule"), "DispatchSourcesFunction")

    def run_workers(self) -> Any:
        return drain_queue(
            self.stack.sqs,
            self.fetch_queue_url,
            self.fetch_queue_arn,
            self.stack.fetch,
            function_name="FetchFeedsFunction",
        )

    def receive(self, receive_count: int = 1) -> list[dict[str, Any]]:
        """Every message on the fetch queue (ten a call), as received `receive_count` times."""
        messages: list[dict[str, Any]] = []
        while True:
            got = self.stack.sqs.receive_message(QueueUrl=self.fetch_queue_url, MaxNumberOfMessages=10)
            if not got.get("Messages"):
                return [{**m, "Attributes": {"ApproximateReceiveCount": str(receive_count)}} for m in messages]
            messages.extend(got["Messages"])

    def fetch_messages(self) -> int:
        attrs = self.stack.sqs.get_queue_attributes(
            QueueUrl=self.fetch_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"])


@pytest.fixture
def fanout(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> FanOut:
    arns: dict[str, str] = {}
    urls: dict[str, str] = {}
    for logical_id in ("FetchDeadLetterQueue", "FetchQueue"):
        attributes = _queue_attributes(resource_properties(logical_id), arns)
        urls[logical_id] = stack.sqs.create_queue(QueueName=f"newsroom-{logical_id}", Attributes=attributes)["QueueUrl"]
        arns[logical_id] = stack.sqs.get_queue_attributes(QueueUrl=urls[logical_id], AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
    monkeypatch.setenv("FETCH_QUEUE_URL", urls["FetchQueue"])
    runtime.reset()
    return FanOut(stack, urls["FetchQueue"], arns["FetchQueue"], load_handler_module("dispatch_sources"))


def test_dispatch_enqueues_due_sources_and_workers_poll_them(fanout: FanOut) -> None:
    first = fanout.dispatch()

    sources = load_sources()
    assert first == {"sources": len(sources), "due": len(sources), "disabled": 0, "not_due": 0}
    per_message = settings().fetch_sources_per_message
    assert per_message == 20
    assert fanout.fetch_messages() == math.ceil(len(sources) / per_message)  # a worker's batch a message

    workers = fanout.run_workers()
    assert workers.failed == 0
    assert fanout.stack.queued() > 0  # entries, one per message, for the processor
    processed = fanout.stack.drain()
    assert processed.failed == 0

    # Every source now has a next poll in the future: the next tick dispatches nothing.
    second = fanout.dispatch()
    assert second["due"] == 0
    assert second["not_due"] == len(sources)
    assert fanout.fetch_messages() == 0
    states = runtime.store().get_source_states([s.id for s in sources])
    assert all(state.next_poll is not None for state in states.values())
    gone = states["gone-gazette"]
    assert gone.consecutive_failures == 1 and gone.last_error and gone.last_error.startswith("http-404")


def test_registry_is_seeded_from_the_file_once_and_admin_edits_survive(fanout: FanOut) -> None:
    store = runtime.store()
    fanout.dispatch()
    registry = {s.id: s for s in store.list_sources()}
    assert set(registry) == {s.id for s in load_sources()}

    # An operator disables a source; the next dispatch neither re-seeds it nor queues it.
    from dataclasses import replace

    store.put_source(replace(registry["defiliban"], enabled=False), origin="admin")
    assert store.seed_sources(load_sources()) == 0  # same file: one GetItem, nothing written
    report = fanout.dispatch()
    assert report["disabled"] == 1
    assert store.get_source("defiliban") is not None
    assert not store.get_source("defiliban").enabled  # type: ignore[union-attr]


def test_a_duplicate_delivery_does_not_poll_twice(fanout: FanOut) -> None:
    fanout.dispatch()
    messages = fanout.receive()
    event = sqs_event(messages, fanout.fetch_queue_arn)

    first = invoke(fanout.stack.fetch, event, "FetchFeedsFunction")
    again = invoke(fanout.stack.fetch, event, "FetchFeedsFunction")  # SQS is at-least-once

    named = sum(len(raw_sources_of(m["Body"])[0]) for m in messages)
    assert named == len(load_sources()) > len(messages)
    assert first["ok"] + first["failed"] == named
    assert again["ok"] == again["failed"] == again["entries"] == 0


def test_an_unreadable_fetch_message_fails_alone(fanout: FanOut) -> None:
    fanout.dispatch()
    messages = fanout.receive()
    poison = {**messages[0], "MessageId": "poison-1", "Body": "{not json"}
    event = sqs_event([*messages, poison], fanout.fetch_queue_arn)

    result = invoke(fanout.stack.fetch, event, "FetchFeedsFunction")

    assert result["batchItemFailures"] == [{"itemIdentifier": "poison-1"}]
    assert result["ok"] >= 1


def test_a_message_of_several_received_again_is_halved_until_a_poison_source_is_alone(fanout: FanOut) -> None:
    """Its invocation failed once (a crash, a timeout, a throttle): the second time, it is sent
    back in two halves and none of its sources is polled; halves received again are halved in
    turn, and a message of one source is polled (or fails) on its own."""
    fanout.dispatch()
    (message,) = fanout.receive(receive_count=2)
    sources, _ = raw_sources_of(message["Body"])
    assert len(sources) == 4

    result = invoke(fanout.stack.fetch, sqs_event([message], fanout.fetch_queue_arn), "FetchFeedsFunction")

    assert result["batchItemFailures"] == []  # sent back: the message itself is done
    assert result["ok"] == result["failed"] == result["entries"] == 0  # nothing polled
    halves = fanout.receive(receive_count=2)
    assert sorted(len(raw_sources_of(m["Body"])[0]) for m in halves) == [2, 2]
    for half in halves:
        again = invoke(fanout.stack.fetch, sqs_event([half], fanout.fetch_queue_arn), "FetchFeedsFunction")
        assert again["batchItemFailures"] == [] and again["ok"] + again["failed"] == 0
    quarters = fanout.receive(receive_count=2)
    assert sorted(len(raw_sources_of(m["Body"])[0]) for m in quarters) == [1, 1, 1, 1]
    everything = [s for m in quarters for s in raw_sources_of(m["Body"])[0]]
    assert sorted(json.dumps(x, sort_keys=True) for x in everything) == sorted(
        json.dumps(x, sort_keys=True) for x in sources
    )
    polled = invoke(fanout.stack.fetch, sqs_event(quarters, fanout.fetch_queue_arn), "FetchFeedsFunction")
    assert polled["ok"] + polled["failed"] == 4  # a message of one is polled however often received


def test_an_unreadable_source_in_a_message_of_several_is_sent_back_alone(fanout: FanOut) -> None:
    sources = load_sources()[:2]
    body = json.dumps({"sources": [source_to_json(sources[0]), {"id": 7}, source_to_json(sources[1])]})
    message = {"MessageId": "several", "ReceiptHandle": "r", "Body": body}

    result = invoke(fanout.stack.fetch, sqs_event([message], fanout.fetch_queue_arn), "FetchFeedsFunction")

    assert result["batchItemFailures"] == []
    assert result["ok"] + result["failed"] == 2  # its readable sources were polled
    (alone,) = fanout.receive()
    assert raw_sources_of(alone["Body"])[0] == [{"id": 7}]
    again = invoke(fanout.stack.fetch, sqs_event([alone], fanout.fetch_queue_arn), "FetchFeedsFunction")
    assert again["batchItemFailures"] == [{"itemIdentifier": alone["MessageId"]}]  # to the DLQ, alone


def test_a_message_queued_before_several_sources_a_message_is_still_read(fanout: FanOut) -> None:
    source = load_sources()[0]
    body = json.dumps({"source": source_to_json(source), "dispatched_at": "2026-12-03T20:00:00Z"})
    message = {"MessageId": "old", "ReceiptHandle": "r", "Body": body}

    result = invoke(fanout.stack.fetch, sqs_event([message], fanout.fetch_queue_arn), "FetchFeedsFunction")

    assert result["batchItemFailures"] == []
    assert result["ok"] + result["failed"] == 1


def test_template_wires_the_dispatcher_the_queue_and_the_worker() -> None:
    resources = load_template()["Resources"]
    worker_events = resources["FetchFeedsFunction"]["Properties"]["Events"]
    (event,) = worker_events.values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["Queue"] == {"Fn::GetAtt": ["FetchQueue", "Arn"]}
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    worker_timeout = resources["FetchFeedsFunction"]["Properties"]["Timeout"]
    assert resources["FetchQueue"]["Properties"]["VisibilityTimeout"] >= 6 * worker_timeout
    dispatcher = resources["DispatchSourcesFunction"]["Properties"]
    assert dispatcher["Environment"]["Variables"]["FETCH_QUEUE_URL"] == {"Ref": "FetchQueue"}
    # A new message format reaches a worker that reads it: the worker is updated first.
    assert resources["DispatchSourcesFunction"]["DependsOn"] == "FetchFeedsFunction"
    # The worker splits a message received again onto the same queue.
    worker = resources["FetchFeedsFunction"]["Properties"]
    assert worker["Environment"]["Variables"]["FETCH_QUEUE_URL"] == {"Ref": "FetchQueue"}
    assert {"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": ["FetchQueue", "QueueName"]}}} in worker["Policies"]
    assert dispatcher["Events"]["Schedule"]["Type"] == "Schedule"

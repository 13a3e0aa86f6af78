"""No partial result is silent: DynamoDB leaving keys in `UnprocessedKeys` for good.

`AwsFaults(hold_keys=...)` keeps the items it names unprocessed however often they are asked
for (the rest of each batch is answered), as a hot partition or a response past BatchGetItem's
16 MB would. Each caller must treat "not read" as "not known", never as "absent":

- the fetcher fails that source's message for a retry; its stored state (a 410 that disabled
  it, its validators) is neither polled as a new source's nor overwritten;
- the processor fails that message, which SQS delivers again; once the read goes through, the
  copy is still found as a duplicate of its original;
- the API answers 503 problem+json with Retry-After and no-store, never a feed item without
  its body or a source without its state.

Guards: `batches.batch_get` raising `StoreIncomplete`, `fetch.apply.fetch_all`'s unread-state
branch, the fetch handler's failure of retry messages, and `api.build_resolver`'s handler.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from devtools.faults import AwsFaults, detach_all
from devtools.lambda_local import invoke, sqs_event
from devtools.stack import DynamoDBFactory, moto_dynamodb
from newsroom.core.codec import entry_from_message, entry_to_message
from newsroom.core.config import load_sources
from newsroom.core.models import SourceState
from newsroom.fetch.fanout import sources_message
from newsroom.wiring import clients as runtime

from .conftest import Stack
from .reliability import fast_backoff, sample_messages  # noqa: F401


@pytest.fixture
def stack_dynamodb() -> DynamoDBFactory:
    """moto itself, not the memory client:
    unprocessed keys are injected through the client's botocore events."""
    return moto_dynamodb


pytestmark = pytest.mark.usefixtures("fast_backoff")

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)


def hold(predicate: Callable[[str], bool]) -> AwsFaults:
    return AwsFaults(1, hold_keys=predicate).attach(runtime.dynamodb())


def gone_state(source_id: str, feed_url: str) -> SourceState:
    return SourceState(
        source_id,
        etag='"v7"',
        last_modified="Sun, 31 May 2026 08:00:00 GMT",
        last_attempt=NOW,
        last_error="http-410: HTTP 410 Gone",
        last_error_at=NOW,
        consecutive_failures=1,
        last_status=410,
        feed_url_for=feed_url,
        disabled=True,
        disabled_reason="http-410: HTTP 410 Gone",
        seen=b"\x01" * 16,
    )


def test_a_source_whose_state_is_left_unread_is_retried_and_stays_disabled(stack: Stack) -> None:
    sources = {s.id: s for s in load_sources()}
    gone, other = sources["defiliban"], sources["blockledger"]
    store = runtime.store()
    disabled = gone_state(gone.id, gone.feed_url)
    store.put_source_state(disabled)
    faults = hold(lambda name: name == f"STATES|{gone.id}")

    # The fetch worker, given the disabled source (a stale or duplicate dispatch) and another.
    messages = [
        {"MessageId": "m-gone", "ReceiptHandle": "r1", "Body": sources_message([gone], NOW)},
        {"MessageId": "m-other", "ReceiptHandle": "r2", "Body": sources_message([other], NOW)},
    ]
    result = invoke(stack.fetch, sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:fetch"), "FetchFeedsFunction")
    assert result["batchItemFailures"] == [{"itemIdentifier": "m-gone"}]
    assert result["ok"] == 1 and result["failed"] == 1

    # A schedule event polls every source: the same source fails again, for a later round.
    summary = stack.run_fetch()
    assert summary["failed"] == 2  # that source, and the sample source that is 404
    assert faults.counts["Unprocessed"] > 0

    detach_all(runtime.dynamodb(), faults)
    assert store.get_source_states([gone.id]) == {gone.id: disabled}  # not polled, not overwritten


def test_in_a_message_of_several_a_source_whose_state_is_left_unread_is_sent_back_alone(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The message is not failed (its other sources were polled, and a retry would poll them
    again): the source DynamoDB left unread goes back to the fetch queue in a message of its own."""
    fetch_queue = stack.sqs.create_queue(QueueName="split-back")["QueueUrl"]
    monkeypatch.setenv("FETCH_QUEUE_URL", fetch_queue)
    runtime.reset()
    sources = {s.id: s for s in load_sources()}
    held, other = sources["defiliban"], sources["blockledger"]
    runtime.store().put_source_state(gone_state(held.id, held.feed_url))
    faults = hold(lambda name: name == f"STATES|{held.id}")

    message = {"MessageId": "m-two", "ReceiptHandle": "r", "Body": sources_message([held, other], NOW)}
    result = invoke(stack.fetch, sqs_event([message], "arn:aws:sqs:us-east-1:123456789012:fetch"), "FetchFeedsFunction")

    assert result["batchItemFailures"] == []
    assert result["ok"] == 1 and result["failed"] == 1  # the other polled; the held one not
    assert faults.counts["Unprocessed"] > 0
    detach_all(runtime.dynamodb(), faults)
    (back,) = stack.sqs.receive_message(QueueUrl=fetch_queue, MaxNumberOfMessages=10)["Messages"]
    assert [raw["id"] for raw in json.loads(back["Body"])["sources"]] == [held.id]


def test_a_copy_whose_fingerprints_are_left_unread_fails_then_is_found_as_a_duplicate(stack: Stack) -> None:
    original = next(m for m in sample_messages() if json.loads(m)["source_id"] == "defiliban")
    entry = entry_from_message(original)
    # The same article under another site's URL, naming nothing: only its content finds it.
    copy = replace(entry, source_id="blockledger", link="https://blockledger.example/news/copied", guid="copied")
    first = invoke(
        stack.process,
        sqs_event([{"MessageId": "orig", "ReceiptHandle": "r", "Body": original}], stack.resources.queue_arn),
        "ProcessArticlesFunction",
    )
    assert first == {"batchItemFailures": []}

    faults = hold(lambda name: name.startswith("FP#m#"))  # the content sketch; the URL alias is read
    event = sqs_event(
        [{"MessageId": "copy", "ReceiptHandle": "r", "Body": entry_to_message(copy)}], stack.resources.queue_arn
    )
    with pytest.raises(Exception, match="unprocessed"):  # Powertools fails a batch whose every record failed
        invoke(stack.process, event, "ProcessArticlesFunction")
    reject = runtime.rejects().get_reject("copy")
    assert reject is not None and reject.error_type == "StoreIncomplete" and not reject.permanent
    assert faults.counts["Unprocessed"] > 0

    detach_all(runtime.dynamodb(), faults)
    again = invoke(stack.process, event, "ProcessArticlesFunction")  # SQS's redelivery
    assert again == {"batchItemFailures": []}
    items = json.loads(stack.get("/articles")["body"])["items"]
    assert len(items) == 1, "the copy became a second story"
    story = json.loads(stack.get(f"/articles/{items[0]['id']}")["body"])
    assert [c["source_id"] for c in story["copies"]] == ["blockledger"]


def test_the_api_answers_503_rather_than_a_feed_item_without_its_body(loaded: Stack) -> None:
    items = json.loads(loaded.get("/articles")["body"])["items"]
    assert len(items) > 1
    held = items[1]["id"]
    faults = hold(lambda name: name == f"ART#{held}|ART")

    for path in ("/feed.json", "/feed.rss", "/feed.atom"):
        response = loaded.get(path)
        assert response["statusCode"] == 503, path
        headers = {k.lower(): v for k, v in response["headers"].items()}
        assert headers["content-type"] == "application/problem+json"
        assert headers["cache-control"] == "no-store"
        assert int(headers["retry-after"]) > 0
        problem = json.loads(response["body"])
        assert problem["status"] == 503 and problem["title"] == "Service Unavailable"

    detach_all(runtime.dynamodb(), faults)
    feed = json.loads(loaded.get("/feed.json")["body"])
    assert all(item.get("content_html") for item in feed["items"])


def test_the_sources_page_answers_503_rather_than_a_source_without_its_state(loaded: Stack) -> None:
    hold(lambda name: name == "STATES|defiliban")
    response = loaded.get("/sources")
    assert response["statusCode"] == 503
    assert {k.lower(): v for k, v in response["headers"].items()}["cache-control"] == "no-store"


def test_the_dispatcher_fails_its_tick_and_leaves_its_clock(stack: Stack) -> None:
    """The states are one Query (issue 18); a state still in its legacy item (before
    `devtools.migrate_states`) is a BatchGetItem. Either left undone fails the tick."""
    from botocore.exceptions import ClientError

    from newsroom.fetch.fanout import dispatch
    from newsroom.store.batches import StoreIncomplete
    from newsroom.store.sources import _state_to_item

    store = runtime.store()
    gone = next(s for s in load_sources() if s.id == "defiliban")
    legacy = {
        **_state_to_item(gone_state(gone.id, gone.feed_url)),
        "PK": {"S": f"SOURCE#{gone.id}"},
        "SK": {"S": "STATE"},
    }
    stack.dynamodb.put_item(TableName=stack.resources.table_name, Item=legacy)
    store.put_dispatch_clock(NOW)
    faults = hold(lambda name: name == f"SOURCE#{gone.id}|STATE")
    with pytest.raises(StoreIncomplete):
        dispatch(store, stack.sqs, stack.resources.fetch_queue_url, now=NOW.replace(hour=10))
    detach_all(runtime.dynamodb(), faults)

    store.put_source_state(gone_state(gone.id, gone.feed_url))
    throttled = AwsFaults(1, throttle_rate=1.0, throttled_operations=frozenset({"Query"}))
    registry = store.list_sources()  # the registry's Query goes through; the states' does not
    throttled.attach(runtime.dynamodb())
    with pytest.raises(ClientError, match=r"Throttl|ProvisionedThroughput"):
        dispatch(store, stack.sqs, stack.resources.fetch_queue_url, now=NOW.replace(hour=10), sources=registry)
    detach_all(runtime.dynamodb(), throttled)
    assert sum(throttled.counts.values()) > 1  # the states' Query, and botocore's retries of it

    assert store.get_dispatch_clock() == NOW  # the next tick's window covers this one
    attrs = stack.sqs.get_queue_attributes(
        QueueUrl=stack.resources.fetch_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "0"  # nothing dispatched, the gone source least of all

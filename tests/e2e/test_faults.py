"""Faults: poison messages, DynamoDB throttling, crashes midway through a batch.

Each test names the defence it guards; removing that defence makes it fail.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devtools import replay_dlq
from devtools.faults import AwsFaults, CrashAt, WriteCounter, clear_table, detach_all, diff_dumps, story_items
from devtools.faults import dump_table as dump
from devtools.lambda_local import invoke, load_event
from devtools.stack import DynamoDBFactory, memory_dynamodb, moto_dynamodb
from devtools.template import resource_properties
from newsroom.store.documents import load_doc
from newsroom.wiring import clients as runtime

from .conftest import Stack
from .reliability import deliver, fast_backoff, pinned_clock, queue_messages, sample_messages, send_all  # noqa: F401


@pytest.fixture
def stack_dynamodb() -> DynamoDBFactory:
    """moto itself, not the memory client: random faults are injected under botocore, where its
    retry handler sees them (`AwsFaults`)."""
    return moto_dynamodb


pytestmark = pytest.mark.usefixtures("fast_backoff", "pinned_clock")


def stories(stack: Stack) -> list[dict[str, Any]]:
    return story_items(dump(stack.dynamodb, stack.resources.table_name))


def run_clean(stack: Stack, bodies: list[str], batch_size: int = 3) -> list[dict[str, Any]]:
    send_all(stack.sqs, stack.resources.queue_url, bodies)
    report = deliver(
        stack.sqs, stack.resources.queue_url, stack.resources.queue_arn, stack.process, batch_size=batch_size
    )
    assert not report.failed and not report.died
    return dump(stack.dynamodb, stack.resources.table_name)


# -- 1. poison message → rejects record → dead-letter queue → replay -------------------------


def test_poison_message_is_recorded_dead_lettered_and_replayable(stack: Stack, tmp_path: Path) -> None:
    """Guards: the processor's record_handler writing `REJECT#<message id>` before re-raising,
    partial batch responses (one poison record fails alone), the template's RedrivePolicy, and
    `devtools.replay_dlq` re-driving from the DLQ using the rejects record."""
    good = sample_messages()
    unknown = good[0].replace('"source_id":"defiliban"', '"source_id":"newcomer"')
    assert unknown != good[0]
    ids = send_all(stack.sqs, stack.resources.queue_url, [good[1], "{not json", unknown, good[2]])
    poison_id, unknown_id = ids[1], ids[2]

    report = deliver(stack.sqs, stack.resources.queue_url, stack.resources.queue_arn, stack.process)

    max_receives = int(resource_properties("ArticleQueue")["RedrivePolicy"]["maxReceiveCount"])
    # Each bad message failed alone, once per delivery, until SQS moved it to the DLQ.
    assert report.failed == {poison_id: max_receives, unknown_id: max_receives}
    # The good records of the mixed first batch were acknowledged at once, never held hostage.
    # (Later batches hold only bad records; Powertools then fails the whole invocation, which
    # returns every record to the queue just the same.)
    assert report.succeeded == {ids[0]: 1, ids[3]: 1}
    assert len(stories(stack)) == 2
    dead = {m["MessageId"]: m for m in queue_messages(stack.sqs, stack.resources.dead_letter_queue_url)}
    assert set(dead) == {poison_id, unknown_id}

    rejects = runtime.rejects()
    poison = rejects.get_reject(poison_id)
    assert poison is not None
    assert poison.error_type == "MessageError" and "malformed entry message" in poison.reason
    assert poison.permanent and poison.receive_count == max_receives
    assert poison.source_id is None
    orphan = rejects.get_reject(unknown_id)
    assert orphan is not None
    assert orphan.error_type == "UnknownSourceError" and "newcomer" in orphan.reason
    assert orphan.source_id == "newcomer" and orphan.link

    # Listing names each dead message with its reason and moves nothing.
    assert (
        replay_dlq.main(["--queue-url", stack.resources.queue_url, "--dlq-url", stack.resources.dead_letter_queue_url])
        == 0
    )
    assert len(queue_messages(stack.sqs, stack.resources.dead_letter_queue_url)) == 2

    # The operator adds the missing source, then replays only what failed for that reason.
    sources_file = Path(runtime.settings().sources_file or "")
    config = json.loads(sources_file.read_text())
    config["sources"].append({**config["sources"][0], "id": "newcomer", "name": "Newcomer", "aliases": []})
    sources_file.write_text(json.dumps(config))
    runtime.reset()
    argv = ["--queue-url", stack.resources.queue_url, "--dlq-url", stack.resources.dead_letter_queue_url]
    assert replay_dlq.main([*argv, "--replay", "--match", "unknown source"]) == 0

    assert [m["MessageId"] for m in queue_messages(stack.sqs, stack.resources.dead_letter_queue_url)] == [poison_id]
    assert runtime.rejects().get_reject(unknown_id) is None  # moved back: no longer a reject
    again = deliver(stack.sqs, stack.resources.queue_url, stack.resources.queue_arn, stack.process)
    assert sum(again.succeeded.values()) == 1 and not again.failed
    assert [load_doc(i["doc"])["source_id"] for i in stories(stack)].count("newcomer") == 1


# -- 2. throttling and unprocessed items, at random, lose nothing ---------------------------------


def test_random_throttling_and_unprocessed_items_lose_nothing(stack: Stack, fast_backoff: list[float]) -> None:  # noqa: F811
    """Guards: botocore "standard" retries (config.client_config), the storage's retry of a
    transaction cancelled for throttling, and the UnprocessedItems / UnprocessedKeys loops of
    batch writes and reads. Without any of them a record fails, a source is not recorded or a
    price is missing."""
    bodies = sample_messages()
    clean = run_clean(stack, bodies)
    clear_table(stack.dynamodb, stack.resources.table_name)

    faults = AwsFaults(20260531, throttle_rate=0.3, cancel_rate=0.3, unprocessed_rate=0.6).attach(runtime.dynamodb())
    send_all(stack.sqs, stack.resources.queue_url, bodies)
    report = deliver(stack.sqs, stack.resources.queue_url, stack.resources.queue_arn, stack.process, batch_size=3)
    assert not report.failed and not report.died, "a throttle surfaced as a failed record"
    faulty = dump(stack.dynamodb, stack.resources.table_name)
    assert diff_dumps(clean, faulty) == ""
    assert faulty == clean

    # The fetcher (batch-read source states, write each) and the price writer (BatchWriteItem).
    summary = stack.run_fetch()
    assert summary["sources"] == 4 and summary["failed"] == 1  # only the sample source that is gone
    states = [i for i in dump(stack.dynamodb, stack.resources.table_name) if i["PK"]["S"] == "STATES"]
    assert len(states) == 4
    invoke(stack.prices, load_event("fetch_prices_schedule"), "FetchPricesFunction")
    items = dump(stack.dynamodb, stack.resources.table_name)
    prices = [i for i in items if i["PK"]["S"] == "PRICES"]
    assert len([i for i in prices if not i["SK"]["S"].startswith("PROVIDER#")]) == 6
    assert {i["SK"]["S"] for i in prices if i["SK"]["S"].startswith("PROVIDER#")} == {"PROVIDER#coingecko"}
    assert len([i for i in items if i["PK"]["S"].startswith("PRICEHIST#")]) == 6

    # The run really was hostile: every kind of fault happened, and retries backed off.
    assert faults.counts["ProvisionedThroughputExceededException"] > 0
    assert faults.counts["ThrottlingException"] > 0
    assert faults.counts["TransactionCanceledException(ThrottlingError)"] > 0
    assert faults.counts["Unprocessed"] > 0
    assert len(fast_backoff) > 5


def test_throttled_transaction_is_retried_not_failed(stack: Stack) -> None:
    """Guards: storage's retry of `TransactionCanceledException` whose reasons are only throttling
    (botocore cannot retry it: the call itself succeeded with a cancellation)."""
    faults = AwsFaults(7, cancel_rate=1.0).attach(runtime.dynamodb())
    send_all(stack.sqs, stack.resources.queue_url, sample_messages()[:1])

    def stop_after_two(**_: Any) -> None:
        if faults.counts["TransactionCanceledException(ThrottlingError)"] >= 2:
            faults.cancel_rate = 0.0

    runtime.dynamodb().meta.events.register("after-call.dynamodb.TransactWriteItems", stop_after_two)
    report = deliver(stack.sqs, stack.resources.queue_url, stack.resources.queue_arn, stack.process)
    assert not report.failed, "a throttled transaction failed its record"
    assert faults.counts["TransactionCanceledException(ThrottlingError)"] == 2
    assert len(stories(stack)) == 1


# -- 3. a processor that dies midway, re-run, equals one clean run ----------------------------


def crash_then_rerun(stack: Stack, after: bool, *, sweep: bool) -> None:
    """A clean run, then the same batch crashed at every write (`sweep`) or at the middle one,
    each crash followed by the redelivery that finishes it; the whole table is compared."""
    bodies = sample_messages()
    counter = WriteCounter().attach(runtime.dynamodb())
    clean = run_clean(stack, bodies)
    detach_all(runtime.dynamodb(), counter)
    assert counter.writes >= len(bodies) - 2  # at least one write per story

    for at in range(1, counter.writes + 1) if sweep else [(counter.writes + 1) // 2]:
        clear_table(stack.dynamodb, stack.resources.table_name)
        crash = CrashAt(at, after=after).attach(runtime.dynamodb())
        send_all(stack.sqs, stack.resources.queue_url, bodies)
        report = deliver(stack.sqs, stack.resources.queue_url, stack.resources.queue_arn, stack.process, batch_size=3)
        detach_all(runtime.dynamodb(), crash)
        assert crash.crashed and report.died == 1
        state = dump(stack.dynamodb, stack.resources.table_name)
        assert state == clean, f"crash {'after' if after else 'before'} write {at}:\n{diff_dumps(clean, state)}"


# The sweep runs on the strict in-memory DynamoDB, whose call events carry botocore's names and
# order: it re-runs the batch once per write, and moto's transactions copy the whole table (4 s a
# direction there, under 1 s here). The memory store is held to DynamoDB's transaction and
# condition rules by the contract suite (tests/store/test_contract.py), on moto and on itself;
# the test after it crashes moto's real client once in each direction.
@pytest.mark.parametrize("stack_dynamodb", [memory_dynamodb], ids=["memory"])
@pytest.mark.parametrize("after", [False, True], ids=["before-write", "after-write"])
def test_crash_midway_then_rerun_equals_one_clean_run(stack: Stack, after: bool) -> None:
    """Guards: one transaction per story change (a crash never leaves a story without its
    listings or GUID claim) and idempotent ingest (re-processing what was written changes
    nothing). Sweeps the crash over every write of the run; the whole table is compared."""
    crash_then_rerun(stack, after, sweep=True)


@pytest.mark.parametrize("after", [False, True], ids=["before-write", "after-write"])
def test_a_crash_through_moto_s_client_then_rerun_equals_one_clean_run(stack: Stack, after: bool) -> None:
    """The same guard through botocore's own client and retry machinery on moto, at the run's
    middle write."""
    crash_then_rerun(stack, after, sweep=False)


def test_failed_record_then_success_leaves_no_reject(stack: Stack) -> None:
    """Guards: `clear_reject` — a message that failed (its reject recorded) and then succeeded on
    redelivery leaves exactly the table of one clean run, with no stale `REJECT#` item."""
    bodies = sample_messages()
    clean = run_clean(stack, bodies)
    clear_table(stack.dynamodb, stack.resources.table_name)

    crash = CrashAt(3, after=False, error=RuntimeError).attach(runtime.dynamodb())
    send_all(stack.sqs, stack.resources.queue_url, bodies)
    report = deliver(stack.sqs, stack.resources.queue_url, stack.resources.queue_arn, stack.process, batch_size=3)
    assert crash.crashed and sum(report.failed.values()) == 1 and report.died == 0
    state = dump(stack.dynamodb, stack.resources.table_name)
    assert not [i for i in state if i["PK"]["S"].startswith("REJECT#")]
    assert state == clean, diff_dumps(clean, state)


# -- poison entries that were not poison (issue 14) ---------------------------------------------


def test_hostile_sizes_and_dates_are_stored_or_rejected_once_never_retried_into_the_dlq(stack: Stack) -> None:
    """Guards: `EntryLimits` applied in `build_article` (a 5 MB title is cut, not a 400 KB
    DynamoDB item overflow retried five times), `iso` writing year 1 as "0001" (it read back as
    an error forever), and `EntryRejected` being recorded as a permanent reject and acknowledged
    instead of retried."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from newsroom.core.codec import entry_from_message
    from newsroom.fetch.queue import send_entries

    first, second, third = (entry_from_message(body) for body in sample_messages()[:3])
    huge_title = replace(first, title="Bitcoin " + "rallies again " * 400_000)
    year_one = replace(second, published=datetime(1, 1, 1, tzinfo=UTC), updated=None)
    unstorable = replace(third, link=third.link + "?" + "a" * 150_000, guid="g" * 150_000)
    entries = [huge_title, year_one, unstorable]
    send_entries(stack.sqs, stack.resources.queue_url, entries, bucket=runtime.entry_bucket())

    report = deliver(stack.sqs, stack.resources.queue_url, stack.resources.queue_arn, stack.process)

    assert not report.failed and not report.died
    assert sum(report.succeeded.values()) == 3
    assert queue_messages(stack.sqs, stack.resources.dead_letter_queue_url) == []
    docs = {load_doc(i["doc"])["url"]: load_doc(i["doc"]) for i in stories(stack)}
    assert len(docs) == 2
    assert docs[huge_title.link]["input_cuts"] == ["title"] and len(docs[huge_title.link]["title"]) <= 500
    assert docs[year_one.link]["published"] == "0001-01-01T00:00:00Z"
    rejects = [i for i in dump(stack.dynamodb, stack.resources.table_name) if i["PK"]["S"].startswith("REJECT#")]
    assert len(rejects) == 1
    reject = json.loads(rejects[0]["doc"]["S"])
    assert reject["permanent"] and reject["error_type"] == "EntryRejected" and "too-large" in reject["reason"]

"""Replays: any processed batch, replayed any number of times in any order, changes nothing.

Guards: idempotent ingest — the GUID claim and the story id derived from the canonical URL
(the same entry always lands on the same item), `merge` answering UNCHANGED for an entry it
has seen (no write at all, so no version bump), and copies attached once per (source, URL).
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import pytest

from devtools.faults import diff_dumps, story_items
from devtools.faults import dump_table as dump
from devtools.lambda_local import invoke, sqs_event
from newsroom.core.codec import entry_from_message, entry_to_message
from newsroom.store.documents import load_doc

from .conftest import Stack
from .reliability import FETCHED_AT, pinned_clock, sample_messages  # noqa: F401

pytestmark = pytest.mark.usefixtures("pinned_clock")


def process_batch(stack: Stack, batch: list[str], tag: str) -> dict[str, object]:
    event = sqs_event(
        [{"MessageId": f"{tag}-{i}", "ReceiptHandle": f"r-{tag}-{i}", "Body": body} for i, body in enumerate(batch)],
        stack.resources.queue_arn,
    )
    result = invoke(stack.process, event, "ProcessArticlesFunction")
    assert result == {"batchItemFailures": []}
    return result


def history() -> list[list[str]]:
    """A realistic sequence of batches: originals, syndicated copies, a correction, a repeat."""
    messages = sample_messages()
    entries = [entry_from_message(m) for m in messages]
    originals = [m for m, e in zip(messages, entries, strict=True) if e.source_id != "cryptowire"]
    copies = [m for m, e in zip(messages, entries, strict=True) if e.source_id == "cryptowire"]
    first = next(e for e in entries if e.source_id == "blockledger")
    corrected = replace(
        first,
        title=first.title + " (updated)",
        content_html=first.content_html + "<p>Correction: an earlier version misstated a figure.</p>",
        fetched_at=FETCHED_AT + timedelta(hours=2),
    )
    return [
        copies[:1],  # a copy first: its original arrives later and takes over the story
        originals,
        copies,
        [entry_to_message(corrected)],
        originals[:2] + copies[:1],  # the feed polled again: all seen before
    ]


def test_replaying_processed_batches_leaves_the_table_identical(stack: Stack) -> None:
    batches = history()
    for n, batch in enumerate(batches):
        process_batch(stack, batch, f"b{n}")
    settled = dump(stack.dynamodb, stack.resources.table_name)
    assert any(load_doc(i["doc"]).get("copies") for i in story_items(settled))

    # Replay batches that are still current (every batch but the one the correction superseded).
    rng = random.Random(6)
    replayable = [n for n in range(len(batches))]
    for round_no in range(12):
        n = rng.choice(replayable)
        for _ in range(rng.randint(1, 3)):
            process_batch(stack, batches[n], f"replay{round_no}-b{n}")
        state = dump(stack.dynamodb, stack.resources.table_name)
        assert state == settled, f"replaying batch {n} changed the table:\n{diff_dumps(settled, state)}"


def test_same_entry_in_two_batches_is_stored_once(stack: Stack) -> None:
    messages = sample_messages()
    process_batch(stack, messages, "first")
    once = dump(stack.dynamodb, stack.resources.table_name)
    # At-least-once delivery: the same messages again, split differently, duplicated within a batch.
    process_batch(stack, messages[:3] + messages[:3], "again-a")
    process_batch(stack, list(reversed(messages)), "again-b")
    assert dump(stack.dynamodb, stack.resources.table_name) == once

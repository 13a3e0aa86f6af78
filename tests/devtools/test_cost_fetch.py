"""How `make cost` bills a poll's network wait and the fetch queue's calls: from the batch and
concurrency template.yaml deploys, not a figure of its own."""

from __future__ import annotations

from dataclasses import replace

import pytest

from devtools import cost
from devtools.template import load_template

TEMPLATE = load_template(cost.ROOT / "template.yaml")


def test_the_model_reads_the_fetch_batch_and_concurrency_from_the_template() -> None:
    event = TEMPLATE["Resources"]["FetchFeedsFunction"]["Properties"]["Events"]["DueSources"]["Properties"]
    dispatcher = TEMPLATE["Resources"]["DispatchSourcesFunction"]["Properties"]["Environment"]["Variables"]
    a = cost.Assumptions()
    assert a.fetch_messages_per_invocation == int(event["BatchSize"])
    assert a.sources_per_fetch_message == int(dispatcher["FETCH_SOURCES_PER_MESSAGE"])
    assert a.sources_per_fetch_invocation == a.fetch_messages_per_invocation * a.sources_per_fetch_message
    assert a.fetch_concurrency == int(TEMPLATE["Parameters"]["FetchConcurrency"]["Default"])


def _batch(a: cost.Assumptions, sources: int, **changes: object) -> cost.Assumptions:
    """`a` with one message of `sources` sources an invocation."""
    return replace(a, fetch_messages_per_invocation=1, sources_per_fetch_message=sources, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("batch", "concurrency", "latencies_a_poll"),
    [
        (10, 16, 1 / 10),  # what the model billed 1/16 of: a batch of 10 waits one latency for 10
        (16, 16, 1 / 16),
        (32, 16, 2 / 32),
        (17, 16, 2 / 17),
    ],
)
def test_a_poll_is_billed_its_batch_s_waits_shared_by_its_sources(
    batch: int, concurrency: int, latencies_a_poll: float
) -> None:
    a = _batch(cost.Assumptions(), batch, fetch_concurrency=concurrency)
    assert cost.feed_wait_per_poll(a) == pytest.approx(a.feed_latency_s * latencies_a_poll)


@pytest.mark.parametrize(("batch", "calls_a_batch"), [(10, 1), (16, 2), (20, 2), (21, 3)])
def test_a_batch_of_fetch_messages_is_received_and_deleted_ten_a_call_at_most(batch: int, calls_a_batch: int) -> None:
    """One source a message (the design until issue 18's evening stop of 2026-12-03)."""
    a = replace(cost.Assumptions(), fetch_messages_per_invocation=batch, sources_per_fetch_message=1)
    polls = 1_000_000.0 * cost.ROUNDS_PER_MONTH  # a whole number of sources a tick
    month = cost.dispatcher_month(0, polls, a, state_bytes=944, dispatch_mb=256)
    sends, receives_and_deletes = polls / 10, 2 * polls / batch * calls_a_batch
    assert month.sqs_requests == pytest.approx(sends + receives_and_deletes + 2 * a.idle_sqs_requests_per_queue)


@pytest.mark.parametrize(
    ("due_a_tick", "per_message", "messages_a_tick"), [(20, 20, 1), (21, 20, 2), (45, 20, 3), (3, 20, 1), (45, 1, 45)]
)
def test_a_ticks_due_sources_are_sent_in_messages_of_several(
    due_a_tick: int, per_message: int, messages_a_tick: int
) -> None:
    """Sources per message (one message an invocation): a tick's sources in one SendMessageBatch
    entry a message, its last message partly filled; one receive and one delete a message."""
    a = replace(cost.Assumptions(), fetch_messages_per_invocation=1, sources_per_fetch_message=per_message)
    polls = float(due_a_tick * cost.ROUNDS_PER_MONTH)
    messages = messages_a_tick * cost.ROUNDS_PER_MONTH
    assert cost.fetch_messages(polls, a) == messages
    month = cost.dispatcher_month(0, polls, a, state_bytes=944, dispatch_mb=256)
    assert month.sqs_requests == pytest.approx(messages / 10 + 2 * messages + 2 * a.idle_sqs_requests_per_queue)


def test_with_spread_latencies_a_batch_waits_for_its_slowest_source() -> None:
    a = _batch(cost.Assumptions(), 20, fetch_concurrency=20, slowest_of_batch=True)
    harmonic_20 = sum(1 / k for k in range(1, 21))  # 3.60: the slowest of 20 takes 3.6 means
    assert cost.feed_wait_per_poll(a) == pytest.approx(a.feed_latency_s * harmonic_20 / 20)
    # 30 sources, 20 at a time, each thread taking the next as one ends: 10 ends 1/20 of a mean
    # apart, then the last 20 drain (a simulation of the pool gives the same, 1.23 s for 300 ms).
    queued = _batch(a, 30, fetch_concurrency=20)
    assert cost.feed_wait_per_poll(queued) == pytest.approx(a.feed_latency_s * (10 / 20 + harmonic_20) / 30)
    alike = replace(a, slowest_of_batch=False)
    assert cost.feed_wait_per_poll(alike) < cost.feed_wait_per_poll(a)

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
    a = cost.Assumptions()
    assert a.sources_per_fetch_invocation == int(event["BatchSize"])
    assert a.fetch_concurrency == int(TEMPLATE["Parameters"]["FetchConcurrency"]["Default"])


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
    a = replace(cost.Assumptions(), sources_per_fetch_invocation=batch, fetch_concurrency=concurrency)
    assert cost.feed_wait_per_poll(a) == pytest.approx(a.feed_latency_s * latencies_a_poll)


@pytest.mark.parametrize(("batch", "calls_a_batch"), [(10, 1), (16, 2), (20, 2), (21, 3)])
def test_a_batch_of_fetch_messages_is_received_and_deleted_ten_a_call_at_most(batch: int, calls_a_batch: int) -> None:
    a = replace(cost.Assumptions(), sources_per_fetch_invocation=batch)
    polls = 1_000_000.0
    month = cost.dispatcher_month(0, polls, a, state_bytes=944, dispatch_mb=256)
    sends, receives_and_deletes = polls / 10, 2 * polls / batch * calls_a_batch
    assert month.sqs_requests == pytest.approx(sends + receives_and_deletes + 2 * a.idle_sqs_requests_per_queue)


def test_with_spread_latencies_a_batch_waits_for_its_slowest_source() -> None:
    a = replace(cost.Assumptions(), sources_per_fetch_invocation=20, fetch_concurrency=20, slowest_of_batch=True)
    harmonic_20 = sum(1 / k for k in range(1, 21))  # 3.60: the slowest of 20 takes 3.6 means
    assert cost.feed_wait_per_poll(a) == pytest.approx(a.feed_latency_s * harmonic_20 / 20)
    # 30 sources, 20 at a time, each thread taking the next as one ends: 10 ends 1/20 of a mean
    # apart, then the last 20 drain (a simulation of the pool gives the same, 1.23 s for 300 ms).
    queued = replace(a, sources_per_fetch_invocation=30, fetch_concurrency=20)
    assert cost.feed_wait_per_poll(queued) == pytest.approx(a.feed_latency_s * (10 / 20 + harmonic_20) / 30)
    alike = replace(a, slowest_of_batch=False)
    assert cost.feed_wait_per_poll(alike) < cost.feed_wait_per_poll(a)

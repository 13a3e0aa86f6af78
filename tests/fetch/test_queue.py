"""`fetch.queue`: entry messages cut into SendMessageBatch calls within SQS's limits."""

from __future__ import annotations

from newsroom.fetch.queue import MAX_BATCH_BYTES, MAX_BATCH_ENTRIES, batches


def test_ten_messages_per_call() -> None:
    cut = batches([f"m{i}" for i in range(25)])
    assert [len(b) for b in cut] == [10, 10, 5]
    assert [m for b in cut for m in b] == [f"m{i}" for i in range(25)]  # order kept
    assert MAX_BATCH_ENTRIES == 10


def test_a_call_stays_under_the_payload_limit() -> None:
    body = "x" * 100_000
    cut = batches([body] * 5)
    assert [len(b) for b in cut] == [2, 2, 1]
    assert all(sum(len(m) for m in b) <= MAX_BATCH_BYTES for b in cut)


def test_multibyte_bodies_count_in_bytes() -> None:
    body = "é" * 70_000  # 140,000 bytes, 70,000 characters
    assert [len(b) for b in batches([body, body])] == [1, 1]


def test_nothing_to_send_is_no_call() -> None:
    assert batches([]) == []

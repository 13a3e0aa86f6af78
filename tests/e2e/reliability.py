"""Shared by the reliability tests: sample entries as queue messages, and an SQS delivery loop.

`deliver` plays the SQS event source mapping: receive a batch, invoke the processor, delete
what succeeded, and let the rest come back. A failed record (in `batchItemFailures`) or a whole
invocation that died is made visible again at once, as if its visibility timeout had expired,
so a test sees every redelivery (and, past the queue's maxReceiveCount, the move to the
dead-letter queue) without waiting.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import botocore.retries.standard
import pytest

from devtools.lambda_local import invoke, sqs_event
from devtools.sample_server import SAMPLES
from newsroom.core import retry
from newsroom.core.codec import entry_to_message
from newsroom.core.config import load_sources
from newsroom.fetch.feeds import parse_feed
from newsroom.wiring import handlers as service

FETCHED_AT = datetime(2026, 5, 31, 10, tzinfo=UTC)


def sample_messages(fetched_at: datetime = FETCHED_AT) -> list[str]:
    """Every entry of the bundled sample feeds as the fetcher would queue it (fixed fetch time)."""
    messages: list[str] = []
    for source in load_sources():
        path = SAMPLES / "feeds" / source.feed_url.rsplit("/", 1)[-1]
        if not path.is_file():
            continue  # the sample source that is gone (404)
        parsed = parse_feed(path.read_bytes(), source_id=source.id, base_url=source.feed_url, fetched_at=fetched_at)
        messages.extend(entry_to_message(entry) for entry in parsed.entries)
    return messages


def send_all(sqs: Any, queue_url: str, bodies: list[str]) -> list[str]:
    """Queue the bodies in order; returns their message ids."""
    ids: list[str] = []
    for start in range(0, len(bodies), 10):
        chunk = bodies[start : start + 10]
        resp = sqs.send_message_batch(
            QueueUrl=queue_url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(chunk)]
        )
        assert not resp.get("Failed"), resp.get("Failed")
        ids.extend(s["MessageId"] for s in sorted(resp["Successful"], key=lambda s: int(s["Id"])))
    return ids


@dataclass
class Delivery:
    invocations: int = 0
    died: int = 0  # invocations that raised instead of answering (crash, or every record failed)
    failed: Counter[str] = field(default_factory=Counter)  # message id → times reported failed
    succeeded: Counter[str] = field(default_factory=Counter)  # message id → times acknowledged
    outcomes: list[Any] = field(default_factory=list)


def deliver(
    sqs: Any,
    queue_url: str,
    queue_arn: str,
    process: ModuleType,
    *,
    batch_size: int = 10,
    max_invocations: int = 200,
) -> Delivery:
    report = Delivery()
    for _ in range(max_invocations):
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=batch_size,
            WaitTimeSeconds=0,
            VisibilityTimeout=60,
            AttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return report
        report.invocations += 1
        try:
            result = invoke(process, sqs_event(messages, queue_arn), "ProcessArticlesFunction")
            failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
        except BaseException:
            report.died += 1
            failed = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed]
        back = [m for m in messages if m["MessageId"] in failed]
        if done:
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        if back:
            sqs.change_message_visibility_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(back)
                ],
            )
        report.succeeded.update(m["MessageId"] for m in done)
        report.failed.update(m["MessageId"] for m in back)
    raise AssertionError(f"queue not drained after {max_invocations} invocations")


def queue_messages(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message on a queue (received with visibility 0, so they stay there)."""
    seen: dict[str, dict[str, Any]] = {}
    for _ in range(20):
        for message in sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0, AttributeNames=["All"]
        ).get("Messages", []):
            seen[message["MessageId"]] = message
    return list(seen.values())


def purge(sqs: Any, *queue_urls: str) -> None:
    for url in queue_urls:
        sqs.purge_queue(QueueUrl=url)


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Keep botocore's and our backoff schedules, but wait 1/100 of each delay; returns the delays."""
    delays: list[float] = []
    original = botocore.retries.standard.ExponentialBackoff.delay_amount

    def scaled(self: Any, context: Any) -> float:
        delay = float(original(self, context))
        delays.append(delay)
        return delay / 100

    def sleep(seconds: float) -> None:
        delays.append(seconds)

    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", scaled)
    monkeypatch.setattr(retry, "sleep", sleep)
    return delays


PINNED_NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The processor's clock, fixed: time-derived values (TTLs, clamps) are equal across runs."""
    monkeypatch.setattr(service, "clock", lambda: PINNED_NOW)
    return PINNED_NOW

"""Entries onto the article queue: one entry per message, batched to SQS's limits.

Limits (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html):
at most 10 messages per SendMessageBatch call, and the call's payload (the bodies together) no
larger than one message may be. That was 256 KiB for years (1 MiB since 2025); we keep to
256 KiB so a queue or a client that still has the old limit takes every batch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from newsroom.core.claimcheck import MAX_MESSAGE_BYTES, EntryBucket
from newsroom.core.codec import entry_to_message
from newsroom.core.models import RawEntry

logger = logging.getLogger(__name__)

MAX_BATCH_ENTRIES = 10  # messages per SendMessageBatch call
MAX_BATCH_BYTES = 250_000  # ...and 256 KiB for a whole SendMessageBatch call


def entry_message(entry: RawEntry, bucket: EntryBucket | None = None) -> str:
    """The queue message for `entry`: the entry itself, or a claim check when it is too big
    for a message (see `claimcheck`)."""
    body = entry_to_message(entry)
    if len(body.encode()) <= MAX_MESSAGE_BYTES:
        return body
    if bucket is not None:
        return bucket.check_in(body, source_id=entry.source_id, link=entry.link)
    # No bucket to hold it: the entry still travels, its HTML cut here and capped again,
    # cleanly, when stored.
    logger.warning("entry %s is %d bytes and no entry bucket is configured: its HTML is cut", entry.link, len(body))
    keep = MAX_MESSAGE_BYTES // 2
    trimmed = replace(entry, content_html=entry.content_html[:keep], summary_html=entry.summary_html[: keep // 4])
    return entry_to_message(trimmed)


def batches(bodies: Sequence[str]) -> list[list[str]]:
    """`bodies` in order, cut into SendMessageBatch calls within both limits."""
    cut: list[list[str]] = []
    batch: list[str] = []
    batch_bytes = 0
    for body in bodies:
        size = len(body.encode())
        if len(batch) == MAX_BATCH_ENTRIES or (batch and batch_bytes + size > MAX_BATCH_BYTES):
            cut.append(batch)
            batch, batch_bytes = [], 0
        batch.append(body)
        batch_bytes += size
    if batch:
        cut.append(batch)
    return cut


def send_batch(sqs: Any, queue_url: str, bodies: Sequence[str]) -> list[dict[str, Any]]:
    """One SendMessageBatch call of `bodies` (a batch `batches` cut), their ids their indexes;
    returns SQS's `Failed` entries, each naming the refused body's index as its `Id`."""
    resp = sqs.send_message_batch(
        QueueUrl=queue_url,
        Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies)],
    )
    return list(resp.get("Failed") or [])


def send_entries(sqs: Any, queue_url: str, entries: Sequence[RawEntry], *, bucket: EntryBucket | None = None) -> int:
    """One entry per message, up to ten per SendMessageBatch call and never more than SQS's
    per-call payload limit in one call; an entry too big for a message goes to `bucket` and
    its message is a claim check. Raises if SQS (or S3) refuses any."""
    sent = 0
    for batch in batches([entry_message(entry, bucket) for entry in entries]):
        failed = send_batch(sqs, queue_url, batch)
        if failed:
            raise RuntimeError(f"SQS refused {len(failed)} messages: {failed[0].get('Message')}")
        sent += len(batch)
    return sent

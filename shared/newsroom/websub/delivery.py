"""A signed delivery becomes queued entries exactly as a polled body does.

The same size cap (`FetchPolicy.max_bytes`), the same parse (`feeds.parse_feed`: the hostile-XML
guard, the entry limits), the same seen-digest filter (`seen.fresh_entries` against the source's
state) and the same queue (`queue.send_entries`, claim checks included). A replayed delivery
finds every entry seen and queues nothing.

A delivery may carry only the new entries (a "fat ping"), so it never deletes or forgets:
the digests it adds go in front of the ones remembered, up to `seen.SEEN_MAX`, and nothing in the
store is removed. Full text (sources with `full` rights) is not fetched here: the callback
answers a hub within API Gateway's time limit; such an entry travels with its excerpt, like a
polled entry whose page budget was spent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from newsroom.core.claimcheck import EntryBucket
from newsroom.core.models import RawEntry
from newsroom.fetch.contract import FetchPolicy
from newsroom.fetch.feeds import FeedParseError, parse_feed
from newsroom.fetch.queue import send_entries
from newsroom.fetch.seen import DIGEST_BYTES, SEEN_MAX, entry_digest, fresh_entries, records
from newsroom.store.roles import CallbackStore
from newsroom.store.subscriptions import Subscription

__all__ = ["accept", "remembered_with"]


def remembered_with(entries: list[RawEntry], seen: bytes) -> bytes:
    """`seen` with the delivered entries' digests in front, none of the older ones dropped
    (up to SEEN_MAX): a delivery holds a few entries, not the whole feed."""
    half = DIGEST_BYTES // 2  # a record is its entry's name half, then its content half
    names: dict[bytes, bytes] = {}
    for entry in entries:
        digest = entry_digest(entry)
        names.setdefault(digest[:half], digest)
    kept = [*names.values(), *(r for r in records(seen) if r[:half] not in names)]
    return b"".join(kept[:SEEN_MAX])


def accept(
    sub: Subscription,
    body: bytes,
    content_type: str,
    *,
    store: CallbackStore,
    sqs: Any,
    queue_url: str,
    policy: FetchPolicy,
    now: datetime,
    bucket: EntryBucket | None = None,
) -> str:
    """Queue what is new in a delivered document; returns a short note for the log."""
    if len(body) > policy.max_bytes:
        return f"ignored: too-large ({len(body)} bytes > {policy.max_bytes})"
    headers = {"content-type": content_type} if content_type else {}
    try:
        parsed = parse_feed(body, source_id=sub.source_id, base_url=sub.topic, fetched_at=now, response_headers=headers)
    except FeedParseError as exc:
        return f"ignored: {exc.reason}"
    state = store.get_source_states([sub.source_id]).get(sub.source_id)
    seen = state.seen if state else b""
    fresh, _ = fresh_entries(list(parsed.entries), seen)
    if fresh:
        send_entries(sqs, queue_url, fresh, bucket=bucket)
        # Written after the send, as the poll does: a crash in between re-sends, never loses.
        store.put_seen(sub.source_id, remembered_with(fresh, seen))
    return f"queued {len(fresh)} of {len(parsed.entries)}"

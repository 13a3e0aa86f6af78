"""The I/O edges of the pipeline: polling sources, queueing entries, ingesting them, fetching prices.

Handlers call these with a `Store` and clients they own; everything decided here comes from the
pure modules (`feeds`, `process`, `prices`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from newsroom.codec import entry_to_message
from newsroom.feeds import FeedParseError, parse_feed
from newsroom.http import FetchError, FetchPolicy, http_get
from newsroom.models import Price, RawEntry, Source, SourceState
from newsroom.prices import PriceError, fetch_coingecko
from newsroom.process import Decision, Outcome, ProcessingContext, build_article, merge
from newsroom.storage import ConflictError, Store

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 240_000  # SQS allows 256 KiB; leave room for attributes and encoding
MAX_ATTEMPTS = 6


# -- fetching ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceReport:
    source_id: str
    status: str  # "ok", "not-modified", "error"
    entries: int = 0
    error: str | None = None


def _fit_message(entry: RawEntry) -> str:
    body = entry_to_message(entry)
    if len(body.encode()) <= MAX_MESSAGE_BYTES:
        return body
    # An enormous entry still travels: its HTML is cut here and capped again, cleanly, when stored.
    keep = MAX_MESSAGE_BYTES // 2
    trimmed = replace(entry, content_html=entry.content_html[:keep], summary_html=entry.summary_html[: keep // 4])
    return entry_to_message(trimmed)


def send_entries(sqs: Any, queue_url: str, entries: Sequence[RawEntry]) -> int:
    """One entry per message, ten per SendMessageBatch call; raises if SQS refuses any."""
    sent = 0
    for start in range(0, len(entries), 10):
        batch = entries[start : start + 10]
        resp = sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "MessageBody": _fit_message(e)} for i, e in enumerate(batch)],
        )
        failed = resp.get("Failed") or []
        if failed:
            raise RuntimeError(f"SQS refused {len(failed)} messages: {failed[0].get('Message')}")
        sent += len(batch)
    return sent


def poll_source(
    source: Source,
    state: SourceState,
    policy: FetchPolicy,
    *,
    now: datetime,
    get: Callable[..., Any] = http_get,
) -> tuple[SourceState, list[RawEntry], SourceReport]:
    """Fetch one source politely; never raises for the source's own faults."""
    try:
        result = get(source.feed_url, policy, etag=state.etag, last_modified=state.last_modified)
        if result.not_modified:
            new_state = replace(state, last_attempt=now, last_success=now, last_error=None, consecutive_failures=0)
            return new_state, [], SourceReport(source.id, "not-modified")
        parsed = parse_feed(
            result.body,
            source_id=source.id,
            base_url=result.url,
            fetched_at=now,
            response_headers=result.headers,
        )
    except (FetchError, FeedParseError) as exc:
        reason = f"{getattr(exc, 'reason', 'parse-error')}: {exc}"[:500]
        new_state = replace(
            state,
            last_attempt=now,
            last_error=reason,
            consecutive_failures=state.consecutive_failures + 1,
        )
        return new_state, [], SourceReport(source.id, "error", error=reason)
    new_state = replace(
        state,
        etag=result.etag,
        last_modified=result.last_modified,
        last_attempt=now,
        last_success=now,
        last_error=None,
        consecutive_failures=0,
    )
    return new_state, list(parsed.entries), SourceReport(source.id, "ok", entries=len(parsed.entries))


def fetch_all(
    sources: Sequence[Source],
    store: Store,
    sqs: Any,
    queue_url: str,
    policy: FetchPolicy,
    *,
    concurrency: int,
    now: datetime | None = None,
    get: Callable[..., Any] = http_get,
) -> list[SourceReport]:
    """Poll every enabled source concurrently; one failing source never stops the others."""
    moment = now or datetime.now(UTC)
    enabled = [s for s in sources if s.enabled]
    states = store.get_source_states([s.id for s in enabled])

    def one(source: Source) -> SourceReport:
        previous = states.get(source.id, SourceState(source_id=source.id))
        try:
            new_state, entries, report = poll_source(source, previous, policy, now=moment, get=get)
            if entries:
                send_entries(sqs, queue_url, entries)
        except Exception as exc:  # a bug or AWS fault for this source is recorded, not fatal to the run
            logger.exception("source %s failed", source.id)
            reason = f"internal: {type(exc).__name__}: {exc}"[:500]
            new_state = replace(
                previous,
                last_attempt=moment,
                last_error=reason,
                consecutive_failures=previous.consecutive_failures + 1,
            )
            report = SourceReport(source.id, "error", error=reason)
        # A 304 changes only health fields: one small write, no parse, no message.
        store.put_source_state(new_state)
        return report

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(enabled) or 1))) as pool:
        return list(pool.map(one, enabled))


# -- processing -------------------------------------------------------------------------------


def ingest(entry: RawEntry, store: Store, ctx: ProcessingContext) -> Decision:
    """Store one entry exactly once, whatever order and however often it arrives."""
    if entry.source_id not in ctx.sources:
        raise ValueError(f"entry from unknown source {entry.source_id!r}")
    incoming = build_article(entry, ctx)
    guid = (entry.source_id, entry.guid) if entry.guid else None
    if guid is not None:
        claimed = store.story_for_guid(*guid)
        if claimed is not None and claimed != incoming.id:
            # Same entry (by GUID) under a new URL: it is still the story we stored.
            incoming = replace(incoming, id=claimed)
    for _ in range(MAX_ATTEMPTS):
        existing = store.get_article(incoming.id)
        try:
            if existing is None:
                store.create_article(incoming, guid=guid)
                return Decision(Outcome.CREATED, incoming)
            decision = merge(existing.article, incoming, ctx.sources)
            if decision.outcome is Outcome.UNCHANGED:
                if guid is not None and store.story_for_guid(*guid) is None:
                    store.claim_guid(guid[0], guid[1], existing.article.id)
                return decision
            store.replace_article(existing, decision.article, guid=guid)
            return decision
        except ConflictError:
            continue  # someone else wrote the story meanwhile: read it again and re-decide
    raise ConflictError(f"story {incoming.id} kept changing; giving up for a retry")


def ingest_many(entries: Sequence[RawEntry], store: Store, ctx: ProcessingContext) -> Counter[str]:
    return Counter(ingest(entry, store, ctx).outcome.value for entry in entries)


# -- prices -----------------------------------------------------------------------------------


def refresh_prices(
    store: Store, base_url: str, policy: FetchPolicy, *, symbols: Sequence[str], now: datetime | None = None
) -> list[Price]:
    moment = now or datetime.now(UTC)
    try:
        prices = fetch_coingecko(base_url, policy, symbols=symbols, now=moment)
    except (PriceError, FetchError) as exc:
        # Keep the last good prices; /prices reports them as stale once they age.
        logger.warning("price provider failed: %s", exc)
        return []
    store.put_prices(prices)
    return list(prices)

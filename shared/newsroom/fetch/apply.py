"""Performs what `poll` decides: the GET and the parse, full text, the SQS sends and the state
writes, for one source (`poll_one`) or many at once (`fetch_all`).

Order matters for not losing entries: the state (digests, body hash) is written only after
SendMessageBatch succeeded, so a crash in between re-sends the entries next time (the
processor is idempotent); nothing here decides what to send or remember.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from newsroom.core.claimcheck import EntryBucket
from newsroom.core.config import DEFAULT_WEBSUB_LIMITS
from newsroom.core.models import RawEntry, Source, SourceState
from newsroom.fetch.contract import HEAVY_STEPS
from newsroom.fetch.feeds import FeedParseError, parse_feed
from newsroom.fetch.http import FetchError, FetchPolicy, http_get
from newsroom.fetch.poll import (
    DEFAULT_BOUNDS,
    Plan,
    Reading,
    Request,
    SourceReport,
    begin,
    decide,
    enriched,
    failed_internally,
    outcome,
    request_for,
    worth_writing,
)
from newsroom.fetch.queue import send_entries
from newsroom.fetch.seen import body_digest
from newsroom.sources.schedule import PollBounds, pushed_next_poll, with_grid
from newsroom.store.batches import StoreIncomplete
from newsroom.store.roles import FetcherStore

if TYPE_CHECKING:
    from newsroom.fetch.fulltext import Enricher

logger = logging.getLogger(__name__)


class PushHook(Protocol):
    """The WebSub step (`websub.push.PushStep`; fetch never imports websub). Called after a poll
    that read the feed: (source, reading, now) -> until when a hub pushes the source (None: not
    pushed). `states` replaces `fetch_all`'s state read, reading the subscriptions with it."""

    def states(self, source_ids: Sequence[str]) -> dict[str, SourceState]: ...

    def __call__(self, source: Source, reading: Reading, now: datetime) -> datetime | None: ...


def read_feed(
    request: Request, source_id: str, policy: FetchPolicy, *, now: datetime, get: Callable[..., Any] = http_get
) -> Reading:
    """One conditional GET, and the parse of what it brought; the source's own faults (network,
    HTTP, not a feed) are a reading with an error, never raised. A 200 with the very body we
    parsed last time (a server that ignores validators) is not parsed: the hash is of the bytes
    as received (decompressed)."""
    try:
        result = get(request.url, policy, etag=request.etag, last_modified=request.last_modified)
        if result.not_modified:
            return Reading(result=result)
        body_hash = body_digest(result.body)
        if body_hash == request.body_hash:
            return Reading(result=result, body_hash=body_hash)
        with HEAVY_STEPS:  # bounded apart from the fetches: a parse holds a multiple of its body
            parsed = parse_feed(
                result.body, source_id=source_id, base_url=result.url, fetched_at=now, response_headers=result.headers
            )
    except (FetchError, FeedParseError) as exc:
        return Reading(error=exc)
    return Reading(result=result, parsed=parsed, body_hash=body_hash)


def poll_source(
    source: Source,
    state: SourceState,
    policy: FetchPolicy,
    *,
    now: datetime,
    get: Callable[..., Any] = http_get,
    bounds: PollBounds = DEFAULT_BOUNDS,
    rng: random.Random | None = None,
) -> tuple[SourceState, list[RawEntry], SourceReport]:
    """Fetch one source politely and say what it means (`poll.outcome`); never raises for the
    source's own faults. Every entry of the document is returned: `fetch_all` sends only the
    new ones."""
    reading = read_feed(request_for(source, state), source.id, policy, now=now, get=get)
    return outcome(source, state, reading, now=now, bounds=bounds, rng=rng)


def poll_one(
    source: Source,
    stored: SourceState | None,
    store: FetcherStore,
    sqs: Any,
    queue_url: str,
    policy: FetchPolicy,
    *,
    now: datetime,
    unread: bool = False,
    get: Callable[..., Any] = http_get,
    bounds: PollBounds = DEFAULT_BOUNDS,
    only_due: bool = False,
    enrich: Enricher | None = None,
    bucket: EntryBucket | None = None,
    push: PushHook | None = None,
) -> SourceReport:
    """Poll one source and apply the plan; a fault of this source is recorded, never raised.
    With `push`, a source its hub pushes is next polled at the safety net instead."""
    start = begin(source, stored, unread=unread, only_due=only_due, now=now)
    if isinstance(start, SourceReport):
        return start
    try:
        reading = read_feed(request_for(source, start), source.id, policy, now=now, get=get)
        plan = decide(source, start, reading, now=now, bounds=bounds)
        if push is not None:
            plan = _stepped_back(plan, push, source, reading, now)
        if plan.send and enrich is not None:
            plan = enriched(plan, enrich(source, list(plan.send), plan.owed))
        if plan.send:
            send_entries(sqs, queue_url, plan.send, bucket=bucket)
    except Exception as exc:  # a bug or AWS fault for this source is recorded, not fatal to the run
        logger.exception("source %s failed", source.id)
        plan = failed_internally(source, start, exc, now=now, bounds=bounds)
    return _remember(store, stored, plan)


def _stepped_back(plan: Plan, push: PushHook, source: Source, reading: Reading, now: datetime) -> Plan:
    """The plan with its next poll at the WebSub safety net while the source is pushed (a failed
    poll keeps its backoff); a source gone (410) is passed on disabled, so its hub is told. A
    fault of the hook (the hub, the store) is logged and the poll keeps its normal rhythm."""
    try:
        until = push(replace(source, enabled=False) if plan.state.disabled else source, reading, now)
    except Exception:
        logger.exception("websub step for source %s failed", source.id)
        return plan
    normal = plan.state.next_poll
    if until is None or normal is None or reading.error is not None:
        return plan
    safety_net = timedelta(seconds=DEFAULT_WEBSUB_LIMITS.safety_net_seconds)
    later = pushed_next_poll(normal, now, until, safety_net)
    return replace(plan, state=with_grid(replace(plan.state, next_poll=later), now))


def _remember(store: FetcherStore, stored: SourceState | None, plan: Plan) -> SourceReport:
    """Write the plan's state when `worth_writing` (an unchanged 304 or same-body 200 writes
    nothing); run only after the plan's entries were sent."""
    if not worth_writing(stored, plan.state):
        return plan.report
    try:
        store.put_source_state(plan.state)
    except Exception as exc:  # still failing after the client's retries: this source only
        logger.exception("state of source %s not written", plan.state.source_id)
        # Its entries (if any) were sent; with the old state kept, the next poll finds them
        # again and the processor drops the repeats. The other sources go on.
        return replace(plan.report, status="error", error=f"internal: state not written: {type(exc).__name__}")
    return replace(plan.report, state_written=True)


def fetch_all(
    sources: Sequence[Source],
    store: FetcherStore,
    sqs: Any,
    queue_url: str,
    policy: FetchPolicy,
    *,
    concurrency: int,
    now: datetime | None = None,
    get: Callable[..., Any] = http_get,
    bounds: PollBounds = DEFAULT_BOUNDS,
    only_due: bool = False,
    enrich: Enricher | None = None,
    bucket: EntryBucket | None = None,
    push: PushHook | None = None,
) -> list[SourceReport]:
    """Poll enabled sources concurrently; one failing source never stops the others.

    Disabled sources (configured off, or 410 Gone) are skipped; with `only_due`, so are sources
    whose next poll time has not come (the fan-out worker re-checks what the dispatcher decided,
    so a duplicate SQS delivery does not poll twice). `enrich` adds full text before queueing;
    entries it had no page budget for are queued with their excerpt and remembered as owed
    (`seen.owed_digest`), with neither validators nor body hash kept, so the next poll reads the
    feed again and offers them first.
    """
    moment = now or datetime.now(UTC)
    enabled = [s for s in sources if s.enabled]
    unread: frozenset[str] = frozenset()
    try:
        ids = [s.id for s in enabled]
        states = push.states(ids) if push is not None else store.get_source_states(ids)
    except StoreIncomplete as exc:
        # An unread state is not a new source (`poll.begin`): those sources fail for a retry;
        # the others go on with the states that were read.
        logger.warning("source states not read: %s", exc)
        states = {k: v for k, v in exc.partial.items() if isinstance(v, SourceState)}
        unread = frozenset(exc.missing)

    def one(source: Source) -> SourceReport:
        return poll_one(
            source,
            states.get(source.id),
            store,
            sqs,
            queue_url,
            policy,
            now=moment,
            unread=source.id in unread,
            get=get,
            bounds=bounds,
            only_due=only_due,
            enrich=enrich,
            bucket=bucket,
            push=push,
        )

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(enabled) or 1))) as pool:
        return list(pool.map(one, enabled))

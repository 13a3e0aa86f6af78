"""Fan-out polling: a dispatcher enqueues the sources that are due; fetch workers poll them.

    EventBridge ─▶ DispatchSourcesFunction ──(1 source per message)──▶ FetchQueue
                       reads registry + states                           │ SQS batch of N
                                                                         ▼
                   FetchFeedsFunction (worker): polls its N sources concurrently ─▶ ArticleQueue

- The registry is the `SOURCES` partition in DynamoDB, seeded from the repo's sources file
  (`seed_sources` skips the work when the file has not changed since the last seed).
- The dispatcher enqueues only sources that are enabled, not disabled by a 410, and due. A
  healthy source's state is not written by an unchanged poll (`pipeline.fetch_all`), so its
  stored `next_poll` goes stale; the state's `poll_interval_s` makes it a grid instead: the
  source is due at next_poll + k * interval (k = 0, 1, ...), and a tick dispatches it when a
  grid point fell in the time since the previous tick (the dispatch clock item, one read and one
  write per tick). A failing source is due when its backoff `next_poll` has come, as before.
- Each message carries the source's whole settings, so a worker needs no registry read; a worker
  re-checks the stored state, so a duplicate delivery (SQS is at-least-once) after a poll that
  wrote its state (new entries, failures, first polls) is skipped. A duplicate of a message
  whose poll changed nothing polls once more: a conditional GET answered 304, the price of not
  writing on every 304.
- One source per message: a source whose message cannot be read fails alone (partial batch
  response) and lands in the fetch dead-letter queue after a few tries.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from newsroom.core.claimcheck import EntryBucket
from newsroom.core.config import Settings, load_sources, settings, source_from_json, source_to_json
from newsroom.core.models import Source, SourceState, iso
from newsroom.fetch.http import FetchPolicy, http_get
from newsroom.fetch.pipeline import DEFAULT_BOUNDS, SourceReport, fetch_all
from newsroom.sources.schedule import DUE_SLACK, PollBounds, is_due
from newsroom.store.roles import DispatcherStore, FetcherStore, RegistrySeeding, SourceRegistry
from newsroom.wiring import clients as runtime

if TYPE_CHECKING:
    from newsroom.fetch.fulltext import Enricher

logger = logging.getLogger(__name__)

KNOWN_SOURCES_TTL_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class DispatchReport:
    sources: int  # in the registry
    due: int  # enqueued for polling
    disabled: int  # configured off or gone (410)
    not_due: int


def registry_sources(store: RegistrySeeding, seed: Sequence[Source] | None = None) -> list[Source]:
    """Every source in the registry, after seeding it from the sources file when that changed."""
    store.seed_sources(tuple(seed) if seed is not None else load_sources())
    return list(store.list_sources())


def due_sources(
    sources: Sequence[Source], states: dict[str, SourceState], now: datetime, *, since: datetime | None = None
) -> DispatchReport:
    """Counts for `select_due` (kept separate so the dispatcher can log them)."""
    due = select_due(sources, states, now, since=since)
    disabled = sum(1 for s in sources if not s.enabled or _gone(s, states.get(s.id)))
    return DispatchReport(
        sources=len(sources), due=len(due), disabled=disabled, not_due=len(sources) - len(due) - disabled
    )


def select_due(
    sources: Sequence[Source], states: dict[str, SourceState], now: datetime, *, since: datetime | None = None
) -> list[Source]:
    """The sources to poll at this tick; `since` is when the previous tick ran (None: unknown,
    so any source whose `next_poll` has passed is due)."""
    chosen = []
    for source in sources:
        state = states.get(source.id)
        if not source.enabled or _gone(source, state):
            continue
        if state is not None and state.disabled:
            state = None  # disabled for an URL the source no longer has: poll the new one now
        if is_due(state, now) and on_grid(state, now, since):
            chosen.append(source)
    return chosen


def on_grid(state: SourceState | None, now: datetime, since: datetime | None, slack: timedelta = DUE_SLACK) -> bool:
    """For a healthy source whose `next_poll` has passed: whether a point of its grid
    next_poll + k * poll_interval_s falls in this tick's window (since, now], both ends moved by
    the tick slack as `is_due` does. Consecutive windows share their ends, so every grid point
    is dispatched exactly once, however late or early EventBridge runs the ticks; a tick that
    never ran only widens the next window."""
    if (
        state is None
        or since is None
        or state.next_poll is None
        or not state.poll_interval_s
        or state.consecutive_failures
    ):
        return True
    start, end = since + slack, now + slack
    first = state.next_poll
    if first > start:
        return first <= end
    interval = timedelta(seconds=state.poll_interval_s)
    steps = (start - first) // interval + 1  # the first grid point after `start`
    return first + steps * interval <= end


def _gone(source: Source, state: SourceState | None) -> bool:
    return state is not None and state.disabled and state.feed_url_for in (None, source.feed_url)


def source_message(source: Source, now: datetime) -> str:
    return json.dumps({"source": source_to_json(source), "dispatched_at": iso(now)}, separators=(",", ":"))


def source_from_message(body: str) -> Source:
    """The source a fetch message carries; raises ValueError/KeyError/TypeError on a bad one."""
    data = json.loads(body)
    return source_from_json(data["source"])


def dispatch(
    store: DispatcherStore, sqs: Any, fetch_queue_url: str, *, now: datetime, sources: Sequence[Source] | None = None
) -> DispatchReport:
    """Enqueue every due source, one per message, ten per SendMessageBatch."""
    registry = list(sources) if sources is not None else registry_sources(store)
    since = store.get_dispatch_clock()
    if since is not None and since >= now:
        since = None  # a clock from the future (an overlapping or replayed tick): decide by next_poll
    states = store.get_source_states([s.id for s in registry])
    report = due_sources(registry, states, now, since=since)
    due = select_due(registry, states, now, since=since)
    refused = 0
    for start in range(0, len(due), 10):
        batch = due[start : start + 10]
        resp = sqs.send_message_batch(
            QueueUrl=fetch_queue_url,
            Entries=[{"Id": str(i), "MessageBody": source_message(s, now)} for i, s in enumerate(batch)],
        )
        failed = resp.get("Failed") or []
        if failed:
            refused += len(failed)
            logger.error("SQS refused %d fetch messages: %s", len(failed), failed[0].get("Message"))
    if not refused:
        # With the clock left behind, the next tick's window covers this one again, so the
        # refused sources are dispatched then (the others, polled now, are either skipped by the
        # worker or polled once more: a 304).
        store.put_dispatch_clock(now)
    return report


# -- the sources the processor knows -----------------------------------------------------------

_lock = threading.Lock()
# (monotonic time, the store it was read from, the file's sources, the merged result)
_cache: tuple[float, object, tuple[Source, ...], tuple[Source, ...]] | None = None


def known_sources(store: SourceRegistry | None, *, max_age: float = KNOWN_SOURCES_TTL_SECONDS) -> tuple[Source, ...]:
    """The sources file merged with the registry (the registry wins), cached for `max_age`
    seconds per process: a source added with the admin command is known to the processor
    within a minute, without a registry read per message. Falls back to the file alone when
    the registry cannot be read. A new store or sources file (tests, `runtime.reset()`)
    invalidates the cache."""
    global _cache
    file_sources = load_sources()
    with _lock:
        cached = _cache
    if (
        cached is not None
        and cached[1] is store
        and cached[2] is file_sources
        and time.monotonic() - cached[0] < max_age
    ):
        return cached[3]
    merged = {s.id: s for s in file_sources}
    if store is not None:
        try:
            merged.update({s.id: s for s in store.list_sources()})
        except Exception:  # the file's sources keep the processor working
            logger.exception("cannot read the source registry; using the sources file")
    result = tuple(merged.values())
    with _lock:
        _cache = (time.monotonic(), store, file_sources, result)
    return result


# -- the fetch worker ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkerResult:
    reports: tuple[SourceReport, ...]  # one per distinct source named
    bad_messages: tuple[int, ...]  # indexes of messages that could not be read
    # indexes of messages whose source must be polled again later (its state was not read)
    retry_messages: tuple[int, ...] = ()


def poll_dispatched(
    bodies: Sequence[str],
    store: FetcherStore,
    sqs: Any,
    queue_url: str,
    policy: FetchPolicy,
    *,
    concurrency: int,
    now: datetime,
    bounds: PollBounds = DEFAULT_BOUNDS,
    get: Callable[..., Any] = http_get,
    enrich: Enricher | None = None,
    bucket: EntryBucket | None = None,
) -> WorkerResult:
    """Poll the sources a batch of fetch messages names, concurrently, due ones only."""
    sources: dict[str, Source] = {}
    bad: list[int] = []
    indexes: dict[str, list[int]] = {}
    for index, body in enumerate(bodies):
        try:
            source = source_from_message(body)
        except (ValueError, KeyError, TypeError) as exc:
            logger.error("unreadable fetch message %d: %s", index, exc)
            bad.append(index)
            continue
        sources.setdefault(source.id, source)  # a duplicate in one batch is polled once
        indexes.setdefault(source.id, []).append(index)
    reports = fetch_all(
        list(sources.values()),
        store,
        sqs,
        queue_url,
        policy,
        concurrency=concurrency,
        now=now,
        get=get,
        bounds=bounds,
        only_due=True,
        enrich=enrich,
        bucket=bucket,
    )
    retry = sorted(i for r in reports if r.retry for i in indexes.get(r.source_id, ()))
    return WorkerResult(tuple(reports), tuple(bad), tuple(retry))


# -- wired to the process-wide clients (what the handlers call) ------------------------------------


def poll_bounds(cfg: Settings) -> PollBounds:
    minimum = timedelta(minutes=cfg.poll_min_minutes)
    default = max(minimum, timedelta(minutes=cfg.poll_default_minutes))
    maximum = max(default, timedelta(minutes=cfg.poll_max_minutes))
    ceiling = max(minimum, timedelta(minutes=cfg.backoff_ceiling_minutes))
    return PollBounds(default_interval=default, min_interval=minimum, max_interval=maximum, backoff_ceiling=ceiling)


def dispatch_due_sources(now: datetime | None = None) -> DispatchReport:
    cfg = settings()
    if not cfg.fetch_queue_url:
        raise RuntimeError("FETCH_QUEUE_URL is not set: the dispatcher has nowhere to send sources")
    return dispatch(runtime.store(), runtime.sqs(), cfg.fetch_queue_url, now=now or datetime.now(UTC))


def fetch_dispatched(bodies: Sequence[str], now: datetime | None = None) -> WorkerResult:
    from newsroom.fetch.fulltext import make_enricher
    from newsroom.wiring.handlers import fetch_policy  # service wires the handlers and may import us

    cfg = settings()
    policy = fetch_policy(cfg)
    store = runtime.store()
    return poll_dispatched(
        bodies,
        store,
        runtime.sqs(),
        cfg.queue_url,
        policy,
        concurrency=cfg.fetch_concurrency,
        now=now or datetime.now(UTC),
        bounds=poll_bounds(cfg),
        enrich=make_enricher(
            store, policy, max_pages=cfg.fulltext_max_pages, budget_seconds=cfg.fulltext_budget_seconds
        ),
        bucket=runtime.entry_bucket(),
    )

"""Fan-out polling: a dispatcher enqueues the sources that are due; fetch workers poll them.

    EventBridge ─▶ DispatchSourcesFunction ──(1 source per message)──▶ FetchQueue
                       reads registry + states                           │ SQS batch of N
                                                                         ▼
                   FetchFeedsFunction (worker): polls its N sources concurrently ─▶ ArticleQueue

- The registry is the `SOURCES` partition in DynamoDB, seeded from the repo's sources file
  (`sources.registry`); the states are the `STATES` partition. A tick reads both whole, one
  paginated Query each, billed by their size rather than a 4 KB read per state (issue 18).
- The dispatcher enqueues only sources that are enabled, not gone (a 410), and due
  (`sources.schedule.select_due`). A healthy source's state is not written by an unchanged poll
  (`poll.worth_writing`), so its stored `next_poll` goes stale; the state's `poll_interval_s`
  makes it a grid instead: the source is due at next_poll + k * interval (k = 0, 1, ...), and a
  tick dispatches it when a grid point fell in the time since the previous tick (the dispatch
  clock item, one read and one write per tick). A failing source is due when its backoff
  `next_poll` has come, as before.
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from newsroom.core.claimcheck import EntryBucket
from newsroom.core.config import source_from_json, source_to_json
from newsroom.core.models import Source, iso
from newsroom.fetch.apply import PushHook, fetch_all
from newsroom.fetch.http import FetchPolicy, http_get
from newsroom.fetch.poll import DEFAULT_BOUNDS, SourceReport
from newsroom.fetch.queue import batches
from newsroom.sources.registry import registry_sources
from newsroom.sources.schedule import DispatchReport, PollBounds, due_sources, select_due
from newsroom.store.roles import DispatcherStore, FetcherStore

if TYPE_CHECKING:
    from newsroom.fetch.fulltext import Enricher

logger = logging.getLogger(__name__)


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
    states = store.all_source_states([s.id for s in registry])
    report = due_sources(registry, states, now, since=since)
    due = select_due(registry, states, now, since=since)
    refused = 0
    for batch in batches([source_message(s, now) for s in due]):
        resp = sqs.send_message_batch(
            QueueUrl=fetch_queue_url,
            Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(batch)],
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
    push: PushHook | None = None,
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
        push=push,
    )
    retry = sorted(i for r in reports if r.retry for i in indexes.get(r.source_id, ()))
    return WorkerResult(tuple(reports), tuple(bad), tuple(retry))

"""Fan-out polling: a dispatcher enqueues the sources that are due; fetch workers poll them.

    EventBridge ─▶ DispatchSourcesFunction ──(up to N sources a message)──▶ FetchQueue
                       reads registry + states                              │ one message
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
- Up to `FETCH_SOURCES_PER_MESSAGE` sources a message (20, a worker's whole batch), so a batch
  of sources costs one SendMessageBatch entry, one receive and one delete, where one source per
  message cost twenty of each (issue 18: ~$1.3 a month at 10,000 sources). A poison source still
  fails alone: a message of several received again (its invocation failed, timed out or was
  throttled: `ApproximateReceiveCount` cannot tell which) is not polled but sent back in two
  halves (`split_message`), so a source that brings its invocation down is alone after five
  such failures, and a throttled batch is not turned into twenty invocations at once. A source
  of a message that cannot be read, or whose state DynamoDB left unread, is sent back in a
  message of its own. A message of one source that cannot be read fails (partial batch
  response) and lands in the fetch dead-letter queue after a few tries, alone, as before.
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
from newsroom.fetch.queue import batches, send_batch
from newsroom.sources.registry import registry_sources
from newsroom.sources.schedule import DispatchReport, PollBounds, due_sources, select_due
from newsroom.store.roles import DispatcherStore, FetcherStore

if TYPE_CHECKING:
    from newsroom.fetch.fulltext import Enricher

logger = logging.getLogger(__name__)


def sources_message(sources: Sequence[Source], now: datetime) -> str:
    """One fetch message naming `sources`, each with its whole settings."""
    return _message([source_to_json(s) for s in sources], iso(now))


def _message(raw_sources: Sequence[Any], dispatched_at: str) -> str:
    return json.dumps({"sources": list(raw_sources), "dispatched_at": dispatched_at}, separators=(",", ":"))


def raw_sources_of(body: str) -> tuple[list[Any], str]:
    """The sources' settings a fetch message carries, as sent, and when it was dispatched; the
    one-source form queued before several per message (`{"source": ...}`) is read too. Raises
    ValueError/KeyError/TypeError on a message that cannot be read."""
    data = json.loads(body)
    raw = data["sources"] if "sources" in data else [data["source"]]
    if not isinstance(raw, list) or not raw:
        raise ValueError("a fetch message names no source")
    return raw, str(data.get("dispatched_at", ""))


def dispatch(
    store: DispatcherStore,
    sqs: Any,
    fetch_queue_url: str,
    *,
    now: datetime,
    sources: Sequence[Source] | None = None,
    per_message: int = 1,
) -> DispatchReport:
    """Enqueue every due source, `per_message` a message, ten messages per SendMessageBatch."""
    registry = list(sources) if sources is not None else registry_sources(store)
    since = store.get_dispatch_clock()
    if since is not None and since >= now:
        since = None  # a clock from the future (an overlapping or replayed tick): decide by next_poll
    states = store.all_source_states([s.id for s in registry])
    report = due_sources(registry, states, now, since=since)
    due = select_due(registry, states, now, since=since)
    refused = 0
    step = max(1, per_message)
    for batch in batches([sources_message(due[i : i + step], now) for i in range(0, len(due), step)]):
        failed = send_batch(sqs, fetch_queue_url, batch)
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
class FetchMessage:
    """A fetch message as the worker receives it: its body and how many times SQS handed it out
    (`ApproximateReceiveCount`)."""

    body: str
    receive_count: int = 1


@dataclass(frozen=True, slots=True)
class WorkerResult:
    reports: tuple[SourceReport, ...]  # one per distinct source named
    bad_messages: tuple[int, ...]  # indexes of messages that could not be read
    # indexes of messages to be received again (a one-source message whose state was not read,
    # or a message whose split could not be sent)
    retry_messages: tuple[int, ...] = ()
    resent_sources: int = 0  # sources sent back in other messages (`split_message`)


def poll_dispatched(
    messages: Sequence[FetchMessage],
    store: FetcherStore,
    sqs: Any,
    queue_url: str,
    policy: FetchPolicy,
    *,
    concurrency: int,
    now: datetime,
    fetch_queue_url: str = "",
    bounds: PollBounds = DEFAULT_BOUNDS,
    get: Callable[..., Any] = http_get,
    enrich: Enricher | None = None,
    bucket: EntryBucket | None = None,
    push: PushHook | None = None,
) -> WorkerResult:
    """Poll the sources a batch of fetch messages names, concurrently, due ones only. A message
    of several sources received again is sent back to `fetch_queue_url` in two halves instead; a
    source in one that cannot be read, or whose state was not read, alone (see the module)."""
    sources: dict[str, Source] = {}
    bad: list[int] = []
    indexes: dict[str, list[int]] = {}
    single: set[int] = set()
    back: dict[int, list[list[Any]]] = {}  # message index -> the messages to send back (sources' settings)
    dispatched: dict[int, str] = {}
    for index, message in enumerate(messages):
        try:
            raw, dispatched[index] = raw_sources_of(message.body)
        except (ValueError, KeyError, TypeError) as exc:
            logger.error("unreadable fetch message %d: %s", index, exc)
            bad.append(index)
            continue
        if len(raw) == 1:
            single.add(index)
        elif message.receive_count > 1:
            # Its invocation failed once (a crash, a timeout, a throttle): halved, so a source
            # that brings invocations down ends in a message of its own, apart from its mates.
            half = (len(raw) + 1) // 2
            back[index] = [raw[:half], raw[half:]]
            continue
        for item in raw:
            try:
                source = source_from_json(item)
            except (ValueError, KeyError, TypeError) as exc:
                logger.error("unreadable source in fetch message %d: %s", index, exc)
                if index in single:
                    bad.append(index)
                else:
                    back.setdefault(index, []).append([item])  # to fail alone
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
    retry: set[int] = set()
    for report in reports:
        if not report.retry:
            continue
        for index in indexes.get(report.source_id, ()):
            if index in single:
                retry.add(index)
            else:
                back.setdefault(index, []).append([source_to_json(sources[report.source_id])])
    retry.update(split_message(sqs, fetch_queue_url, back, dispatched))
    resent = sum(len(group) for groups in back.values() for group in groups)
    return WorkerResult(tuple(reports), tuple(bad), tuple(sorted(retry)), resent)


def split_message(
    sqs: Any, fetch_queue_url: str, back: dict[int, list[list[Any]]], dispatched: dict[int, str]
) -> set[int]:
    """Send the messages of `back` (message index -> groups of sources' settings, a message each)
    to the fetch queue; returns the indexes of the messages whose groups were not all sent, to
    be received again whole (a source of theirs already polled is skipped, or polled once more:
    a 304)."""
    if not back:
        return set()
    if not fetch_queue_url:
        return set(back)
    bodies = [(index, _message(group, dispatched[index])) for index, groups in back.items() for group in groups]
    unsent: set[int] = set()
    sent = 0
    for batch in batches([body for _, body in bodies]):
        owners = [index for index, _ in bodies[sent : sent + len(batch)]]
        sent += len(batch)
        try:
            failed = send_batch(sqs, fetch_queue_url, batch)
        except Exception as exc:  # the whole call: every message it held is received again
            logger.error("fetch messages not split: %s", exc)
            unsent.update(owners)
            continue
        unsent.update(owners[int(refused["Id"])] for refused in failed)
    return unsent

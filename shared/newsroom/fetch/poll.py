"""One poll of one source, decided without I/O (lemon24/reader's `_update` is the model: parsing,
intents and storing apart). `apply` performs what is decided here:

    begin(source, stored state)           -> the state to poll from, or why not to poll
    request_for(source, state)            -> what to ask the server (URL, validators)
      (apply.read_feed: the GET and the parse -> a `Reading`)
    decide(source, state, reading, now)   -> a `Plan`: entries to queue, the new state, the report
      (apply: full text for the planned entries -> `enriched(plan, enrichment)`)
      (apply: queue the entries; on a fault -> `failed_internally(...)`)
    worth_writing(stored, plan.state)     -> whether the state is written

Every step is a function of its arguments, so each rule is tested without a store, a queue or
a server (tests/fetch/test_poll_decisions.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from newsroom.core.models import RawEntry, Source, SourceState
from newsroom.fetch.feeds import FeedParseError, ParsedFeed
from newsroom.fetch.fulltext import Enrichment
from newsroom.fetch.http import FetchError, HttpResult
from newsroom.fetch.seen import fresh_entries, owed_digest, records, with_owed
from newsroom.sources.schedule import (
    PollBounds,
    after_failure,
    after_success,
    entries_per_week,
    expires_zero,
    feed_hint,
    interval_for,
    is_due,
    parse_retry_after,
    polling_interval,
    state_to_poll,
    with_grid,
)

DEFAULT_BOUNDS = PollBounds()
# An unchanged poll writes nothing, so `last_success`/`last_attempt` (GET /sources) lag by at
# most this much for a healthy source; a failure, a recovery and a new document are always
# written at once. Six hours, not one (issue 18): these refreshes were most of a healthy
# source's state writes (24 a day against ~5 for new entries), about a tenth of the table's
# writes at 10,000 sources, and they only show a quiet feed's health as fresher. `last_attempt`,
# `last_status` and the stored `next_poll` lag as much (`_DEFERRABLE`; `next_poll_at` predicts
# the next poll from the grid).
HEALTH_REFRESH = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class SourceReport:
    source_id: str
    status: str  # "ok", "not-modified", "error", "skipped" (not due or disabled)
    entries: int = 0
    error: str | None = None
    parsed: bool = False  # whether a feed document was parsed (never for a 304)
    fulltext_pages: int = 0
    unchanged: int = 0  # entries in the document skipped because they were queued before
    state_written: bool = False  # whether this poll wrote the source's state
    # The source's stored state could not be read (DynamoDB left it unprocessed): not polled,
    # nothing written, and its fetch message is failed so SQS delivers it again.
    retry: bool = False


@dataclass(frozen=True, slots=True)
class Request:
    """What to ask a feed's server, and the body digest that makes a 200 count as a 304."""

    url: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None


@dataclass(frozen=True, slots=True)
class Reading:
    """What one GET of a feed brought: the answer and, unless it was a 304 or the very body parsed
    last time, the parsed document; or why there was nothing usable."""

    result: HttpResult | None = None
    parsed: ParsedFeed | None = None
    body_hash: str | None = None  # the received body's digest (None for a 304)
    error: FetchError | FeedParseError | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """What a poll does: queue `send`, then remember `state` (when `worth_writing`)."""

    state: SourceState
    send: tuple[RawEntry, ...]
    owed: frozenset[int]  # indexes in `send` (as decided) of entries whose full text is owed
    report: SourceReport


def begin(
    source: Source, stored: SourceState | None, *, unread: bool, only_due: bool, now: datetime
) -> SourceState | SourceReport:
    """The state to poll `source` from, or the report of why it is not polled: its state could
    not be read (polled as new, a gone source would be polled again and its state overwritten),
    it is gone, or (with `only_due`: the worker re-checks the dispatcher) it is not due."""
    if unread:
        return SourceReport(
            source.id, "error", error="internal: source state not read (DynamoDB left it unprocessed)", retry=True
        )
    previous = state_to_poll(source, stored)
    if previous is None:
        return SourceReport(source.id, "skipped", error=stored.disabled_reason if stored else None)
    if only_due and not is_due(previous, now):
        return SourceReport(source.id, "skipped")
    return previous


def effective_feed_url(source: Source, state: SourceState) -> str:
    """Where to poll: the target of a permanent redirect, unless the source was edited since."""
    if state.feed_url and state.feed_url_for == source.feed_url:
        return state.feed_url
    return source.feed_url


def _base(source: Source, state: SourceState) -> SourceState:
    """`state` less a stale override (the source's URL was edited since), with its validators."""
    if state.feed_url is not None and state.feed_url_for != source.feed_url:
        return replace(state, feed_url=None, feed_url_for=None, etag=None, last_modified=None)
    return state


def request_for(source: Source, state: SourceState) -> Request:
    base = _base(source, state)
    return Request(effective_feed_url(source, base), base.etag, base.last_modified, base.body_hash)


def outcome(
    source: Source,
    state: SourceState,
    reading: Reading,
    *,
    now: datetime,
    bounds: PollBounds = DEFAULT_BOUNDS,
    rng: random.Random | None = None,
) -> tuple[SourceState, list[RawEntry], SourceReport]:
    """What one reading means for the source, before any saving is applied.

    The returned state carries the next poll time (`schedule`), the validators to send next
    time (dropped when the server says `Expires: 0`), a 301/308 target as the new feed URL
    (302/307 change nothing), and `disabled` after 410 Gone. A parsed document updates the
    feed's rhythm (entries per week), which sets the interval unless the source pins one; a 304
    keeps the rhythm last read. Backoff after a failure starts from the configured interval.
    """
    base = _base(source, state)
    if reading.error is not None:
        interval = interval_for(source.interval_minutes, bounds)
        return _failed(source, base, reading.error, now=now, interval=interval, bounds=bounds, rng=rng)
    result = reading.result
    if result is None:
        raise ValueError("a reading holds an answer or an error")
    parsed = reading.parsed
    rhythm = base.entries_per_week
    if parsed is not None:
        rhythm = entries_per_week((e.published for e in parsed.entries), now)
    interval = polling_interval(source.interval_minutes, rhythm, bounds)
    keep_validators = not expires_zero(result.headers)
    moved = result.permanent_redirect_to
    new_state = replace(
        base,
        etag=result.etag if keep_validators else None,
        last_modified=result.last_modified if keep_validators else None,
        last_attempt=now,
        last_success=now,
        last_error=None,
        consecutive_failures=0,
        last_status=result.status,
        next_poll=after_success(
            now, interval, bounds, hint=feed_hint(result.headers, parsed.ttl_minutes if parsed else None)
        ),
        feed_url=moved if moved else base.feed_url,
        feed_url_for=source.feed_url if moved else base.feed_url_for,
        body_hash=reading.body_hash if reading.body_hash is not None else base.body_hash,
        entries_per_week=rhythm,
    )
    if parsed is None:
        return new_state, [], SourceReport(source.id, "not-modified")
    return new_state, list(parsed.entries), SourceReport(source.id, "ok", entries=len(parsed.entries), parsed=True)


def _failed(
    source: Source,
    state: SourceState,
    exc: FetchError | FeedParseError,
    *,
    now: datetime,
    interval: timedelta,
    bounds: PollBounds,
    rng: random.Random | None,
) -> tuple[SourceState, list[RawEntry], SourceReport]:
    reason = f"{getattr(exc, 'reason', 'parse-error')}: {exc}"[:500]
    failures = state.consecutive_failures + 1
    status = exc.status if isinstance(exc, FetchError) else None
    retry_after = None
    if isinstance(exc, FetchError) and status in (429, 503):
        retry_after = parse_retry_after(exc.retry_after, now)
    new_state = replace(
        state,
        last_attempt=now,
        last_error=reason,
        last_error_at=now,
        last_status=status if status is not None else state.last_status,
        consecutive_failures=failures,
        next_poll=after_failure(now, failures, interval, bounds, retry_after=retry_after, rng=rng),
    )
    if status == 410:
        # Gone means gone: stop polling until someone edits or re-enables the source.
        # `feed_url_for` remembers which configured URL went away, so an edit re-enables it.
        new_state = replace(
            new_state, disabled=True, disabled_reason=reason, next_poll=None, feed_url_for=source.feed_url
        )
    return new_state, [], SourceReport(source.id, "error", error=reason)


def decide(
    source: Source,
    previous: SourceState,
    reading: Reading,
    *,
    now: datetime,
    bounds: PollBounds = DEFAULT_BOUNDS,
    rng: random.Random | None = None,
) -> Plan:
    """The plan for a reading: only new or changed entries travel (an unchanged one was queued
    before), a success remembers its grid, and entries queued before with their excerpt while
    their full text was owed are marked so (`seen.owed_digest`)."""
    state, entries, report = outcome(source, previous, reading, now=now, bounds=bounds, rng=rng)
    if report.status != "error":
        state = with_grid(state, now)
    if not entries:
        return Plan(state, (), frozenset(), report)
    fresh, seen = fresh_entries(entries, previous.seen)
    remembered = set(records(previous.seen))
    owed = frozenset(i for i, e in enumerate(fresh) if owed_digest(e) in remembered)
    report = replace(report, entries=len(fresh), unchanged=len(entries) - len(fresh))
    return Plan(replace(state, seen=seen), tuple(fresh), owed, report)


def enriched(plan: Plan, enrichment: Enrichment) -> Plan:
    """The plan once full text was fetched for its entries. An owed entry was queued with its
    excerpt before: it travels again only with its full text. Entries the page budget did not
    reach stay owed, and the validators and body hash are forgotten so that the next poll reads
    the feed again and offers them first."""
    send = tuple(e for i, e in enumerate(enrichment.entries) if i not in plan.owed or i in enrichment.improved)
    report = replace(plan.report, entries=len(send), fulltext_pages=enrichment.pages)
    state = plan.state
    if enrichment.deferred:
        deferred = [enrichment.entries[i] for i in sorted(enrichment.deferred)]
        state = replace(state, seen=with_owed(state.seen, deferred), etag=None, last_modified=None, body_hash=None)
    return Plan(state, send, plan.owed, report)


def failed_internally(
    source: Source, previous: SourceState, exc: BaseException, *, now: datetime, bounds: PollBounds = DEFAULT_BOUNDS
) -> Plan:
    """A bug or an AWS fault while polling: recorded as a failure of this source, with backoff.
    Built from `previous`: the body hash and digests stay as they were, so whatever was not sent
    is found new (and sent) on the next poll."""
    reason = f"internal: {type(exc).__name__}: {exc}"[:500]
    failures = previous.consecutive_failures + 1
    state = replace(
        previous,
        last_attempt=now,
        last_error=reason,
        last_error_at=now,
        consecutive_failures=failures,
        next_poll=after_failure(now, failures, interval_for(source.interval_minutes, bounds), bounds),
    )
    return Plan(state, (), frozenset(), SourceReport(source.id, "error", error=reason))


# Fields an unchanged poll may leave stale in the stored state: the health times (refreshed
# every HEALTH_REFRESH), the status (200 vs 304 of the same document), the next poll (the grid
# `next_poll + k * poll_interval_s` already predicts it) and validators: a 304 says the stored ones
# still work, and a server that changes its ETag on every same-body 200 would otherwise cost a
# write per poll. A new document (body hash) writes them with it.
_DEFERRABLE: dict[str, Any] = {
    "last_attempt": None,
    "last_success": None,
    "last_status": None,
    "next_poll": None,
    "etag": None,
    "last_modified": None,
}


def worth_writing(stored: SourceState | None, new: SourceState) -> bool:
    """Whether a poll's state must be written: always for a new source, a failure, a recovery,
    a new document (body hash, digests), a move, a changed interval or disabling;
    for a healthy unchanged poll only once `last_success` is HEALTH_REFRESH old."""
    if stored is None or new.consecutive_failures or new.last_error:
        return True
    if replace(stored, **_DEFERRABLE) != replace(new, **_DEFERRABLE):
        return True
    if stored.poll_interval_s is None or stored.next_poll is None:
        return True  # a state written before the grid existed: write it once with the grid
    return new.last_success is not None and (
        stored.last_success is None or new.last_success - stored.last_success >= HEALTH_REFRESH
    )

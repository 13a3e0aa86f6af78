"""The I/O edges of the pipeline: polling sources, queueing entries, ingesting them, fetching prices.

Handlers call these with a `Store` and clients they own; everything decided here comes from the
pure modules (`feeds`, `process`, `prices`).
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from newsroom.core.claimcheck import MAX_MESSAGE_BYTES, EntryBucket
from newsroom.core.codec import entry_to_message
from newsroom.core.models import Article, Price, ProviderHealth, RawEntry, Source, SourceState
from newsroom.core.retry import backoff_delays
from newsroom.fetch.feeds import FeedParseError, parse_feed
from newsroom.fetch.http import FetchError, FetchPolicy, http_get
from newsroom.prices.providers import PriceError, PriceRules, choose_prices, fetch_coingecko, with_change_from_history
from newsroom.process.build import Decision, Outcome, ProcessingContext, build_article, merge
from newsroom.process.dedupe import claims_for, find_cluster
from newsroom.process.fingerprint import fingerprint
from newsroom.sources.schedule import (
    PollBounds,
    after_failure,
    after_success,
    expires_zero,
    feed_hint,
    interval_for,
    is_due,
    parse_retry_after,
)
from newsroom.store.batches import StoreIncomplete
from newsroom.store.roles import FetcherStore, PricesStore, ProcessorStore
from newsroom.store.stories import ConflictError

if TYPE_CHECKING:
    from newsroom.fetch.fulltext import Enricher

logger = logging.getLogger(__name__)

DEFAULT_BOUNDS = PollBounds()
# How far from exactly 24 h ago a stored price may be to stand in for "the price 24 h ago".
HISTORY_TOLERANCE = timedelta(minutes=30)

MAX_BATCH_BYTES = 250_000  # ...and 256 KiB for a whole SendMessageBatch call
MAX_ATTEMPTS = 6

# The fetch path's savings (see `fetch_all`).
SEEN_MAX = 300  # digests kept per source at most: 2.4 KB, the state item stays under 4 KB
SEEN_MIN = 50  # ...and at least this many, so an entry that drops out and comes back is known
DIGEST_BYTES = 8  # per entry: blake2b-32 of its name + blake2b-32 of its content
_HALF = DIGEST_BYTES // 2
# An unchanged poll writes nothing, so `last_success`/`last_attempt` (GET /sources) lag by at
# most this much for a healthy source; a failure is always written at once.
HEALTH_REFRESH = timedelta(hours=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class UnknownSourceError(ValueError):
    """An entry from a source that is not configured (fails the same way until it is added)."""


# -- fetching ---------------------------------------------------------------------------------


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


def entry_digest(entry: RawEntry) -> bytes:
    """8 bytes for an entry: 4 naming it (GUID, else link) and 4 for its content, i.e. the queue
    message minus the fetch time, so any change the processor could see (title, body, link,
    dates, tags...) is a new content half. Kept per name, the latest version wins, so a
    correction *and* a correction undone are both queued. A new entry is skipped only if both
    halves collide with one remembered entry (~2^-64 per entry and remembered entry)."""
    message = entry_to_message(replace(entry, fetched_at=_EPOCH))
    name = hashlib.blake2b(f"{entry.guid or ''}\n{entry.link}".encode(), digest_size=_HALF).digest()
    return name + hashlib.blake2b(message.encode(), digest_size=_HALF).digest()


def body_digest(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=DIGEST_BYTES).hexdigest()


def fresh_entries(entries: Sequence[RawEntry], seen: bytes) -> tuple[list[RawEntry], bytes]:
    """The entries that are new or changed since they were last queued, and the digests to
    remember once they are: this document's (in order, up to SEEN_MAX), then older ones whose
    name is not in the document, up to max(SEEN_MIN, 2 x the document's entries)."""
    records = [seen[i : i + DIGEST_BYTES] for i in range(0, len(seen), DIGEST_BYTES)]
    latest: dict[bytes, bytes] = {}
    for record in reversed(records):  # newest first in `seen`: the first record of a name wins
        latest[record[:_HALF]] = record[_HALF:]
    fresh: list[RawEntry] = []
    current: dict[bytes, bytes] = {}
    for entry in entries:
        digest = entry_digest(entry)
        name, content = digest[:_HALF], digest[_HALF:]
        if latest.get(name) != content and current.get(name) != content:
            fresh.append(entry)
        current.setdefault(name, content)
    keep = min(SEEN_MAX, max(SEEN_MIN, 2 * len(current)))
    merged = [name + content for name, content in current.items()]
    merged.extend(r for r in records if r[:_HALF] not in current)
    return fresh, b"".join(merged[:keep])


def owed_digest(entry: RawEntry) -> bytes:
    """What is remembered for an entry queued with its feed excerpt while its full text is owed
    (`fulltext`'s page budget was spent): its name, and its content half inverted. The next poll
    finds the entry changed (so offers it again) and, by this mark, owed."""
    digest = entry_digest(entry)
    return digest[:_HALF] + bytes(b ^ 0xFF for b in digest[_HALF:])


def _with_owed(seen: bytes, owed: Sequence[RawEntry]) -> bytes:
    marks = {d[:_HALF]: d for d in map(owed_digest, owed)}
    records = [seen[i : i + DIGEST_BYTES] for i in range(0, len(seen), DIGEST_BYTES)]
    return b"".join(marks.get(r[:_HALF], r) for r in records)


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


def send_entries(sqs: Any, queue_url: str, entries: Sequence[RawEntry], *, bucket: EntryBucket | None = None) -> int:
    """One entry per message, up to ten per SendMessageBatch call and never more than SQS's
    per-call payload limit in one call; an entry too big for a message goes to `bucket` and
    its message is a claim check. Raises if SQS (or S3) refuses any."""
    bodies = [entry_message(entry, bucket) for entry in entries]
    sent = 0
    batch: list[str] = []
    batch_bytes = 0

    def flush() -> None:
        nonlocal sent, batch, batch_bytes
        if not batch:
            return
        resp = sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(batch)],
        )
        failed = resp.get("Failed") or []
        if failed:
            raise RuntimeError(f"SQS refused {len(failed)} messages: {failed[0].get('Message')}")
        sent += len(batch)
        batch, batch_bytes = [], 0

    for body in bodies:
        size = len(body.encode())
        if len(batch) == 10 or batch_bytes + size > MAX_BATCH_BYTES:
            flush()
        batch.append(body)
        batch_bytes += size
    flush()
    return sent


def effective_feed_url(source: Source, state: SourceState) -> str:
    """Where to poll: the target of a permanent redirect, unless the source was edited since."""
    if state.feed_url and state.feed_url_for == source.feed_url:
        return state.feed_url
    return source.feed_url


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
    """Fetch one source politely; never raises for the source's own faults.

    The returned state carries the next poll time (`schedule`), the validators to send next
    time (dropped when the server says `Expires: 0`), a 301/308 target as the new feed URL
    (302/307 change nothing), and `disabled` after 410 Gone.
    """
    interval = interval_for(source.interval_minutes, bounds)
    # A stale override (the source's URL was edited since) is forgotten with its validators.
    stale_override = state.feed_url is not None and state.feed_url_for != source.feed_url
    base = replace(state, feed_url=None, feed_url_for=None, etag=None, last_modified=None) if stale_override else state
    url = effective_feed_url(source, base)
    parsed = None
    body_hash = base.body_hash
    try:
        result = get(url, policy, etag=base.etag, last_modified=base.last_modified)
        if not result.not_modified:
            body_hash = body_digest(result.body)
        # A 200 with the very body we parsed last time (a server that ignores validators) is
        # a 304: no parse, no entries. The hash is of the bytes as received (decompressed).
        if not result.not_modified and body_hash != base.body_hash:
            parsed = parse_feed(
                result.body,
                source_id=source.id,
                base_url=result.url,
                fetched_at=now,
                response_headers=result.headers,
            )
    except (FetchError, FeedParseError) as exc:
        return _failed(source, base, exc, now=now, interval=interval, bounds=bounds, rng=rng)

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
        body_hash=body_hash,
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
) -> list[SourceReport]:
    """Poll enabled sources concurrently; one failing source never stops the others.

    Disabled sources (configured off, or 410 Gone) are skipped; with `only_due`, so are sources
    whose next poll time has not come (the fan-out worker re-checks what the dispatcher decided,
    so a duplicate SQS delivery does not poll twice). `enrich` adds full text before queueing;
    entries it had no page budget for are queued with their excerpt and remembered as owed
    (`owed_digest`), with neither validators nor body hash kept, so the next poll reads the
    feed again and offers them first.
    """
    moment = now or datetime.now(UTC)
    enabled = [s for s in sources if s.enabled]
    unread: frozenset[str] = frozenset()
    try:
        states = store.get_source_states([s.id for s in enabled])
    except StoreIncomplete as exc:
        # An unread state is not a new source: polled as one, a source gone (410) would be
        # polled again and its validators, digests and `disabled` overwritten. Those sources
        # fail for a retry; the others go on with the states that were read.
        logger.warning("source states not read: %s", exc)
        states = {k: v for k, v in exc.partial.items() if isinstance(v, SourceState)}
        unread = frozenset(exc.missing)

    def one(source: Source) -> SourceReport:
        if source.id in unread:
            return SourceReport(
                source.id, "error", error="internal: source state not read (DynamoDB left it unprocessed)", retry=True
            )
        stored = states.get(source.id)
        previous = stored or SourceState(source_id=source.id)
        if previous.disabled and previous.feed_url_for in (None, source.feed_url):
            return SourceReport(source.id, "skipped", error=previous.disabled_reason)
        if previous.disabled:
            # The source's URL was edited since it went away: give the new URL a chance.
            previous = replace(previous, disabled=False, disabled_reason=None, next_poll=None, consecutive_failures=0)
        if only_due and not is_due(previous, moment):
            return SourceReport(source.id, "skipped")
        try:
            new_state, entries, report = poll_source(source, previous, policy, now=moment, get=get, bounds=bounds)
            if report.status != "error":
                new_state = _scheduled(new_state, moment)
            owed: frozenset[int] = frozenset()
            if entries:
                # Only new or changed entries travel: an unchanged one was queued before.
                fresh, seen = fresh_entries(entries, previous.seen)
                remembered = {previous.seen[i : i + DIGEST_BYTES] for i in range(0, len(previous.seen), DIGEST_BYTES)}
                owed = frozenset(i for i, e in enumerate(fresh) if owed_digest(e) in remembered)
                report = replace(report, entries=len(fresh), unchanged=len(entries) - len(fresh))
                new_state = replace(new_state, seen=seen)
                entries = fresh
            if entries and enrich is not None:
                enriched = enrich(source, entries, owed)
                # An owed entry was queued with its excerpt before: it travels again only with
                # its full text. One still without a page stays owed.
                entries = [e for i, e in enumerate(enriched.entries) if i not in owed or i in enriched.improved]
                report = replace(report, entries=len(entries), fulltext_pages=enriched.pages)
                if enriched.deferred:
                    new_state = replace(
                        new_state,
                        seen=_with_owed(new_state.seen, [enriched.entries[i] for i in sorted(enriched.deferred)]),
                        etag=None,
                        last_modified=None,
                        body_hash=None,
                    )
            if entries:
                send_entries(sqs, queue_url, entries, bucket=bucket)
        except Exception as exc:  # a bug or AWS fault for this source is recorded, not fatal to the run
            logger.exception("source %s failed", source.id)
            reason = f"internal: {type(exc).__name__}: {exc}"[:500]
            failures = previous.consecutive_failures + 1
            # Built from `previous`: the body hash and digests stay as they were, so whatever
            # was not sent is found new (and sent) on the next poll.
            new_state = replace(
                previous,
                last_attempt=moment,
                last_error=reason,
                last_error_at=moment,
                consecutive_failures=failures,
                next_poll=after_failure(moment, failures, interval_for(source.interval_minutes, bounds), bounds),
            )
            report = SourceReport(source.id, "error", error=reason)
        # Written only after SendMessageBatch succeeded (a crash before this line re-sends the
        # entries next time; the processor is idempotent), and only when something material
        # changed: an unchanged 304 or same-body 200 writes nothing.
        if _worth_writing(stored, new_state):
            try:
                store.put_source_state(new_state)
            except Exception as exc:  # still failing after the client's retries: this source only
                logger.exception("state of source %s not written", source.id)
                # Its entries (if any) were sent; with the old state kept, the next poll finds
                # them again and the processor drops the repeats. The other sources go on.
                return replace(report, status="error", error=f"internal: state not written: {type(exc).__name__}")
            report = replace(report, state_written=True)
        return report

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(enabled) or 1))) as pool:
        return list(pool.map(one, enabled))


def _scheduled(state: SourceState, now: datetime) -> SourceState:
    """A success's state with the delay it scheduled remembered (whole minutes, so a feed's hint
    that wobbles by seconds does not count as a change): together with `next_poll` it gives the
    dispatcher every later poll time, so unchanged polls need not write (`fanout.select_due`)."""
    if state.next_poll is None:
        return state
    minutes = max(1, round((state.next_poll - now).total_seconds() / 60))
    return replace(state, poll_interval_s=minutes * 60)


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


def _worth_writing(stored: SourceState | None, new: SourceState) -> bool:
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


# -- processing -------------------------------------------------------------------------------


def _superseded(incoming: Article, stored: Article) -> bool:
    """An older version of an entry we already corrected: a replayed or late-redelivered message.

    A stored correction's `updated` is at least the time its entry was fetched (see `merge`), so
    a version neither fetched nor dated after it is older news; applying it would undo the
    correction. Ties go to what is stored, so replays cannot flip between two versions.
    """
    return max(incoming.updated, incoming.first_seen) <= stored.updated


def ingest(entry: RawEntry, store: ProcessorStore, ctx: ProcessingContext) -> Decision:
    """Store one entry exactly once, whatever order and however often it arrives."""
    if entry.source_id not in ctx.sources:
        raise UnknownSourceError(f"entry from unknown source {entry.source_id!r}")
    incoming = build_article(entry, ctx)
    guid = (entry.source_id, entry.guid) if entry.guid else None
    if guid is not None:
        claimed = store.story_for_guid(*guid)
        if claimed is not None and claimed != incoming.id:
            # Same entry (by GUID) under a new URL: it is still the story we stored.
            incoming = replace(incoming, id=claimed)
    content_fingerprint = fingerprint(incoming.content_text)
    # A conflict means another writer won (the same story, or a story of the same source: its
    # count is in the transaction too); jittered backoff, so two processors do not collide again.
    for _ in backoff_delays(MAX_ATTEMPTS, base=0.02, cap=0.5):
        existing = store.get_article(incoming.id)
        claims = None
        if existing is None:
            # No story under this URL: a copy that names nothing is found by its content.
            cluster = find_cluster(store, incoming, content_fingerprint, now=ctx.now)
            existing = cluster.stored
            claims = claims_for(cluster, incoming, existing.article.id if existing else incoming.id, ctx.now)
        try:
            if existing is None:
                store.create_article(incoming, guid=guid, claims=claims)
                return Decision(Outcome.CREATED, incoming)
            decision = merge(existing.article, incoming, ctx.sources)
            if decision.outcome is Outcome.UPDATED and _superseded(incoming, existing.article):
                decision = Decision(Outcome.UNCHANGED, existing.article)
            if decision.outcome is Outcome.UNCHANGED:
                if guid is not None and store.story_for_guid(*guid) is None:
                    store.claim_guid(guid[0], guid[1], existing.article.id)
                return decision
            store.replace_article(existing, decision.article, guid=guid, claims=claims)
            return decision
        except ConflictError:
            continue  # someone else wrote the story meanwhile: read it again and re-decide
    raise ConflictError(f"story {incoming.id} kept changing; giving up for a retry")


def ingest_many(entries: Sequence[RawEntry], store: ProcessorStore, ctx: ProcessingContext) -> Counter[str]:
    return Counter(ingest(entry, store, ctx).outcome.value for entry in entries)


# -- prices -----------------------------------------------------------------------------------


def refresh_prices(
    store: PricesStore,
    base_url: str,
    policy: FetchPolicy,
    *,
    symbols: Sequence[str],
    now: datetime | None = None,
    fallback: Callable[[], Sequence[Price]] | None = None,
    fallback_name: str = "fallback",
    rules: PriceRules | None = None,
) -> list[Price]:
    """Fetch, check and store prices; the second provider (`fallback`) is asked only when the
    first fails, lacks a symbol or reports a jump that needs confirming (`prices.choose_prices`).
    Nothing stored means the last good prices stay and age into `stale` on /prices. Each
    provider asked has its health stored beside the prices (`/prices` shows it)."""
    moment = now or datetime.now(UTC)
    # provider -> None when it answered usably, else the reason it did not
    answered: dict[str, str | None] = {}
    primary: dict[str, Price] | None
    try:
        primary = {p.symbol: p for p in fetch_coingecko(base_url, policy, symbols=symbols, now=moment)}
        answered[PRIMARY_PROVIDER] = None
    except (PriceError, FetchError) as exc:
        logger.warning("primary price provider failed: %s", exc)
        answered[PRIMARY_PROVIDER] = _price_failure(exc)
        primary = None

    def second() -> dict[str, Price]:
        if fallback is None:
            return {}
        try:
            got = {p.symbol: p for p in fallback()}
        except Exception as exc:  # choose_prices logs it and carries on with what it has
            answered[fallback_name] = _price_failure(exc)
            raise
        answered[fallback_name] = None
        return got

    last_good, health = store.get_price_board()
    choice = choose_prices(
        symbols, primary, second, {p.symbol: p for p in last_good}, now=moment, rules=rules or PriceRules()
    )
    for note in choice.notes:
        logger.info("prices: %s", note)
    prices = [
        with_change_from_history(p, store.price_near(p.pair, moment - timedelta(hours=24), HISTORY_TOLERANCE))
        if p.change_24h_pct is None
        else p
        for p in choice.prices
    ]
    if prices:
        store.put_prices(prices)
    store.put_provider_health([provider_health(health.get(n), n, why, moment) for n, why in answered.items()])
    return prices


PRIMARY_PROVIDER = "coingecko"


def _price_failure(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or type(exc).__name__
    return f"{reason}: {exc}"[:300]


def provider_health(
    previous: ProviderHealth | None, provider: str, failure: str | None, now: datetime
) -> ProviderHealth:
    """A provider's health after it was asked at `now` and answered (failure None) or not."""
    if failure is None:
        return ProviderHealth(
            provider,
            last_attempt=now,
            last_success=now,
            last_error=previous.last_error if previous else None,
            last_error_at=previous.last_error_at if previous else None,
        )
    return ProviderHealth(
        provider,
        last_attempt=now,
        last_success=previous.last_success if previous else None,
        last_error=failure,
        last_error_at=now,
        consecutive_failures=(previous.consecutive_failures if previous else 0) + 1,
    )

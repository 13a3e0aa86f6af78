"""What each Lambda does, wired to the process-wide clients: the handlers only delegate here."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from newsroom.core.claimcheck import claim_in
from newsroom.core.codec import MessageError, entry_from_message
from newsroom.core.config import DEFAULT_EVENT_LIMITS, FULLTEXT_DEADLINE_SECONDS, Settings, load_sources, settings
from newsroom.core.models import Price
from newsroom.fetch.apply import fetch_all
from newsroom.fetch.fanout import FetchMessage, WorkerResult, dispatch, poll_dispatched
from newsroom.fetch.fulltext import make_enricher
from newsroom.fetch.http import FetchPolicy
from newsroom.fetch.poll import SourceReport
from newsroom.prices.providers import PriceRules, fetch_fallback
from newsroom.prices.refresh import refresh_prices
from newsroom.process.build import Decision, ProcessingContext
from newsroom.process.ingest import UnknownSourceError, ingest
from newsroom.sources.registry import known_sources
from newsroom.sources.schedule import DispatchReport, PollBounds
from newsroom.store.rejects import Reject
from newsroom.websub.push import PushStep
from newsroom.wiring import clients as runtime

logger = logging.getLogger(__name__)


def _wall_clock() -> datetime:
    return datetime.now(UTC)


# The processor's notion of "now" (clamping future dates, fingerprint TTLs, reject times). Tests
# pin it so that two runs of the same input can be compared item for item.
clock: Callable[[], datetime] = _wall_clock


def fetch_policy(cfg: Settings) -> FetchPolicy:
    return FetchPolicy(
        connect_timeout=cfg.fetch_connect_timeout,
        read_timeout=cfg.fetch_read_timeout,
        max_bytes=cfg.fetch_max_bytes,
        allow_private=cfg.allow_private_network,
        user_agent=cfg.user_agent,
        # A server that drips bytes resets the read timeout forever; the whole request gets
        # connect + 2 reads (25 s by default), inside the price function's 30 s timeout.
        total_timeout=cfg.fetch_connect_timeout + 2 * cfg.fetch_read_timeout,
    )


def poll_bounds(cfg: Settings) -> PollBounds:
    minimum = timedelta(minutes=cfg.poll_min_minutes)
    default = max(minimum, timedelta(minutes=cfg.poll_default_minutes))
    maximum = max(default, timedelta(minutes=cfg.poll_max_minutes))
    ceiling = max(minimum, timedelta(minutes=cfg.backoff_ceiling_minutes))
    rhythm_max = min(maximum, max(default, timedelta(minutes=cfg.poll_rhythm_max_minutes)))
    return PollBounds(
        default_interval=default,
        min_interval=minimum,
        max_interval=maximum,
        backoff_ceiling=ceiling,
        rhythm_factor=cfg.poll_rhythm_factor,
        rhythm_max_interval=rhythm_max,
    )


def push_hook(cfg: Settings, policy: FetchPolicy) -> PushStep | None:
    """The fetcher's WebSub step (issue 19), when the stack says where hubs reach the callback."""
    if not cfg.websub_callback_base_url:
        return None
    return PushStep(runtime.store(), cfg.websub_callback_base_url, policy)


def dispatch_due_sources(now: datetime | None = None) -> DispatchReport:
    """The dispatcher's tick: enqueue the due sources on the fetch queue."""
    cfg = settings()
    if not cfg.fetch_queue_url:
        raise RuntimeError("FETCH_QUEUE_URL is not set: the dispatcher has nowhere to send sources")
    return dispatch(
        runtime.store(),
        runtime.sqs(),
        cfg.fetch_queue_url,
        now=now or datetime.now(UTC),
        per_message=cfg.fetch_sources_per_message,
    )


def fetch_dispatched(messages: Sequence[FetchMessage], now: datetime | None = None) -> WorkerResult:
    """The fetch worker: poll the sources a batch of fetch messages names."""
    cfg = settings()
    policy = fetch_policy(cfg)
    store = runtime.store()
    return poll_dispatched(
        messages,
        store,
        runtime.sqs(),
        cfg.queue_url,
        policy,
        concurrency=cfg.fetch_concurrency,
        now=now or datetime.now(UTC),
        fetch_queue_url=cfg.fetch_queue_url,
        bounds=poll_bounds(cfg),
        enrich=make_enricher(
            store,
            policy,
            max_pages=cfg.fulltext_max_pages,
            budget_seconds=cfg.fulltext_budget_seconds,
            deadline_seconds=FULLTEXT_DEADLINE_SECONDS,
        ),
        bucket=runtime.entry_bucket(),
        push=push_hook(cfg, policy),
    )


def fetch_feeds(now: datetime | None = None) -> list[SourceReport]:
    cfg = settings()
    return fetch_all(
        load_sources(),
        runtime.store(),
        runtime.sqs(),
        cfg.queue_url,
        fetch_policy(cfg),
        concurrency=cfg.fetch_concurrency,
        now=now,
        bucket=runtime.entry_bucket(),
        push=push_hook(cfg, fetch_policy(cfg)),
    )


def summarize(reports: list[SourceReport]) -> dict[str, int]:
    counts = Counter(r.status for r in reports)
    return {
        "sources": len(reports),
        "ok": counts["ok"],
        "not_modified": counts["not-modified"],
        "failed": counts["error"],
        "entries": sum(r.entries for r in reports),
    }


def processing_context(now: datetime | None = None) -> ProcessingContext:
    cfg = settings()
    return ProcessingContext.build(
        known_sources(runtime.store()),  # the file plus sources added to the registry
        site_name=cfg.site_name,
        desk_name=cfg.desk_name,
        editorial_image_base_url=cfg.editorial_image_base_url,
        max_body_bytes=cfg.max_body_bytes,
        now=now or clock(),
        limits=cfg.entry_limits,
        events=replace(DEFAULT_EVENT_LIMITS, retention_days=cfg.article_retention_days),
    )


def process_message(body: str, ctx: ProcessingContext | None = None) -> Decision:
    """One queue message → one stored (or deduplicated) story. Raises on a poison message."""
    return ingest(entry_from_message(redeem(body)), runtime.store(), ctx or processing_context())


def redeem(body: str) -> str:
    """The entry message itself: `body`, or what its claim check points to in the entry bucket."""
    claim = claim_in(body)
    if claim is None:
        return body
    bucket = runtime.entry_bucket()
    if bucket is None or bucket.bucket != claim.bucket:
        configured = bucket.bucket if bucket else None
        raise MessageError(f"claim check for bucket {claim.bucket!r}, but this stack's entry bucket is {configured!r}")
    return bucket.redeem(claim)


def describe_failure(
    message_id: str, body: str, exc: BaseException, receive_count: int, now: datetime | None = None
) -> Reject:
    """The rejects record for a message that failed: what failed, and whether a replay can help."""
    source_id = link = None
    try:
        data = json.loads(body)
        if isinstance(data, dict):
            source_id = str(data["source_id"])[:200] if data.get("source_id") else None
            link = str(data["link"])[:2000] if data.get("link") else None
    except ValueError:
        pass  # not JSON at all: the reason says so
    return Reject(
        message_id=message_id,
        reason=f"{type(exc).__name__}: {exc}",
        error_type=type(exc).__name__,
        # A malformed message, an entry from an unknown source or one too large to store even after
        # the input limits (`EntryRejected`, a MessageError) fails the same way every time;
        # anything else (AWS faults, lost races) may well pass on a replay.
        permanent=isinstance(exc, MessageError | UnknownSourceError),
        receive_count=receive_count,
        failed_at=now or clock(),
        source_id=source_id,
        link=link,
        body_sha256=hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest(),
    )


def record_reject(message_id: str, body: str, exc: BaseException, receive_count: int) -> None:
    """Write why `message_id` failed (keyed `REJECT#<id>`); never masks the original failure."""
    try:
        runtime.rejects().put_reject(describe_failure(message_id, body, exc, receive_count))
    except Exception:
        logger.exception("could not record the reject of message %s", message_id)


def clear_reject(message_id: str, receive_count: int) -> None:
    """A message that failed before and now succeeded is no longer a reject.

    Only a redelivered message (receive count above 1) can have a record, so a first delivery
    costs nothing here; the table then holds exactly what one clean run would have written.
    """
    if receive_count > 1:
        runtime.rejects().delete_reject(message_id)


def fetch_prices(now: datetime | None = None) -> list[Price]:
    cfg = settings()
    moment = now or datetime.now(UTC)
    policy = fetch_policy(cfg)
    return refresh_prices(
        runtime.store(),
        cfg.price_api_base_url,
        policy,
        symbols=cfg.price_symbols,
        now=moment,
        fallback=lambda: fetch_fallback(
            cfg.price_fallback_provider, cfg.price_fallback_base_url, policy, symbols=cfg.price_symbols, now=moment
        ),
        fallback_name=cfg.price_fallback_provider,
        rules=PriceRules(
            max_jump_pct=cfg.price_max_jump_pct, jump_window=timedelta(minutes=cfg.price_jump_window_minutes)
        ),
    )

"""What each Lambda does, wired to the process-wide clients: the handlers only delegate here."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from newsroom import runtime
from newsroom.codec import entry_from_message
from newsroom.config import Settings, load_sources, settings
from newsroom.http import FetchPolicy
from newsroom.models import Price
from newsroom.pipeline import SourceReport, fetch_all, ingest, refresh_prices
from newsroom.process import Decision, ProcessingContext


def fetch_policy(cfg: Settings) -> FetchPolicy:
    return FetchPolicy(
        connect_timeout=cfg.fetch_connect_timeout,
        read_timeout=cfg.fetch_read_timeout,
        max_bytes=cfg.fetch_max_bytes,
        allow_private=cfg.allow_private_network,
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
        load_sources(),
        site_name=cfg.site_name,
        desk_name=cfg.desk_name,
        editorial_image_base_url=cfg.editorial_image_base_url,
        max_body_bytes=cfg.max_body_bytes,
        now=now or datetime.now(UTC),
    )


def process_message(body: str, ctx: ProcessingContext | None = None) -> Decision:
    """One queue message → one stored (or deduplicated) story. Raises on a poison message."""
    return ingest(entry_from_message(body), runtime.store(), ctx or processing_context())


def fetch_prices(now: datetime | None = None) -> list[Price]:
    cfg = settings()
    return refresh_prices(
        runtime.store(), cfg.price_api_base_url, fetch_policy(cfg), symbols=cfg.price_symbols, now=now
    )

"""Processing throughput on the bundled sample feeds: parse + build_article, one core, no I/O."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from devtools.sample_server import SAMPLES
from newsroom.core.config import parse_sources
from newsroom.fetch.feeds import parse_feed
from newsroom.process.build import ProcessingContext, build_article


def main() -> None:
    sources = parse_sources((SAMPLES / "sources.json").read_text().replace("{base}", "http://127.0.0.1"))
    ctx = ProcessingContext.build(
        sources,
        site_name="CryptoCompass",
        desk_name="CryptoCompass newsroom",
        editorial_image_base_url="https://cdn.example/editorial",
        max_body_bytes=180_000,
        now=datetime(2026, 6, 1, tzinfo=UTC),
    )
    feeds = {p.stem: p.read_bytes() for p in (SAMPLES / "feeds").glob("*.xml")}
    rounds = 30
    parse_time = build_time = 0.0
    entries = 0
    for _ in range(rounds):
        for source_id, body in feeds.items():
            t0 = time.perf_counter()
            parsed = parse_feed(body, source_id=source_id, base_url="https://x.example/", fetched_at=ctx.now)
            t1 = time.perf_counter()
            for entry in parsed.entries:
                build_article(entry, ctx)
            build_time += time.perf_counter() - t1
            parse_time += t1 - t0
            entries += len(parsed.entries)
    print(f"{'step':<28}{'entries/s':>12}{'ms/entry':>12}")
    for label, seconds in (("parse (feedparser)", parse_time), ("build_article", build_time)):
        print(f"{label:<28}{entries / seconds:>12,.0f}{seconds / entries * 1000:>12.2f}")
    total = parse_time + build_time
    print(f"{'whole processing step':<28}{entries / total:>12,.0f}{total / entries * 1000:>12.2f}")

"""Processing throughput on the bundled sample feeds: parse + build_article, one core, no I/O;
then parsing alone on the real-feeds corpus, each path on its own line, and the share of corpus
documents and entries the fast parse path serves."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import feedparser

from devtools import golden
from devtools.sample_server import SAMPLES
from newsroom.core.config import parse_sources
from newsroom.fetch.feeds import FeedParseError, parse_feed
from newsroom.process.build import ProcessingContext, build_article

_REAL_FEEDS = ("real-feeds", "crypto-2026-10-03")


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
    for label, seconds in (("parse (fast path on)", parse_time), ("build_article", build_time)):
        print(f"{label:<28}{entries / seconds:>12,.0f}{seconds / entries * 1000:>12.2f}")
    total = parse_time + build_time
    print(f"{'whole processing step':<28}{entries / total:>12,.0f}{total / entries * 1000:>12.2f}")
    _parse_paths("sample feeds", list(feeds.values()), rounds=30)
    real = [doc.body for doc in golden.documents() if doc.name.split("/")[1] in _REAL_FEEDS]
    _parse_paths("real-feeds corpus", real, rounds=3)
    _fast_path_share()


def _parse_paths(label: str, bodies: list[bytes], *, rounds: int) -> None:
    """Parsing alone, best of `rounds` passes over `bodies`: feedparser with its defaults (the
    reference), parse_feed with feedparser only, and parse_feed with the fast path in front."""

    def reference(body: bytes) -> int:
        return len(feedparser.parse(io.BytesIO(body)).entries)

    def through(fast_path: bool) -> Callable[[bytes], int]:
        def parse(body: bytes) -> int:
            try:
                return len(_parse(body, fast_path=fast_path).entries)
            except FeedParseError:
                return 0

        return parse

    paths = [
        ("feedparser defaults", reference),
        ("parse_feed, feedparser only", through(False)),
        ("parse_feed, fast path on", through(True)),
    ]
    print(f"\nparsing, {label} ({len(bodies)} documents)")
    print(f"{'path':<32}{'entries/s':>12}{'µs/entry':>12}{'× reference':>13}")
    reference_rate = 0.0
    for name, parse in paths:
        seconds, entries = _best(bodies, parse, rounds)
        rate = entries / seconds
        reference_rate = reference_rate or rate
        print(f"{name:<32}{rate:>12,.0f}{seconds / entries * 1e6:>12.0f}{rate / reference_rate:>12.1f}×")


def _best(bodies: Iterable[bytes], parse: Callable[[bytes], int], rounds: int) -> tuple[float, int]:
    best, entries = float("inf"), 0
    for _ in range(rounds):
        started = time.perf_counter()
        entries = sum(parse(body) for body in bodies)
        best = min(best, time.perf_counter() - started)
    return best, entries


def _parse(body: bytes, *, fast_path: bool = True, headers: dict[str, str] | None = None) -> object:
    return parse_feed(
        body,
        source_id="bench",
        base_url=golden.CORPUS_BASE_URL,
        fetched_at=golden.CLOCK,
        response_headers=headers,
        fast_path=fast_path,
    )


def _fast_path_share() -> None:
    """How much of the corpus (as the golden record serves it) the fast path reads."""
    counts = {"all": [0, 0, 0, 0], "real feeds": [0, 0, 0, 0]}  # documents, fast ones, entries, fast ones
    for document in golden.documents():
        try:
            parsed = parse_feed(
                document.body,
                source_id="bench",
                base_url=document.source.feed_url,
                fetched_at=golden.CLOCK,
                response_headers=document.headers,
            )
        except FeedParseError:
            parsed = None
        groups = ["all"] + (["real feeds"] if document.name.split("/")[1] in _REAL_FEEDS else [])
        for group in groups:
            tally = counts[group]
            tally[0] += 1
            if parsed is not None:
                fast = parsed.parser == "fast"
                tally[1] += fast
                tally[2] += len(parsed.entries)
                tally[3] += len(parsed.entries) if fast else 0
    print("\nserved by the fast parse path")
    print(f"{'corpus':<16}{'documents':>18}{'entries':>20}")
    for group, (documents, fast_documents, entries, fast_entries) in counts.items():
        print(
            f"{group:<16}{fast_documents:>6,}/{documents:<6,}{fast_documents / documents:>5.0%}"
            f"{fast_entries:>8,}/{entries:<6,}{fast_entries / max(entries, 1):>5.0%}"
        )

"""Backfill: feed an archive of feed files, or an OPML list of feeds, through the same processing.

    .venv/bin/python -m devtools.backfill archive/coindesk/*.xml --source coindesk
    .venv/bin/python -m devtools.backfill archive/ --sources my-sources.json      # file stem = source id
    .venv/bin/python -m devtools.backfill --opml subscriptions.opml --sources my-sources.json --store

Each document is parsed by `newsroom.fetch.feeds.parse_feed` and each entry becomes an article by
`newsroom.process.build.build_article` and a content fingerprint, exactly as the processor does
(`process_document`). Without `--store` nothing is written: it reports what it processed and how
fast. With `--store`, every entry goes through `newsroom.process.ingest.ingest` into the DynamoDB
table named by `TABLE_NAME` (the endpoint from `AWS_ENDPOINT_URL` when set, e.g. moto), with the
same dedupe, attribution and original selection as live processing — entries of one document
are ingested oldest first, so the original of a cluster is, as live, the earliest unless a marker
or a source's role says otherwise.

An OPML outline's `xmlUrl` is fetched with the processor's fetch policy (timeouts, size cap,
no private addresses unless `ALLOW_PRIVATE_NETWORK`); it must match a configured source's
`feed_url` (or a source id given with `--source`), since every entry needs its source's role.
"""

from __future__ import annotations

import argparse
import sys
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from newsroom.core.models import Article, RawEntry, Source
from newsroom.core.xmlguard import check_xml
from newsroom.fetch.feeds import FeedParseError, parse_feed
from newsroom.process.build import ProcessingContext, build_article
from newsroom.process.fingerprint import Fingerprint, fingerprint
from newsroom.store.table import ConflictError

if TYPE_CHECKING:
    from newsroom.store.roles import ProcessorStore

FEED_SUFFIXES = (".xml", ".rss", ".atom", ".rdf", ".feed")


@dataclass(frozen=True, slots=True)
class Processed:
    entry: RawEntry
    article: Article
    fingerprint: Fingerprint | None


def store_processed(
    processed: Sequence[Processed],
    store: ProcessorStore,
    ctx: ProcessingContext,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Counter[str]:
    """Store a document's entries, oldest first, each as the processor Lambda would: with the time
    of its own ingest, not the run's start. A claim or a lookup entry carries the time it was
    written and is a write in progress for a minute after it (`store.fingerprints`,
    `process.grouping.pending`), so a run stamping its writes with its start would, a minute in,
    have its writes in progress taken over by the live processors, and never see theirs as
    crashed. An entry that gives up on a race is counted and left to a later run, not raised."""
    from newsroom.process.ingest import ingest

    outcomes: Counter[str] = Counter()
    for item in sorted(processed, key=lambda p: p.article.published):
        try:
            outcomes[ingest(item.entry, store, replace(ctx, now=clock())).outcome.value] += 1
        except ConflictError as exc:
            print(f"skip {item.entry.link}: {exc}", file=sys.stderr)
            outcomes["gave-up-on-a-race"] += 1
    return outcomes


def process_document(
    body: bytes, *, source_id: str, ctx: ProcessingContext, base_url: str = "https://backfill.invalid/"
) -> list[Processed]:
    """One feed document through the whole CPU part of processing: parse, canonicalize, detect
    attribution, sanitize, extract text, classify, fingerprint. No I/O."""
    parsed = parse_feed(body, source_id=source_id, base_url=base_url, fetched_at=ctx.now)
    done = []
    for entry in parsed.entries:
        article = build_article(entry, ctx)
        done.append(Processed(entry, article, fingerprint(article.content_text)))
    return done


def feed_files(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in FEED_SUFFIXES)
        else:
            yield path


def opml_feeds(document: bytes) -> list[str]:
    """Every `xmlUrl` of an OPML subscription list, in document order, without repeats."""
    check_xml(document)  # an OPML file from outside gets the feeds' XML pre-scan too
    root = ElementTree.fromstring(document)
    urls = [outline.get("xmlUrl", "").strip() for outline in root.iter("outline")]
    return list(dict.fromkeys(url for url in urls if url))


def _source_for_file(path: Path, by_id: dict[str, Source], fixed: str | None) -> Source | None:
    return by_id.get(fixed or path.stem)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Backfill feed archives or an OPML list through the processor.")
    parser.add_argument("paths", nargs="*", type=Path, help="feed files or folders of them")
    parser.add_argument("--opml", type=Path, help="an OPML file whose feeds are fetched and processed")
    parser.add_argument("--sources", help="sources JSON (default: SOURCES_FILE or the layer's)")
    parser.add_argument("--source", help="source id for every file (default: each file's stem)")
    parser.add_argument("--store", action="store_true", help="ingest into the TABLE_NAME DynamoDB table")
    args = parser.parse_args(argv)
    if not args.paths and args.opml is None:
        parser.error("give feed files, folders, or --opml")

    from newsroom.core.config import load_sources, settings

    sources = load_sources(args.sources)
    by_id = {s.id: s for s in sources}
    by_feed = {s.feed_url: s for s in sources}
    cfg = settings()
    ctx = ProcessingContext.build(
        sources,
        site_name=cfg.site_name,
        desk_name=cfg.desk_name,
        editorial_image_base_url=cfg.editorial_image_base_url,
        max_body_bytes=cfg.max_body_bytes,
        now=datetime.now(UTC),
    )
    documents: list[tuple[str, str, bytes]] = []  # (label, source id, body)
    problems: Counter[str] = Counter()
    for path in feed_files(args.paths):
        source = _source_for_file(path, by_id, args.source)
        if source is None:
            print(f"skip {path}: no source {args.source or path.stem!r} in the sources file", file=sys.stderr)
            problems["unknown-source"] += 1
            continue
        documents.append((str(path), source.id, path.read_bytes()))
    if args.opml is not None:
        from newsroom.fetch.http import FetchError, http_get
        from newsroom.wiring.handlers import fetch_policy

        policy = fetch_policy(cfg)
        for url in opml_feeds(args.opml.read_bytes()):
            source = by_id.get(args.source or "") or by_feed.get(url)
            if source is None:
                print(f"skip {url}: not a configured source's feed_url", file=sys.stderr)
                problems["unknown-source"] += 1
                continue
            try:
                documents.append((url, source.id, http_get(url, policy).body))
            except FetchError as exc:
                print(f"skip {url}: {exc}", file=sys.stderr)
                problems["fetch-failed"] += 1

    store = None
    if args.store:
        from newsroom.wiring import clients as runtime

        store = runtime.store()
    outcomes: Counter[str] = Counter()
    articles = 0
    started = time.perf_counter()
    for label, source_id, body in documents:
        try:
            processed = process_document(body, source_id=source_id, ctx=ctx)
        except FeedParseError as exc:
            print(f"skip {label}: {exc.reason}: {exc}", file=sys.stderr)
            problems[exc.reason] += 1
            continue
        articles += len(processed)
        if store is not None:
            outcomes += store_processed(processed, store, ctx)
    elapsed = time.perf_counter() - started
    rate = articles / elapsed if elapsed else 0.0
    print(f"{len(documents)} documents, {articles} articles in {elapsed:.1f} s ({rate:,.0f} articles/s)")
    for name, count in sorted((outcomes + problems).items()):
        print(f"  {name}: {count}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Every corpus document, served over real HTTP, fetched and processed: no crash, ever.

Each file under ../shared/corpus/ (the feedparser suite's ~2,100 well-formed, ill-formed,
encoding and entity cases, plus real news feeds) is served by a local server, with the
Content-Type its test header declares when it declares one. It is polled with the real
`poll_source` (real `http_get`, real `parse_feed`), and every entry goes through the real
`build_article`. Processing runs in-process (no moto): storage is covered elsewhere, and this
test is about the code that touches hostile bytes.

Outcome per document: it yields entries, or it is a feed with no entries, or its source fails
with a recorded reason in its state. Anything that escapes is a crash and fails the test.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from newsroom.core.models import Source, SourceState
from newsroom.fetch.apply import poll_source
from newsroom.fetch.http import FetchPolicy, http_get, make_pool
from newsroom.process.build import ProcessingContext, build_article
from tests.httpserver import LocalHTTPServer, RecordedRequest, Reply

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
NOW = datetime(2026, 5, 31, 12, 0, tzinfo=UTC)
HEADER_LINE = re.compile(rb"^Header:\s*([^:\r\n]+):\s*(.*?)\s*$", re.MULTILINE)
POLICY = FetchPolicy(connect_timeout=2.0, read_timeout=5.0, allow_private=True)


def _serve(files: dict[str, Path]) -> Callable[[RecordedRequest], Reply]:
    def respond(request: RecordedRequest) -> Reply:
        path = files[request.path.split("?", 1)[0]]
        body = path.read_bytes()
        headers = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in HEADER_LINE.findall(body)
            if name.decode("latin-1").lower() in ("content-type", "content-language", "content-location")
        }
        # Big documents go compressed, as real servers send them.
        return Reply(body=body, headers=headers, gzip=len(body) > 20_000)

    return respond


def test_every_corpus_document_is_fetched_and_processed_without_a_crash() -> None:
    paths = sorted(path for path in CORPUS.rglob("*") if path.is_file())
    assert len(paths) > 2100
    files = {f"/c/{i}": path for i, path in enumerate(paths)}
    ctx = ProcessingContext.build(
        (),
        site_name="CryptoCompass",
        desk_name="CryptoCompass newsroom",
        editorial_image_base_url="https://cryptocompass.example/static/editorial",
        max_body_bytes=300_000,
        now=NOW,
    )
    pool = make_pool()
    crashes: list[str] = []
    outcomes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    articles = 0

    respond = _serve(files)
    with LocalHTTPServer() as server:
        for route in files:
            server.route(route, respond)

        def one(index: int) -> tuple[str, int, str | None]:
            path = paths[index]
            name = str(path.relative_to(CORPUS))
            source = Source(id=f"c{index}", name=name, feed_url=server.url(f"/c/{index}"))
            try:
                state, entries, report = poll_source(
                    source,
                    SourceState(source.id),
                    POLICY,
                    now=NOW,
                    get=partial(http_get, pool=pool),
                )
                built = 0
                for entry in entries:
                    article = build_article(entry, replace(ctx, sources={source.id: source}))
                    assert article.title is not None and article.id
                    built += 1
            except Exception as exc:  # the point of the test: nothing may escape
                return name, -1, f"CRASH {type(exc).__name__}: {exc}"
            if report.status == "error":
                assert state.last_error, f"{name}: failed without a recorded reason"
                assert state.consecutive_failures == 1 and state.next_poll is not None
                return name, 0, state.last_error.split(":", 1)[0]
            return name, built, None

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=4) as executor:
            results = list(executor.map(one, range(len(paths))))
        elapsed = time.monotonic() - started

    for name, built, reason in results:
        if built < 0:
            crashes.append(f"{name}: {reason}")
        elif reason is not None:
            outcomes["failed-with-reason"] += 1
            reasons[reason] += 1
        elif built:
            outcomes["entries"] += 1
            articles += built
        else:
            outcomes["feed-without-entries"] += 1

    summary = f"{len(paths)} documents, {dict(outcomes)}, {articles} articles, reasons {dict(reasons)}"
    print(f"\ncorpus: {summary}, {elapsed:.1f}s")
    assert crashes == []
    assert sum(outcomes.values()) == len(paths)
    # Only non-documents and the few cases that hold no recognisable feed fail; the real feeds all yield.
    assert outcomes["failed-with-reason"] < 25, reasons
    failed_real = [n for n, b, r in results if r is not None and n.startswith("real-feeds/") and n.endswith(".xml")]
    assert failed_real == []
    assert articles > 700
    assert set(reasons) <= {"not-a-feed", "empty", "hostile-xml"}, reasons
    assert elapsed < 60, f"{elapsed:.1f}s"

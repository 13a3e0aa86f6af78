"""A fetch worker polls FETCH_CONCURRENCY sources at once but parses at most
`FETCH_PARSES_AT_ONCE` feeds (or article pages' extractions) at once: each holds a multiple of
its input, and a batch's all at once would pass the function's memory (`newsroom.core.config`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from devtools.memory_dynamodb import memory_dynamodb_from_template
from newsroom.core.config import FETCH_PARSES_AT_ONCE
from newsroom.core.models import Source
from newsroom.fetch import apply
from newsroom.fetch.http import FetchPolicy
from newsroom.store.dynamo import DynamoStore
from tests.httpserver import LocalHTTPServer, Reply, http_server_fixture  # noqa: F401

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LOCAL = FetchPolicy(connect_timeout=2.0, read_timeout=5.0, allow_private=True)
SOURCES = 20  # the fetch queue's batch


class _Sink:
    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        return {"Successful": [{"Id": e["Id"]} for e in Entries]}


def _counted(step: Callable[..., Any], counts: dict[str, int], lock: threading.Lock) -> Callable[..., Any]:
    """`step`, slowed and counted: how many run at once at most (`most`) and in all (`done`)."""

    def counted(*args: Any, **kwargs: Any) -> Any:
        with lock:
            counts["now"] += 1
            counts["most"] = max(counts["most"], counts["now"])
        try:
            time.sleep(0.05)  # long enough for every finished fetch to want its step
            return step(*args, **kwargs)
        finally:
            with lock:
                counts["now"] -= 1
                counts["done"] += 1

    return counted


def _feed(n: int) -> bytes:
    item = f"<item><title>Story {n}</title><link>https://pub{n}.example/1</link><guid>g{n}</guid></item>"
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>P{n}</title>{item}</channel></rss>'.encode()


def test_a_batch_of_sources_is_fetched_at_once_and_parsed_two_at_a_time(
    http_server: LocalHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = threading.Lock()
    requests = {"now": 0, "most": 0}
    parses = {"now": 0, "most": 0, "done": 0}

    def answer(n: int) -> Any:
        def respond(_request: object) -> Reply:
            with lock:
                requests["now"] += 1
                requests["most"] = max(requests["most"], requests["now"])
            time.sleep(0.2)  # every request is in flight before the first answer
            with lock:
                requests["now"] -= 1
            return Reply(body=_feed(n), headers={"Content-Type": "application/rss+xml"})

        return respond

    monkeypatch.setattr(apply, "parse_feed", _counted(apply.parse_feed, parses, lock))
    sources = []
    for n in range(SOURCES):
        http_server.route(f"/feed{n}", answer(n))
        sources.append(Source(id=f"s{n}", name=f"S{n}", feed_url=http_server.url(f"/feed{n}")))
    client, table = memory_dynamodb_from_template(table_name="t")
    reports = apply.fetch_all(
        sources, DynamoStore(client, table, b"secret"), _Sink(), "q", LOCAL, concurrency=SOURCES, now=NOW
    )
    assert [r.status for r in reports] == ["ok"] * SOURCES
    assert requests["most"] == SOURCES  # all fetched at once
    assert parses["done"] == SOURCES
    assert parses["most"] == FETCH_PARSES_AT_ONCE == 2


def test_article_pages_are_fetched_at_once_and_extracted_two_at_a_time(
    http_server: LocalHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Full text (`fulltext.enrich_entry`) shares the bound: 20 sources' pages at once, two
    extractions at a time."""
    from concurrent.futures import ThreadPoolExecutor

    from newsroom.core.models import RawEntry, Rights
    from newsroom.fetch import fulltext

    lock = threading.Lock()
    extractions = {"now": 0, "most": 0, "done": 0}
    monkeypatch.setattr(fulltext, "extract_main_html", _counted(fulltext.extract_main_html, extractions, lock))
    page = (
        "<html><body><article>" + "<p>A long paragraph of the article's own text.</p>" * 20 + "</article></body></html>"
    )
    pages = {"now": 0, "most": 0}

    def respond(_request: object) -> Reply:
        with lock:
            pages["now"] += 1
            pages["most"] = max(pages["most"], pages["now"])
        time.sleep(0.2)  # every page is requested before the first answer: none waits for the bound
        with lock:
            pages["now"] -= 1
        return Reply(body=page.encode(), headers={"Content-Type": "text/html"})

    http_server.route("/page", respond)
    source = Source(id="s", name="S", feed_url=http_server.url("/feed"), rights=Rights.FULL)
    entries = [
        RawEntry("s", f"g{n}", http_server.url("/page"), f"Story {n}", summary_html="<p>Short.</p>")
        for n in range(SOURCES)
    ]
    with ThreadPoolExecutor(max_workers=SOURCES) as pool:
        better = list(pool.map(lambda e: fulltext.enrich_entry(e, source, LOCAL), entries))
    assert all(b is not None and "own text" in b.content_html for b in better)
    assert pages["most"] == SOURCES
    assert extractions["done"] == SOURCES
    assert extractions["most"] == FETCH_PARSES_AT_ONCE

"""Full text for `full` sources: article pages served locally, extracted, cleaned, counted."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from devtools.memory_dynamodb import memory_store
from newsroom.core.models import RawEntry, Rights, Source
from newsroom.fetch.fulltext import enrich_entry, extract_main_html, make_enricher
from newsroom.fetch.http import FetchPolicy, http_get
from newsroom.process.build import ProcessingContext, build_article
from tests.httpserver import LocalHTTPServer, Reply, http_server_fixture  # noqa: F401

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "article-page.txt"
NOW = datetime(2026, 5, 31, 12, 0, tzinfo=UTC)
LOCAL = FetchPolicy(connect_timeout=2.0, read_timeout=2.0, allow_private=True)
TITLE = "Hong Kong Expands Digital Asset Ecosystem With Tokenization and Crypto Infrastructure"
RULES = {
    "boilerplate_xpaths": ("//div[contains(@class, 'newsletter')]",),
    "boilerplate_patterns": (r"^Read more:", r"^Disclaimer:"),
}


def seed_body() -> list[str]:
    """The reference article's body blocks (headings and paragraphs), from the seed page."""
    text = SEED.read_text(encoding="utf-8")
    caption = "CryptoCompass editorial visual for policy coverage."
    start = text.index(caption) + len(caption)
    end = text.index("Disclaimer:")
    return [block.strip() for block in text[start:end].split("\n\n") if block.strip()]


def article_page() -> bytes:
    blocks = []
    for n, block in enumerate(seed_body()):
        tag = "h2" if not block.endswith(".") else "p"
        blocks.append(f"<{tag}>{html.escape(block)}</{tag}>")
        if n == 3:
            blocks.append('<p>Read more: <a href="/other">Bitcoin custody demand hits a record</a></p>')
        if n == 6:
            blocks.append(
                '<div class="newsletter-box"><p>Subscribe to the DeFi Liban daily brief for the stories that '
                "move markets, straight to your inbox every morning.</p><form><input name=email></form></div>"
            )
    page = f"""<!doctype html><html lang="en"><head><title>{TITLE}</title>
<meta property="og:title" content="{TITLE}"></head><body>
<nav><a href="/">Home</a> <a href="/markets">Markets</a> <a href="/defi">DeFi</a> <a href="/policy">Policy</a></nav>
<header><h1>{TITLE}</h1><p class="byline">By Staff · May 31, 2026</p></header>
<main><article>{"".join(blocks)}
<p class="disclaimer">Disclaimer: This article is for informational purposes only and does not constitute
financial advice. Do your own research.</p></article></main>
<aside><h3>Related</h3><ul><li><a href="/a">Ether ETF flows</a></li>
<li><a href="/b">Solana upgrade</a></li></ul></aside>
<footer>© 2026 DeFi Liban. All rights reserved. <a href="/privacy">Privacy</a></footer></body></html>"""
    return page.encode()


def entry(link: str, guid: str = "g1") -> RawEntry:
    excerpt = (
        "Hong Kong is accelerating its push to become a regulated digital asset hub, "
        "expanding across tokenization [&#8230;]"
    )
    return RawEntry(source_id="defiliban", guid=guid, link=link, title=TITLE, summary_html=excerpt, fetched_at=NOW)


def source(rights: Rights = Rights.FULL, **rules: object) -> Source:
    return Source(
        id="defiliban",
        name="DeFi Liban",
        feed_url="https://defiliban.io/feed/",
        homepage="https://defiliban.io",
        rights=rights,
        **rules,  # type: ignore[arg-type]
    )


def context(src: Source) -> ProcessingContext:
    return ProcessingContext.build(
        (src,),
        site_name="CryptoCompass",
        desk_name="CryptoCompass newsroom",
        editorial_image_base_url="https://cryptocompass.example/static/editorial",
        max_body_bytes=300_000,
        now=NOW,
    )


def test_full_text_replaces_the_excerpt_and_reading_time_counts_it(http_server: LocalHTTPServer) -> None:
    http_server.route("/2026/05/hong-kong", Reply(body=article_page(), headers={"Content-Type": "text/html"}))
    src = source(**RULES)

    enriched = enrich_entry(entry(http_server.url("/2026/05/hong-kong")), src, LOCAL)

    assert enriched is not None
    body = enriched.content_html
    for block in seed_body():
        assert html.escape(block, quote=False)[:60] in body
    for boilerplate in ("Read more", "Subscribe", "Disclaimer", "Related", "All rights reserved", "Markets</a>"):
        assert boilerplate not in body
    assert "<script" not in body
    article = build_article(enriched, context(src))
    # The reference page's 566 body words, "4 min read" (the feed's excerpt alone read as 1 min).
    assert (article.word_count, article.reading_minutes) == (566, 4)
    assert build_article(entry(http_server.url("/x")), context(src)).reading_minutes == 1
    request = http_server.requests[0]
    assert request.headers["user-agent"].startswith("NewsroomBot")
    assert "text/html" in request.headers["accept"]


def test_without_rules_the_publishers_boilerplate_stays(http_server: LocalHTTPServer) -> None:
    http_server.route("/a", Reply(body=article_page()))

    enriched = enrich_entry(entry(http_server.url("/a")), source(), LOCAL)

    assert enriched is not None
    assert "Read more" in enriched.content_html  # the rules above are what removes it


def test_excerpt_sources_are_never_fetched_beyond_the_feed(http_server: LocalHTTPServer) -> None:
    http_server.route("/a", Reply(body=article_page()))
    enrich = make_enricher(memory_store(), LOCAL, max_pages=10)
    original = [entry(http_server.url("/a"))]

    result = enrich(source(Rights.EXCERPT), original, frozenset())
    entries, pages = result.entries, result.pages

    assert (entries, pages) == (original, 0)
    assert http_server.requests == []


def test_only_new_entries_are_fetched_and_at_most_max_pages(http_server: LocalHTTPServer) -> None:
    for n in range(5):
        http_server.route(f"/{n}", Reply(body=article_page()))
    store = memory_store()
    store.claim_guid("defiliban", "g0", "story")
    enrich = make_enricher(store, LOCAL, max_pages=2)

    result = enrich(source(**RULES), [entry(http_server.url(f"/{n}"), guid=f"g{n}") for n in range(5)], frozenset())
    entries, pages = result.entries, result.pages

    assert pages == 2
    assert sorted(r.path for r in http_server.requests) == ["/1", "/2"]  # g0 is already stored
    assert [len(e.content_html) > 1000 for e in entries] == [False, True, True, False, False]


def test_full_text_stops_starting_pages_when_a_whole_page_no_longer_fits_the_budget(
    http_server: LocalHTTPServer,
) -> None:
    """The fetch worker's timeout is sized for a feed plus this budget (template.yaml,
    FULLTEXT_BUDGET_SECONDS); a page is started only while a whole page fetch still fits."""
    for n in range(5):
        http_server.route(f"/{n}", Reply(body=article_page()))
    now = [0.0]

    def slow_get(url: str, policy: FetchPolicy, **kwargs: Any) -> Any:
        now[0] += 10.0  # every page takes ten seconds
        return http_get(url, policy, **kwargs)

    enrich = make_enricher(
        memory_store(), LOCAL, max_pages=10, get=slow_get, budget_seconds=LOCAL.total_timeout + 15, clock=lambda: now[0]
    )
    result = enrich(source(**RULES), [entry(http_server.url(f"/{n}"), guid=f"g{n}") for n in range(5)])

    assert result.pages == 2
    assert sorted(r.path for r in http_server.requests) == ["/0", "/1"]
    assert [len(e.content_html) > 1000 for e in result.entries] == [True, True, False, False, False]
    # The rest are owed their full text, like entries past max_pages.
    assert result.deferred == frozenset({2, 3, 4})


@pytest.mark.parametrize(
    "reply",
    [
        Reply(status=404),
        Reply(body=b"<html><body><p>Too short.</p></body></html>"),
        Reply(body=b"\x00\x01\x02 not html at all"),
        Reply(body=b"x" * 2_000_000),
    ],
    ids=["404", "nothing-better", "binary", "too-large"],
)
def test_a_page_that_gives_nothing_better_keeps_the_feed_entry(http_server: LocalHTTPServer, reply: Reply) -> None:
    http_server.route("/a", reply)
    policy = FetchPolicy(connect_timeout=2.0, read_timeout=2.0, allow_private=True, max_bytes=1_000_000)

    assert enrich_entry(entry(http_server.url("/a")), source(), policy) is None


def test_article_pages_obey_the_ssrf_rules() -> None:
    deployed = FetchPolicy(connect_timeout=1.0, read_timeout=1.0, allow_private=False)
    for link in ("http://169.254.169.254/latest/meta-data/", "http://127.0.0.1/admin", "http://[::1]/"):
        assert enrich_entry(entry(link), source(), deployed) is None


def test_extraction_sanitizes() -> None:
    page = (
        "<html><body><article>"
        + "<p>Paragraph one of a real article, long enough to count as content for the extractor here.</p>" * 8
        + '<p onclick="steal()">Clicked <a href="javascript:alert(1)">link</a></p>'
        + "<script>alert(1)</script></article></body></html>"
    )

    body = extract_main_html(page, "https://pub.example/a")

    assert body is not None
    assert "onclick" not in body and "javascript:" not in body and "<script" not in body


def test_a_polled_full_source_queues_full_text_and_an_excerpt_source_does_not(http_server: LocalHTTPServer) -> None:
    import json

    from newsroom.core.codec import entry_from_message
    from newsroom.fetch.apply import fetch_all

    http_server.route("/article", Reply(body=article_page()))
    item = (
        f"<item><title>{TITLE}</title><link>{http_server.url('/article')}</link><guid>g1</guid>"
        "<description>Hong Kong is accelerating its push [&#8230;]</description></item>"
    )
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{item}</channel></rss>'.encode()
    http_server.route("/feed", Reply(body=feed))
    full = Source(id="full", name="Full", feed_url=http_server.url("/feed"), rights=Rights.FULL, **RULES)  # type: ignore[arg-type]
    excerpt = Source(id="excerpt", name="Excerpt", feed_url=http_server.url("/feed"))
    sqs = RecordingSQS()

    store = memory_store()
    fetch_all(
        [full, excerpt], store, sqs, "q", LOCAL, concurrency=2, now=NOW, enrich=make_enricher(store, LOCAL, max_pages=5)
    )

    queued = {e.source_id: e for e in (entry_from_message(body) for body in sqs.bodies)}
    assert len(html.unescape(queued["full"].content_html)) > 3000
    assert queued["excerpt"].content_html == ""
    assert [r.path for r in http_server.requests].count("/article") == 1
    assert json.loads(sqs.bodies[0])  # one entry per message


class RecordingSQS:
    def __init__(self) -> None:
        self.bodies: list[str] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, object]:
        self.bodies.extend(e["MessageBody"] for e in Entries)
        return {"Successful": Entries}


def test_entries_past_max_pages_get_their_full_text_on_a_later_poll(http_server: LocalHTTPServer) -> None:
    """Guards: `Enrichment.deferred`, `seen.owed_digest` and fetch_all forgetting validators
    and body hash while full text is owed (the feed itself does not change between the polls)."""
    from datetime import timedelta

    from newsroom.core.codec import entry_from_message
    from newsroom.fetch.apply import fetch_all

    for n in range(3):
        http_server.route(f"/article/{n}", Reply(body=article_page()))
    items = "".join(
        f"<item><title>Story {n}</title><link>{http_server.url(f'/article/{n}')}</link><guid>g{n}</guid>"
        "<description>Hong Kong is accelerating its push [&#8230;]</description></item>"
        for n in range(3)
    )
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'.encode()
    http_server.route("/feed", Reply(body=feed, headers={"ETag": '"same"'}))
    full = Source(id="full", name="Full", feed_url=http_server.url("/feed"), rights=Rights.FULL, **RULES)  # type: ignore[arg-type]
    store = memory_store()  # the fetcher's source states, and the stories the processor stored
    enrich = make_enricher(store, LOCAL, max_pages=2)

    def poll(at: datetime) -> dict[str, int]:
        """One poll; returns link -> length of the queued HTML, and marks every entry stored."""
        sqs = RecordingSQS()
        fetch_all([full], store, sqs, "q", LOCAL, concurrency=1, now=at, enrich=enrich)
        queued = [entry_from_message(body) for body in sqs.bodies]
        for e in queued:  # the processor stored them
            store.claim_guid("full", e.guid or "", "story")
        return {e.link.rsplit("/", 1)[1]: len(html.unescape(e.content_html)) for e in queued}

    first = poll(NOW)
    assert sorted(first) == ["0", "1", "2"]  # all queued at once...
    assert [first[n] > 3000 for n in ("0", "1", "2")] == [True, True, False]  # ...the last as an excerpt

    second = poll(NOW + timedelta(hours=1))
    assert list(second) == ["2"] and second["2"] > 3000  # its turn came, although its GUID is stored
    assert sorted(r.path for r in http_server.requests if r.path.startswith("/article/")) == [
        "/article/0",
        "/article/1",
        "/article/2",
    ]

    third = poll(NOW + timedelta(hours=2))
    assert third == {}  # nothing owed any more: nothing queued, no page fetched
    assert len([r for r in http_server.requests if r.path.startswith("/article/")]) == 3


def _clocked_enricher(seconds_a_page: float, **limits: float) -> Any:
    """An enricher on a clock that only page fetches move, `seconds_a_page` each."""
    now = [0.0]

    def slow_get(url: str, policy: FetchPolicy, **kwargs: Any) -> Any:
        now[0] += seconds_a_page
        return http_get(url, policy, **kwargs)

    return make_enricher(memory_store(), LOCAL, max_pages=10, get=slow_get, clock=lambda: now[0], **limits)


def test_no_page_starts_that_would_end_past_the_invocation_s_deadline(http_server: LocalHTTPServer) -> None:
    """The deadline counts from the enricher's making (the invocation), across sources: a
    second source's pages are cut by what the first one spent, within its own budget."""
    for n in range(4):
        http_server.route(f"/{n}", Reply(body=article_page()))
    enrich = _clocked_enricher(10.0, budget_seconds=1_000.0, deadline_seconds=LOCAL.total_timeout + 25)
    first = enrich(source(**RULES), [entry(http_server.url(f"/{n}"), guid=f"a{n}") for n in range(2)])
    second = enrich(source(**RULES), [entry(http_server.url(f"/{n}"), guid=f"b{n}") for n in (2, 3)])
    assert (first.pages, first.deferred) == (2, frozenset())
    assert (second.pages, second.deferred) == (1, frozenset({1}))  # 20 s spent: one more page fits


def test_a_page_that_waited_for_the_heavy_steps_past_the_deadline_is_not_extracted(
    http_server: LocalHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wait for `HEAVY_STEPS` counts: a page fetched in time whose extraction could only
    begin after the deadline is left owed, not extracted."""
    import threading

    from newsroom.fetch import fulltext
    from newsroom.fetch.contract import HEAVY_STEPS

    http_server.route("/0", Reply(body=article_page()))
    extracted: list[str] = []
    monkeypatch.setattr(fulltext, "extract_main_html", lambda *a, **k: extracted.append(a[1]))
    now = [0.0]
    fetched = threading.Event()
    real_get = http_get

    def get(url: str, policy: FetchPolicy, **kwargs: Any) -> Any:
        answer = real_get(url, policy, **kwargs)
        fetched.set()
        return answer

    enrich = make_enricher(memory_store(), LOCAL, max_pages=10, deadline_seconds=60.0, get=get, clock=lambda: now[0])
    results: list[Any] = []
    worker = threading.Thread(target=lambda: results.append(enrich(source(), [entry(http_server.url("/0"))])))
    held = 0
    try:
        for _ in range(2):  # other sources' parses hold the bound
            assert HEAVY_STEPS.acquire(timeout=5)
            held += 1
        worker.start()
        assert fetched.wait(5)
        now[0] = 61.0  # the bound is held past the deadline
    finally:
        for _ in range(held):  # the semaphore is the module's: never leave a slot taken
            HEAVY_STEPS.release()
    worker.join(5)
    assert not worker.is_alive()
    (result,) = results
    assert extracted == []
    assert (result.pages, result.deferred, result.improved) == (1, frozenset({0}), frozenset())


def test_an_article_page_over_the_page_cap_is_not_fetched_whole(http_server: LocalHTTPServer) -> None:
    """`FULLTEXT_MAX_PAGE_BYTES` (1 MB), under the feeds' 5 MB: the timeout arithmetic counts
    two pages of it in flight."""
    from newsroom.core.config import FULLTEXT_MAX_PAGE_BYTES

    page = article_page()
    padding = b"<!--" + b"x" * (FULLTEXT_MAX_PAGE_BYTES - len(page)) + b"-->"
    http_server.route("/big", Reply(body=page.replace(b"<body>", b"<body>" + padding)))
    http_server.route("/fits", Reply(body=page))
    assert len(page) + len(padding) > FULLTEXT_MAX_PAGE_BYTES
    assert enrich_entry(entry(http_server.url("/big")), source(**RULES), LOCAL) is None
    assert enrich_entry(entry(http_server.url("/fits")), source(**RULES), LOCAL) is not None


def test_a_page_fetched_within_the_source_s_budget_is_extracted_even_if_it_ran_out_meanwhile(
    http_server: LocalHTTPServer,
) -> None:
    """The budget decides which pages start; a fetched page is not thrown away for it (only the
    invocation's deadline stops an extraction)."""
    http_server.route("/0", Reply(body=article_page()))
    # The fetch ends past the source's budget.
    enrich = _clocked_enricher(LOCAL.total_timeout + 1, budget_seconds=LOCAL.total_timeout, deadline_seconds=1_000.0)
    result = enrich(source(**RULES), [entry(http_server.url("/0"))])
    assert (result.pages, result.improved, result.deferred) == (1, frozenset({0}), frozenset())


def test_the_fetch_worker_makes_its_enricher_with_the_invocation_s_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The timeout arithmetic rests on the deployed handler passing the deadline, once per
    invocation (the enricher's clock starts when it is made)."""
    from newsroom.core.config import FULLTEXT_DEADLINE_SECONDS
    from newsroom.wiring import handlers

    made: list[dict[str, Any]] = []
    monkeypatch.setattr(handlers, "make_enricher", lambda *args, **kwargs: made.append(kwargs) or None)
    monkeypatch.setattr(handlers, "poll_dispatched", lambda *args, **kwargs: kwargs["enrich"])
    monkeypatch.setattr(handlers.runtime, "store", lambda: None)
    monkeypatch.setattr(handlers.runtime, "sqs", lambda: None)
    monkeypatch.setattr(handlers.runtime, "entry_bucket", lambda: None)
    monkeypatch.setattr(handlers, "push_hook", lambda *args: None)
    handlers.fetch_dispatched([])
    handlers.fetch_dispatched([])
    assert [m["deadline_seconds"] for m in made] == [FULLTEXT_DEADLINE_SECONDS] * 2

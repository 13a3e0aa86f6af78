"""Rendering articles as API JSON, JSON Feed 1.1, RSS 2.0 and Atom 1.0.

The XML feeds are read back with both xml.etree (exact text) and feedparser (what a real reader
sees); the JSON Feed is validated against the JSON Schema in tests/schemas, and that schema is
shown to reject broken feeds.
"""

from __future__ import annotations

import copy
import html
import importlib
import json
import re
import sys
import types
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import jsonschema
import pytest

from newsroom.core.models import Article, Attribution, Category, Copy, Image, Kind, Source
from newsroom.serve.formats.api_json import article_json, article_summary_json
from newsroom.serve.formats.atom import ATOM_ENTRY_ID_PREFIX, render_atom
from newsroom.serve.formats.common import FeedMeta, feed_content_html, original_article_url
from newsroom.serve.formats.jsonfeed import render_json_feed
from newsroom.serve.formats.rss import render_rss

# shared/ sits beside the repository (here and in CI's fresh clone).
SEED_PAGE = Path(__file__).resolve().parents[3] / "shared" / "seed" / "article-page.txt"
SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "jsonfeed-1.1.schema.json"

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "media": "http://search.yahoo.com/mrss/",
}
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

# The registered sources: CoinDesk (the plain article's own source). DeFi Liban, the reference
# article's original, is not one, so no feed of it is known.
COINDESK = Source(
    id="coindesk",
    name="CoinDesk",
    feed_url="https://www.coindesk.com/arc/outboundfeeds/rss/",
    homepage="https://www.coindesk.com/",
)
META = FeedMeta(
    title="CryptoCompass",
    home_page_url="https://cryptocompass.example/",
    feed_url="https://cryptocompass.example/feeds/latest.json",
    description="Crypto news, credited to whoever reported it first.",
    sources={"coindesk": COINDESK},
)
META_PAGED = replace(
    META,
    next_url="https://cryptocompass.example/feeds/latest.json?cursor=abc&limit=2",
    icon="https://cryptocompass.example/icon.png",
)


def _host_without_www(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


@pytest.fixture(autouse=True)
def _site_domain(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unattributed articles credit `newsroom.core.urls.site_domain(url)`. Use the real one when it
    exists; until then stand in with the obvious rule (the test URLs have no www/subdomain, so
    both give the same answer)."""
    try:
        importlib.import_module("newsroom.core.urls")
    except ImportError:
        stand_in = types.ModuleType("newsroom.core.urls")
        stand_in.site_domain = _host_without_www  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "newsroom.core.urls", stand_in)


def _seed_body() -> tuple[str, str]:
    """The reference page's body as HTML and text: from after the image caption to the disclaimer."""
    lines = [line.strip() for line in SEED_PAGE.read_text(encoding="utf-8").splitlines()]
    start = lines.index("CryptoCompass editorial visual for policy coverage.") + 1
    end = next(i for i, line in enumerate(lines) if line.startswith("Disclaimer:"))
    paragraphs = [line for line in lines[start:end] if line]
    body_html = "\n".join(
        f"<p>{html.escape(p)}</p>" if p.endswith(".") else f"<h2>{html.escape(p)}</h2>" for p in paragraphs
    )
    return body_html, "\n\n".join(paragraphs)


# A sanitizer escapes `>` in text but not inside attribute values, so `]]>` reaches us there.
CDATA_TRAP_HTML = (
    '<p>Markup trivia: <a href="https://defiliban.io/notes" title="ends with ]]> here">a CDATA end</a>'
    " and the text ]]&gt; too.</p>"
)


def reference_article() -> Article:
    """The reference page's article: an attributed copy whose original is defiliban.io."""
    body_html, body_text = _seed_body()
    return Article(
        id="a1b2c3d4e5f6",
        canonical_url="https://cryptocompass.example/news/hong-kong-digital-asset-ecosystem",
        url="https://cryptocompass.example/news/hong-kong-digital-asset-ecosystem?utm_source=rss",
        guid="cc-7781",
        source_id="cryptocompass",
        source_name="CryptoCompass",
        title="Hong Kong Expands Digital Asset Ecosystem With Tokenization and Crypto Infrastructure",
        content_html=body_html + "\n" + CDATA_TRAP_HTML,
        content_text=body_text,
        standfirst=(
            "Hong Kong is accelerating its push to become a regulated digital asset hub, expanding "
            "across tokenization, crypto investment products, and blockchain infrastructure in a "
            "coordinated effort to"
        ),
        word_count=566,
        reading_minutes=4,
        published=datetime(2026, 5, 31, 8, 15, tzinfo=UTC),
        updated=datetime(2026, 5, 31, 9, 40, tzinfo=UTC),
        first_seen=datetime(2026, 5, 31, 8, 20, tzinfo=UTC),
        language="en",
        image=Image(
            url="https://cdn.cryptocompass.example/img/policy.png?w=1200&h=630",
            alt="CryptoCompass editorial visual for policy coverage.",
            caption="CryptoCompass editorial visual for policy coverage.",
            is_default=True,
        ),
        category=Category.POLICY,
        coins=("BTC",),
        kind=Kind.NEWS,
        author="Anonymous",
        desk="CryptoCompass newsroom",
        content_hash="sha256:0f0f",
        attribution=Attribution(
            original_url="https://defiliban.io/hong-kong-expands-digital-asset-ecosystem",
            original_domain="defiliban.io",
            original_name="DeFi Liban",
            original_source_id=None,
            marker="read-original-footer",
        ),
        copies=(
            Copy(
                source_id="coinwire",
                source_name="Coin Wire",
                url="https://coinwire.example/hk-tokenization",
                title="Hong Kong pushes tokenization",
                first_seen=datetime(2026, 5, 31, 10, 5, tzinfo=UTC),
            ),
        ),
    )


def plain_article() -> Article:
    """An unattributed story with hostile text: markup characters, an XML-illegal control character."""
    return Article(
        id="ffee0011",
        canonical_url="https://coindesk.com/markets/2026/05/30/btc-etf-flows",
        url="https://coindesk.com/markets/2026/05/30/btc-etf-flows",
        guid=None,
        source_id="coindesk",
        source_name="CoinDesk",
        title='Q&A: "<ETF>" flows\x0b hit $1B',
        content_html="<p>Flows & <b>more</b>\x00 flows.</p>\r\n<p>Second line.</p>",
        content_text="Flows & more flows.\n\nSecond line.",
        standfirst="Spot bitcoin ETFs < took in > $1B & counting.",
        word_count=120,
        reading_minutes=1,
        published=datetime(2026, 5, 30, 22, 0, tzinfo=UTC),
        updated=datetime(2026, 5, 30, 23, 30, tzinfo=UTC),
        first_seen=datetime(2026, 5, 30, 22, 5, tzinfo=UTC),
        language=None,
        image=Image(url="https://cdn.cryptocompass.example/img/markets.png", alt="", caption="Markets desk"),
        category=Category.MARKETS,
        coins=("BTC", "ETH"),
        kind=Kind.ANALYSIS,
        author="",
        desk="Markets desk",
        content_hash="sha256:abcd",
    )


@pytest.fixture
def articles() -> list[Article]:
    return [reference_article(), plain_article()]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(loaded)
    return loaded


def _validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def _strip_illegal(text: str) -> str:
    return text.replace("\x0b", "").replace("\x00", "")


# --- API JSON --------------------------------------------------------------------------------


def test_article_json_carries_every_field_of_the_reference_page() -> None:
    body = article_json(reference_article())

    assert body["title"] == "Hong Kong Expands Digital Asset Ecosystem With Tokenization and Crypto Infrastructure"
    assert body["category"] == "Policy"
    assert body["standfirst"].endswith("in a coordinated effort to")
    assert len(body["standfirst"]) <= 200
    assert body["author"] == "Anonymous"
    assert body["desk"] == "CryptoCompass newsroom"
    assert body["byline"] == {"author": "Anonymous", "desk": "CryptoCompass newsroom"}
    assert body["published"] == "2026-05-31T08:15:00Z"
    assert body["updated"] == "2026-05-31T09:40:00Z"
    assert body["published_display"] == "May 31, 2026"
    assert body["reading_minutes"] == 4
    assert body["reading_time"] == "4 min read"
    assert body["word_count"] == 566
    assert body["kind"] == "News"
    assert body["kind_label"] == "NEWS"
    assert body["image"] == {
        "url": "https://cdn.cryptocompass.example/img/policy.png?w=1200&h=630",
        "alt": "CryptoCompass editorial visual for policy coverage.",
        "caption": "CryptoCompass editorial visual for policy coverage.",
        "is_default": True,
    }
    assert "The scale of growth is visible in custody figures." in body["content_text"]
    assert "<h2>Competitive Positioning in the Global Digital Asset Race</h2>" in body["content_html"]
    assert body["credit"] == {
        "line": "Read original article on defiliban.io",
        "domain": "defiliban.io",
        "url": "https://defiliban.io/hong-kong-expands-digital-asset-ecosystem",
    }
    assert body["attribution"] == {
        "original_url": "https://defiliban.io/hong-kong-expands-digital-asset-ecosystem",
        "original_domain": "defiliban.io",
        "original_name": "DeFi Liban",
        "original_source_id": None,
        "marker": "read-original-footer",
    }
    assert body["source"] == {"id": "cryptocompass", "name": "CryptoCompass"}
    assert body["copies"] == [
        {
            "source_id": "coinwire",
            "source_name": "Coin Wire",
            "url": "https://coinwire.example/hk-tokenization",
            "title": "Hong Kong pushes tokenization",
            "first_seen": "2026-05-31T10:05:00Z",
        }
    ]
    assert body["coins"] == ["BTC"]
    assert body["language"] == "en"
    assert body["body_truncated"] is False
    assert body["id"] == "a1b2c3d4e5f6"
    assert body["url"].endswith("?utm_source=rss")
    assert body["canonical_url"] == "https://cryptocompass.example/news/hong-kong-digital-asset-ecosystem"
    # It is the API's response body: it must survive JSON as is.
    assert json.loads(json.dumps(body)) == body


def test_summary_is_the_article_without_body_copies_and_event() -> None:
    article = reference_article()
    full = article_json(article)
    summary = article_summary_json(article)

    assert set(full) - set(summary) == {"content_html", "content_text", "copies", "event", "also_reported_by"}
    assert summary == {k: v for k, v in full.items() if k in summary}


def test_unattributed_article_credits_the_site_it_was_found_on() -> None:
    body = article_json(plain_article())

    assert body["attribution"] is None
    assert body["credit"] == {
        "line": "Read original article on coindesk.com",
        "domain": "coindesk.com",
        "url": "https://coindesk.com/markets/2026/05/30/btc-etf-flows",
    }
    assert body["kind_label"] == "ANALYSIS"
    assert body["reading_time"] == "1 min read"
    assert body["copies"] == []


# --- JSON Feed -------------------------------------------------------------------------------


def test_json_feed_is_valid_and_carries_credit_and_attribution(articles: list[Article], schema: dict[str, Any]) -> None:
    feed = json.loads(render_json_feed(META_PAGED, articles))

    _validator(schema).validate(feed)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] == "CryptoCompass"
    assert feed["home_page_url"] == META.home_page_url
    assert feed["feed_url"] == META.feed_url
    assert feed["next_url"] == META_PAGED.next_url
    assert feed["icon"] == META_PAGED.icon
    assert feed["language"] == "en"
    assert feed["authors"] == [{"name": "CryptoCompass", "url": "https://cryptocompass.example/"}]

    reference, plain = feed["items"]
    assert [reference["id"], plain["id"]] == ["a1b2c3d4e5f6", "ffee0011"]
    assert reference["url"] == articles[0].url
    assert reference["external_url"] == "https://defiliban.io/hong-kong-expands-digital-asset-ecosystem"
    assert "external_url" not in plain
    assert reference["content_html"].endswith(
        '<p><a href="https://defiliban.io/hong-kong-expands-digital-asset-ecosystem">'
        "Read original article on defiliban.io</a></p>"
    )
    assert reference["content_html"].startswith(articles[0].content_html)
    assert reference["content_text"].endswith("\n\nRead original article on defiliban.io")
    assert reference["summary"] == articles[0].standfirst
    assert reference["image"] == articles[0].image.url
    assert reference["date_published"] == "2026-05-31T08:15:00Z"
    assert reference["date_modified"] == "2026-05-31T09:40:00Z"
    assert reference["authors"] == [{"name": "Anonymous"}]
    assert reference["tags"] == ["Policy", "BTC"]
    assert reference["language"] == "en"
    assert reference["_newsroom"] == {
        "category": "Policy",
        "coins": ["BTC"],
        "kind": "News",
        "reading_minutes": 4,
        "credit_line": "Read original article on defiliban.io",
        "credit_url": "https://defiliban.io/hong-kong-expands-digital-asset-ecosystem",
        "original_domain": "defiliban.io",
        "source_name": "CryptoCompass",
    }

    # No author: the desk stands in. No language: the key is left out, not null.
    assert plain["authors"] == [{"name": "Markets desk"}]
    assert "language" not in plain
    assert plain["tags"] == ["Markets", "BTC", "ETH"]
    assert plain["title"] == 'Q&A: "<ETF>" flows hit $1B'
    assert plain["_newsroom"]["credit_line"] == "Read original article on coindesk.com"
    assert plain["content_html"].endswith(
        '<p><a href="https://coindesk.com/markets/2026/05/30/btc-etf-flows">'
        "Read original article on coindesk.com</a></p>"
    )


def test_json_feed_without_next_url_leaves_it_out(articles: list[Article], schema: dict[str, Any]) -> None:
    feed = json.loads(render_json_feed(META, articles))

    _validator(schema).validate(feed)
    assert "next_url" not in feed
    assert "icon" not in feed


def test_empty_json_feed_is_valid(schema: dict[str, Any]) -> None:
    feed = json.loads(render_json_feed(META, []))

    _validator(schema).validate(feed)
    assert feed["items"] == []


def test_schema_accepts_the_specs_minimal_example(schema: dict[str, Any]) -> None:
    example = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "My Example Feed",
        "home_page_url": "https://example.org/",
        "feed_url": "https://example.org/feed.json",
        "items": [
            {"id": "2", "content_text": "This is a second item.", "url": "https://example.org/second-item"},
            {"id": "1", "content_html": "<p>Hello, world!</p>", "url": "https://example.org/initial-post"},
        ],
    }

    assert list(_validator(schema).iter_errors(example)) == []


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda feed: feed.pop(key)


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda feed: feed.__setitem__(key, value)


def _on_item(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    return lambda feed: change(feed["items"][0])


def _drop_both_contents(item: dict[str, Any]) -> None:
    item.pop("content_html")
    item.pop("content_text")


BROKEN_FEEDS: dict[str, Callable[[dict[str, Any]], None]] = {
    "missing version": _drop("version"),
    "wrong version": _set("version", "https://jsonfeed.org/version/1"),
    "missing title": _drop("title"),
    "missing items": _drop("items"),
    "item without id": _on_item(_drop("id")),
    "item with a numeric id": _on_item(_set("id", 42)),
    "item with neither content_html nor content_text": _on_item(_drop_both_contents),
    "relative feed_url": _set("feed_url", "feed.json"),
    "feed_url that is not a URL": _set("feed_url", "not a url"),
    "authors not an array": _set("authors", {"name": "CryptoCompass"}),
    "empty author object": _set("authors", [{}]),
    "date_published not RFC 3339": _on_item(_set("date_published", "Sun, 31 May 2026 08:15:00 GMT")),
    "tags not strings": _on_item(_set("tags", ["Policy", 7])),
    "misspelt standard key": _on_item(_set("date_publised", "2026-05-31T08:15:00Z")),
    "extension name with a dot": _set("_news.room", {}),
    "attachment without mime_type": _on_item(_set("attachments", [{"url": "https://x.example/a.mp3"}])),
    "hub without url": _set("hubs", [{"type": "WebSub"}]),
    "expired not boolean": _set("expired", "yes"),
}


@pytest.mark.parametrize("breakage", BROKEN_FEEDS.values(), ids=BROKEN_FEEDS.keys())
def test_schema_rejects_broken_feeds(
    breakage: Callable[[dict[str, Any]], None], articles: list[Article], schema: dict[str, Any]
) -> None:
    valid = json.loads(render_json_feed(META_PAGED, articles))
    assert list(_validator(schema).iter_errors(valid)) == []
    broken = copy.deepcopy(valid)
    breakage(broken)

    # Without a format checker too: the schema must bite on its patterns alone.
    for validator in (_validator(schema), jsonschema.Draft202012Validator(schema)):
        with pytest.raises(jsonschema.ValidationError):
            validator.validate(broken)


# --- RSS 2.0 ---------------------------------------------------------------------------------


def test_rss_carries_what_the_spec_requires_and_round_trips_the_body(articles: list[Article]) -> None:
    document = render_rss(META_PAGED, articles)
    root = ET.fromstring(document.encode("utf-8"))

    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    assert channel.findtext("title") == "CryptoCompass"
    assert channel.findtext("link") == META.home_page_url
    assert channel.findtext("description") == META.description
    assert channel.findtext("language") == "en"
    assert parsedate_to_datetime(channel.findtext("lastBuildDate", "")) == articles[0].updated
    links = {link.get("rel"): link.get("href") for link in channel.findall("atom:link", NS)}
    assert links == {"self": META.feed_url, "next": META_PAGED.next_url}
    assert channel.findtext("image/url") == META_PAGED.icon

    reference, plain = channel.findall("item")
    guid = reference.find("guid")
    assert guid is not None
    assert guid.text == "a1b2c3d4e5f6"
    assert guid.get("isPermaLink") == "false"
    assert reference.findtext("title") == articles[0].title
    assert reference.findtext("link") == articles[0].url
    assert parsedate_to_datetime(reference.findtext("pubDate", "")) == articles[0].published
    assert reference.findtext("dc:creator", namespaces=NS) == "Anonymous"
    assert reference.findtext("description") == articles[0].standfirst
    assert [c.text for c in reference.findall("category")] == ["Policy", "BTC"]
    # The original is no registered source: no feed is known, so no <source> (the credit
    # paragraph in the body links it).
    assert reference.find("source") is None
    media = reference.find("media:content", NS)
    assert media is not None
    assert media.get("url") == "https://cdn.cryptocompass.example/img/policy.png?w=1200&h=630"
    assert media.get("medium") == "image"
    assert media.findtext("media:description", namespaces=NS) == articles[0].image.alt

    # The body holds `]]>`: it must come back byte for byte, followed by the credit paragraph.
    encoded = reference.findtext("content:encoded", namespaces=NS)
    assert encoded == feed_content_html(articles[0])
    assert CDATA_TRAP_HTML in encoded
    assert encoded.endswith("Read original article on defiliban.io</a></p>")
    assert "]]]]><![CDATA[>" in document

    # Unattributed: <source> is the item's own registered source, its url that source's feed
    # (RSS 2.0: "the URL of the source's XMLization"); control characters gone, markup intact; CR kept.
    plain_source = plain.find("source")
    assert plain_source is not None
    assert (plain_source.get("url"), plain_source.text) == (COINDESK.feed_url, "CoinDesk")
    assert plain.findtext("title") == 'Q&A: "<ETF>" flows hit $1B'
    # <description> is an HTML field: the plain-text standfirst arrives HTML-escaped, so a reader
    # rendering it shows the text itself ("<" and "&" included) rather than markup.
    assert plain.findtext("description") == "Spot bitcoin ETFs &lt; took in &gt; $1B &amp; counting."
    assert html.unescape(plain.findtext("description") or "") == articles[1].standfirst
    assert plain.findtext("dc:creator", namespaces=NS) == "Markets desk"
    assert plain.findtext("content:encoded", namespaces=NS) == _strip_illegal(feed_content_html(articles[1]))
    plain_media = plain.find("media:content", NS)
    assert plain_media is not None
    assert plain_media.findtext("media:description", namespaces=NS) == "Markets desk"


def test_rss_reads_correctly_in_feedparser(articles: list[Article]) -> None:
    parsed = feedparser.parse(render_rss(META_PAGED, articles))

    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.feed.title == "CryptoCompass"
    assert parsed.feed.link == META.home_page_url
    assert parsed.feed.subtitle == META.description
    links = {(link.rel, link.href) for link in parsed.feed.links}
    assert {("self", META.feed_url), ("next", META_PAGED.next_url)} <= links

    reference, plain = parsed.entries
    assert reference.id == "a1b2c3d4e5f6"
    assert reference.guidislink is False
    assert reference.link == articles[0].url
    assert datetime(*reference.published_parsed[:6], tzinfo=UTC) == articles[0].published
    assert reference.author == "Anonymous"
    assert "source" not in reference
    assert [t.term for t in reference.tags] == ["Policy", "BTC"]
    assert reference.media_content[0]["url"] == articles[0].image.url
    assert "Read original article on defiliban.io" in reference.content[0].value
    assert "issuing guidance on digital asset custody" in reference.content[0].value
    assert plain.id == "ffee0011"
    assert plain.title == 'Q&A: "<ETF>" flows hit $1B'
    assert "Read original article on coindesk.com" in plain.content[0].value
    assert plain.source == {"href": COINDESK.feed_url, "title": "CoinDesk"}


def test_rss_without_next_or_articles() -> None:
    document = render_rss(META, [])
    channel = ET.fromstring(document.encode("utf-8")).find("channel")

    assert channel is not None
    assert [link.get("rel") for link in channel.findall("atom:link", NS)] == ["self"]
    assert channel.find("lastBuildDate") is None
    assert channel.findall("item") == []
    assert feedparser.parse(document).bozo == 0


def test_rss_attribution_by_domain_only_has_no_source_and_credits_the_domain() -> None:
    article = replace(
        reference_article(),
        attribution=Attribution(original_url=None, original_domain="theblock.co", marker="appeared-first"),
    )
    item = ET.fromstring(render_rss(META, [article]).encode("utf-8")).find("channel/item")

    assert item is not None
    assert item.find("source") is None  # The Block is no registered source: its feed is unknown
    # The credit names theblock.co, so it links theblock.co (its home page: no article URL known).
    assert item.findtext("content:encoded", namespaces=NS).endswith(
        '<a href="https://theblock.co/">Read original article on theblock.co</a></p>'
    )


# --- Atom 1.0 --------------------------------------------------------------------------------


def _atom(name: str) -> str:
    return f"{{{NS['atom']}}}{name}"


def _assert_rfc3339(text: str | None) -> datetime:
    assert text is not None
    assert RFC3339.match(text), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_atom_carries_what_rfc_4287_requires(articles: list[Article]) -> None:
    root = ET.fromstring(render_atom(META_PAGED, articles).encode("utf-8"))

    assert root.tag == _atom("feed")
    assert root.findtext("atom:id", namespaces=NS) == META.feed_url
    assert root.findtext("atom:title", namespaces=NS) == "CryptoCompass"
    assert root.findtext("atom:subtitle", namespaces=NS) == META.description
    assert _assert_rfc3339(root.findtext("atom:updated", namespaces=NS)) == articles[0].updated
    links = {link.get("rel"): link.get("href") for link in root.findall("atom:link", NS)}
    assert links == {
        "self": META.feed_url,
        "alternate": META.home_page_url,
        "next": META_PAGED.next_url,
    }
    assert root.findtext("atom:author/atom:name", namespaces=NS) == "CryptoCompass"

    reference, plain = root.findall("atom:entry", NS)
    for entry, article in ((reference, articles[0]), (plain, articles[1])):
        assert entry.findtext("atom:id", namespaces=NS) == f"{ATOM_ENTRY_ID_PREFIX}{article.id}"
        assert entry.findtext("atom:title", namespaces=NS) == _strip_illegal(article.title)
        assert _assert_rfc3339(entry.findtext("atom:published", namespaces=NS)) == article.published
        assert _assert_rfc3339(entry.findtext("atom:updated", namespaces=NS)) == article.updated
        alternate = entry.find("atom:link[@rel='alternate']", NS)
        assert alternate is not None
        assert alternate.get("href") == article.url
        content = entry.find("atom:content", NS)
        assert content is not None
        assert content.get("type") == "html"
        assert content.text == _strip_illegal(feed_content_html(article))
        assert entry.findtext("atom:summary", namespaces=NS) == article.standfirst

    assert reference.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert plain.get("{http://www.w3.org/XML/1998/namespace}lang") is None
    assert reference.findtext("atom:author/atom:name", namespaces=NS) == "Anonymous"
    assert plain.findtext("atom:author/atom:name", namespaces=NS) == "Markets desk"
    assert [c.get("term") for c in reference.findall("atom:category", NS)] == ["Policy", "BTC"]
    assert [c.get("term") for c in plain.findall("atom:category", NS)] == ["Markets", "BTC", "ETH"]

    # RFC 4287 §4.2.11: the source feed's metadata, for a registered source only.
    assert reference.find("atom:source", NS) is None
    plain_source = plain.find("atom:source", NS)
    assert plain_source is not None
    assert plain_source.findtext("atom:id", namespaces=NS) == COINDESK.feed_url
    assert plain_source.findtext("atom:title", namespaces=NS) == "CoinDesk"
    assert _assert_rfc3339(plain_source.findtext("atom:updated", namespaces=NS)) == articles[1].updated
    source_links = {link.get("rel"): link.get("href") for link in plain_source.findall("atom:link", NS)}
    assert source_links == {"self": COINDESK.feed_url, "alternate": COINDESK.homepage}


def test_atom_entry_ids_are_stable_across_renders_and_edits(articles: list[Article]) -> None:
    edited = replace(articles[0], title="Hong Kong widens its digital asset push", url="https://moved.example/hk")

    def entry_id(document: str) -> str | None:
        return ET.fromstring(document.encode("utf-8")).findtext("atom:entry/atom:id", namespaces=NS)

    assert entry_id(render_atom(META, [articles[0]])) == entry_id(render_atom(META, [edited]))
    assert entry_id(render_atom(META, [edited])) == "urn:newsroom:article:a1b2c3d4e5f6"


def test_atom_reads_correctly_in_feedparser(articles: list[Article]) -> None:
    parsed = feedparser.parse(render_atom(META_PAGED, articles))

    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "CryptoCompass"
    assert parsed.feed.id == META.feed_url
    assert datetime(*parsed.feed.updated_parsed[:6], tzinfo=UTC) == articles[0].updated

    reference, plain = parsed.entries
    assert reference.id == "urn:newsroom:article:a1b2c3d4e5f6"
    assert reference.link == articles[0].url
    assert datetime(*reference.published_parsed[:6], tzinfo=UTC) == articles[0].published
    assert datetime(*reference.updated_parsed[:6], tzinfo=UTC) == articles[0].updated
    assert reference.author == "Anonymous"
    assert "source" not in reference
    assert reference.content[0].type == "text/html"
    assert "Read original article on defiliban.io" in reference.content[0].value
    assert [t.term for t in reference.tags] == ["Policy", "BTC"]
    assert plain.title == 'Q&A: "<ETF>" flows hit $1B'
    assert "Read original article on coindesk.com" in plain.content[0].value
    assert plain.source.id == COINDESK.feed_url
    assert plain.source.title == "CoinDesk"


def test_empty_atom_feed_is_still_valid() -> None:
    document = render_atom(META, [])
    root = ET.fromstring(document.encode("utf-8"))

    assert root.findtext("atom:updated", namespaces=NS) == "1970-01-01T00:00:00Z"
    assert root.findall("atom:entry", NS) == []
    assert feedparser.parse(document).bozo == 0


# --- every format ----------------------------------------------------------------------------


@pytest.mark.parametrize("render", [render_rss, render_atom, render_json_feed])
def test_every_format_credits_every_item(render: Callable[[FeedMeta, list[Article]], str]) -> None:
    articles = [reference_article(), plain_article()]
    document = render(META, articles)

    # In RSS the credit sits in CDATA, in Atom escaped, in JSON plain: count the domain's line.
    assert document.count("Read original article on defiliban.io") >= 1
    assert document.count("Read original article on coindesk.com") >= 1


def test_loose_language_declarations_are_normalised_or_dropped(schema: dict[str, Any]) -> None:
    underscored = replace(reference_article(), id="lang1", language="en_US")
    malformed = replace(plain_article(), id="lang2", language="English (UK)")
    feed = json.loads(render_json_feed(META, [underscored, malformed]))

    _validator(schema).validate(feed)
    assert feed["items"][0]["language"] == "en-US"
    assert "language" not in feed["items"][1]
    entries = ET.fromstring(render_atom(META, [underscored, malformed]).encode("utf-8")).findall("atom:entry", NS)
    assert [e.get("{http://www.w3.org/XML/1998/namespace}lang") for e in entries] == ["en-US", None]


def test_the_original_article_url_is_never_a_home_page() -> None:
    """The page's canonical link and JSON Feed `external_url`: the original article's URL when the
    credit links it, else the page we read, even when the credit can only link a home page."""
    reference = reference_article()
    assert original_article_url(reference) == "https://defiliban.io/hong-kong-expands-digital-asset-ecosystem"
    for attribution in (
        Attribution(original_url=None, original_domain="theblock.co"),
        Attribution(original_url="https://elsewhere.example/a", original_domain="theblock.co"),
    ):
        article = replace(reference, attribution=attribution)
        assert article.credit_url == "https://theblock.co/"
        assert original_article_url(article) == article.url
        assert "external_url" not in json.loads(render_json_feed(META, [article]))["items"][0]

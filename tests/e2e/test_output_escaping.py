"""Output escaping: one rule per format and field, proven by a round trip.

The rule (README "Feeds and API", `render` module rules): a value is either plain text or
sanitized HTML, and each output field is either a text field or an HTML field.

- Text into a text field: the format's own escaping only (JSON string, XML character data).
  Atom `type="text"` is plain text (RFC 4287 §3.1.1), so `<script>` there is four characters.
- Text into an HTML field (RSS `<description>`, JSON Feed `content_html`, Atom `type="html"`, the
  HTML pages): HTML-escaped first, then the format's escaping. A standfirst that reads
  "<script>" must reach an RSS reader as `&amp;lt;script&amp;gt;`.
- HTML into an HTML field: the sanitized body, escaped (or CDATA-wrapped) once for the container.

Each payload class (`<script>`, `<img onerror>`, `javascript:` links, a CDATA end `]]>`), raw,
entity-encoded and double-encoded, goes into every input field of an RSS and an Atom feed and
through `parse_feed` → `build_article` → every format. Each output field is then read the way a
reader reads it: the XML is parsed, an HTML-typed field is parsed as HTML (no script element, no
`on*` attribute, no non-http(s) URL may appear), feedparser reads the feeds with its sanitizer
on, and the text a reader is shown must equal our plain text exactly, so an escape too few
(live markup) and an escape too many (visible `&lt;`) both fail. The HTML pages are read from
the API in the second test.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest
from lxml import etree

from newsroom.core.config import parse_sources
from newsroom.core.models import Article
from newsroom.core.reading import html_to_text
from newsroom.fetch.feeds import parse_feed
from newsroom.process.build import ProcessingContext, build_article
from newsroom.serve.formats.api_json import article_json
from newsroom.serve.formats.atom import render_atom
from newsroom.serve.formats.common import FeedMeta
from newsroom.serve.formats.jsonfeed import json_feed
from newsroom.serve.formats.rss import render_rss
from newsroom.sources.opml import from_opml
from newsroom.wiring import clients as runtime
from tests.httpserver import LocalHTTPServer, Reply

from .conftest import Stack
from .reliability import deliver

NOW = datetime(2026, 6, 1, tzinfo=UTC)
MARK = "alert(1337)"
PAYLOADS = {
    "script": "<script>alert(1337)</script>",
    "img-onerror": "<img src=x onerror=alert(1337)>",
    "javascript-link": '<a href="javascript:alert(1337)">click</a>',
    "cdata-end": "]]><script>alert(1337)</script><![CDATA[",
}
ENCODINGS = {
    "raw": lambda s: s,
    "entity": lambda s: html.escape(s, quote=False),
    "double": lambda s: html.escape(html.escape(s, quote=False), quote=False),
}
CASES = [(f"{p}-{e}", encode(payload)) for p, payload in PAYLOADS.items() for e, encode in ENCODINGS.items()]
HOSTILE_NAME = '<img src=x onerror="alert(1337)">Hostile &lt;script&gt;alert(1337)&lt;/script&gt; Wire\x01\x0b'
SOURCES_JSON = json.dumps(
    {
        "sources": [
            {"id": "hostile-rss", "name": HOSTILE_NAME, "feed_url": "https://hostile.example/rss.xml"},
            {"id": "hostile-atom", "name": "Hostile Atom", "feed_url": "https://hostile-atom.example/atom.xml"},
        ]
    }
)
SAFE_SCHEMES = ("http", "https")
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "data", "xlink:href", "poster", "background", "srcset")


def x(text: str) -> str:
    """XML character data."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def rss_feed() -> bytes:
    items = []
    for n, (name, value) in enumerate(CASES):
        lead = f"<p>Lead {n} {value} tail.</p><p>Second paragraph {n}.</p>"
        body = f"{'<p>Intro.</p>' * 3}<p>Body {n} {value} end.</p>"
        items.append(
            f"""<item>
  <title>{x(f"Story {n} {value}")}</title>
  <link>https://hostile.example/news/{n}</link>
  <guid isPermaLink="false">{name}</guid>
  <pubDate>Sat, 30 May 2026 10:{n:02d}:00 GMT</pubDate>
  <dc:creator>{x(value)}</dc:creator>
  <category>{x(value)}</category>
  <description>{x(lead) if n % 2 else cdata(lead)}</description>
  {f"<content:encoded>{cdata(body)}</content:encoded>" if n % 3 == 0 else ""}
  <source url="https://origin.example/rss.xml">{x(value)}</source>
</item>"""
        )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>{x(PAYLOADS["script"])}</title><link>https://hostile.example/</link><description>d</description>
{"".join(items)}
</channel></rss>""".encode()


def atom_feed() -> bytes:
    entries = []
    for n, (name, value) in enumerate(CASES):
        kind = "text" if n % 2 else "html"
        entries.append(
            f"""<entry>
  <title type="{kind}">{x(f"Atom {n} {value}")}</title>
  <link rel="alternate" href="https://hostile-atom.example/a/{n}"/>
  <id>urn:hostile-atom:{name}</id>
  <updated>2026-05-30T09:{n:02d}:00Z</updated>
  <author><name>{x(value)}</name></author>
  <category term="{html.escape(value, quote=True)}"/>
  <summary type="{kind}">{x(f"Lead {n} {value} tail.")}</summary>
  <source><title type="{kind}">{x(value)}</title><link rel="self" href="https://origin.example/atom.xml"/></source>
</entry>"""
        )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:hostile-atom</id>
<updated>2026-05-30T10:00:00Z</updated>{"".join(entries)}</feed>""".encode()


# -- how a reader reads each field --------------------------------------------------------------


class _Markup(HTMLParser):
    """Every element and attribute of an HTML fragment, and its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _markup(fragment: str) -> _Markup:
    parser = _Markup()
    parser.feed(fragment)
    parser.close()
    return parser


FRAGMENT_FORBIDDEN = frozenset({"script", "iframe", "object", "embed", "svg", "math", "base", "meta", "style", "link"})
# A whole page has its own <meta>, <link> and icon <svg>; no page of ours has script or frames.
PAGE_FORBIDDEN = frozenset({"script", "iframe", "object", "embed", "base", "frame"})


def executable(fragment: str, where: str, forbidden: frozenset[str] = FRAGMENT_FORBIDDEN) -> list[str]:
    """What a browser given `fragment` as HTML could run: script elements, event handlers, and
    URLs with a scheme other than http(s)."""
    problems = []
    for tag, attrs in _markup(fragment).tags:
        if tag in forbidden:
            problems.append(f"{where}: <{tag}>")
        if tag == "meta" and any(n == "http-equiv" and (v or "").lower() == "refresh" for n, v in attrs):
            problems.append(f"{where}: <meta refresh>")
        for name, value in attrs:
            if name.startswith("on"):
                problems.append(f"{where}: {name}= on <{tag}>")
            if name in URL_ATTRIBUTES and value:
                scheme = urlsplit(re.sub(r"[\x00-\x20]", "", value)).scheme.lower()
                if scheme and scheme not in SAFE_SCHEMES:
                    problems.append(f"{where}: {name}={value!r} on <{tag}>")
    return problems


def tag_free(text: str, where: str) -> list[str]:
    """A text field that readers commonly render as HTML (RSS title, category, creator, source
    name): read as HTML it must form no element at all."""
    return [f"{where}: <{tag}> in {text[:80]!r}" for tag, _ in _markup(text).tags]


def shown_text(fragment: str) -> str:
    """The text a reader shows for an HTML fragment, whitespace collapsed."""
    return " ".join(html_to_text(fragment).split())


def same_text(shown: str, expected: str, where: str) -> list[str]:
    wanted = " ".join(expected.split())
    return (
        []
        if " ".join(shown.split()) == wanted
        else [f"{where}: reader shows {shown[:120]!r}, text is {wanted[:120]!r}"]
    )


def is_http(url: str | None) -> bool:
    return bool(url) and urlsplit(url or "").scheme in SAFE_SCHEMES and bool(urlsplit(url or "").hostname)


# -- the round trip ----------------------------------------------------------------------------

META = FeedMeta(
    title="CryptoCompass",
    home_page_url="https://cryptocompass.example/",
    feed_url="https://cryptocompass.example/feed.rss",
    description="Crypto news <b>credited</b> & fast",
)


def _context() -> ProcessingContext:
    return ProcessingContext.build(
        parse_sources(SOURCES_JSON),
        site_name="CryptoCompass",
        desk_name="CryptoCompass newsroom",
        editorial_image_base_url="https://cryptocompass.example/static/editorial",
        max_body_bytes=300_000,
        now=NOW,
    )


def _articles() -> list[Article]:
    ctx = _context()
    articles = []
    for source_id, document, base in (
        ("hostile-rss", rss_feed(), "https://hostile.example/rss.xml"),
        ("hostile-atom", atom_feed(), "https://hostile-atom.example/atom.xml"),
    ):
        parsed = parse_feed(document, source_id=source_id, base_url=base, fetched_at=NOW)
        assert len(parsed.entries) == len(CASES), (source_id, parsed.bozo_reason)
        articles.extend(build_article(entry, ctx) for entry in parsed.entries)
    return articles


@pytest.fixture(scope="module")
def articles() -> list[Article]:
    return _articles()


def test_payloads_reach_the_plain_text_as_text(articles: list[Article]) -> None:
    """The premise: entity-encoded payloads become literal "<script>" in our plain text, which
    is right for text and is what the outputs must escape for HTML fields."""
    standfirsts = [a.standfirst for a in articles]
    assert sum("<script>alert(1337)</script>" in s for s in standfirsts) >= 4, standfirsts
    assert any("<img src=x onerror=alert(1337)>" in s for s in standfirsts), standfirsts
    assert any("&lt;script&gt;" in s for s in standfirsts), standfirsts  # double-encoded: one decode


def test_rss_fields_are_escaped_for_what_a_reader_makes_of_them(articles: list[Article]) -> None:
    document = render_rss(META, articles)
    root = etree.fromstring(document.encode())
    ns = {"content": "http://purl.org/rss/1.0/modules/content/", "dc": "http://purl.org/dc/elements/1.1/"}
    problems: list[str] = []
    channel_description = root.findtext("channel/description") or ""
    problems += executable(channel_description, "channel description")
    problems += same_text(shown_text(channel_description), META.description, "channel description")
    for article, item in zip(articles, root.findall("channel/item"), strict=True):
        where = f"item {article.title[:30]!r}"
        # RSS 2.0: <description> is HTML ("entity-encoded HTML is allowed"); nearly every reader renders it.
        description = item.findtext("description") or ""
        problems += executable(description, f"{where} description")
        problems += same_text(shown_text(description), article.standfirst, f"{where} description")
        problems += executable(item.findtext("content:encoded", namespaces=ns) or "", f"{where} content:encoded")
        for field in ("title", "category", "dc:creator", "source"):
            for element in item.findall(field, namespaces=ns):
                problems += tag_free(element.text or "", f"{where} {field}")
                problems += [
                    f"{where} {field}: {MARK}"
                    for _ in [1]
                    if "<" in (element.text or "") and MARK in (element.text or "")
                ]
        problems += [f"{where} link {item.findtext('link')!r}" for _ in [1] if not is_http(item.findtext("link"))]
        for element in item.iter():
            for name in ("url", "href"):
                if element.get(name) is not None and not is_http(element.get(name)):
                    problems.append(f"{where} {element.tag} {name}={element.get(name)!r}")
    assert not problems, "\n".join(problems[:40])

    # feedparser, sanitizer on, shows each item's standfirst as its summary: the same text.
    parsed = feedparser.parse(document, sanitize_html=True)
    shown = [
        same_text(shown_text(e.summary), a.standfirst, f"feedparser {a.title[:30]!r}")
        for a, e in zip(articles, parsed.entries, strict=True)
    ]
    assert not [p for p in shown if p], "\n".join(p[0] for p in shown if p)[:4000]


def test_atom_text_stays_text_and_html_is_escaped_html(articles: list[Article]) -> None:
    document = render_atom(META, articles)
    root = etree.fromstring(document.encode())
    atom = "{http://www.w3.org/2005/Atom}"
    problems: list[str] = []
    for article, entry in zip(articles, root.findall(f"{atom}entry"), strict=True):
        where = f"entry {article.title[:30]!r}"
        for name, expected in (("title", article.title), ("summary", article.standfirst)):
            element = entry.find(f"{atom}{name}")
            if element is None:
                continue
            # RFC 4287 §3.1.1: type="text" is plain text; the reader shows it as it is.
            assert element.get("type") == "text", (where, name, element.get("type"))
            if (element.text or "") != expected:
                problems.append(f"{where} {name}: {element.text!r} != {expected!r}")
        content = entry.find(f"{atom}content")
        assert content is not None and content.get("type") == "html"
        problems += executable(content.text or "", f"{where} content")
        for element in entry.iter():
            if element.get("href") is not None and not is_http(element.get("href")):
                problems.append(f"{where} {element.tag} href={element.get('href')!r}")
    assert not problems, "\n".join(problems[:40])

    parsed = feedparser.parse(document, sanitize_html=True)
    for article, entry in zip(articles, parsed.entries, strict=True):
        assert entry.summary_detail.type == "text/plain"
        assert entry.summary == article.standfirst
        assert entry.title == article.title


def test_json_and_json_feed_keep_text_as_text_and_html_safe(articles: list[Article]) -> None:
    feed = json.loads(json.dumps(json_feed(META, articles)))
    problems: list[str] = []
    for article, item in zip(articles, feed["items"], strict=True):
        where = f"item {article.title[:30]!r}"
        problems += executable(item["content_html"], f"{where} content_html")
        # JSON Feed 1.1: title, summary and content_text are plain text.
        assert item["title"] == article.title
        assert item.get("summary", "") == article.standfirst
        for name in ("url", "external_url", "image"):
            if name in item and not is_http(item[name]):
                problems.append(f"{where} {name}={item[name]!r}")
        body = article_json(article)
        problems += executable(body["content_html"], f"API {where} content_html")
        if not is_http(body["credit"]["url"]):
            problems.append(f"API {where} credit url {body['credit']['url']!r}")
    assert not problems, "\n".join(problems[:40])


def test_source_names_from_configuration_and_opml_are_plain_text_in_every_format(articles: list[Article]) -> None:
    """Guards: `config` and `opml` reduce a source name to plain text (no markup, no
    characters XML forbids) where it enters, so every format can treat it as text."""
    # XML 1.0 cannot carry \x01 even as a reference; the OPML name holds the markup only.
    opml_name = html.escape(HOSTILE_NAME.replace("\x01", "").replace("\x0b", ""), quote=True)
    opml = f"""<?xml version="1.0"?><opml version="2.0"><head/><body>
<outline type="rss" text="{opml_name}" xmlUrl="https://opml.example/feed.xml"/></body></opml>"""
    [imported] = from_opml(opml)
    [configured] = [s for s in parse_sources(SOURCES_JSON) if s.id == "hostile-rss"]
    for name in (imported.name, configured.name):
        assert name and not tag_free(name, "name") and "<" not in name, name
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", name), name
        assert "Hostile" in name and "Wire" in name
    hostile = [a for a in articles if a.source_id == "hostile-rss"]
    assert hostile and all(a.source_name == configured.name for a in hostile)
    rss = render_rss(META, hostile)
    atom = render_atom(META, hostile)
    feed = json_feed(META, hostile)
    assert {item["_newsroom"]["source_name"] for item in feed["items"]} == {configured.name}
    assert {article_json(a)["source"]["name"] for a in hostile} == {configured.name}
    for document in (rss, atom, json.dumps(feed), json.dumps([article_json(a) for a in hostile])):
        assert "\x01" not in document and "\\u0001" not in document
        assert 'onerror="alert' not in document and "onerror=&quot;" not in document


# -- the HTML pages, through the API ----------------------------------------------------------


@pytest.fixture
def hostile(stack: Stack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Stack]:
    with LocalHTTPServer() as server:
        server.route("/rss.xml", Reply(body=rss_feed(), headers={"Content-Type": "application/rss+xml"}))
        server.route("/atom.xml", Reply(body=atom_feed(), headers={"Content-Type": "application/atom+xml"}))
        raw = json.loads(SOURCES_JSON)
        raw["sources"][0]["feed_url"] = server.url("/rss.xml")
        raw["sources"][1]["feed_url"] = server.url("/atom.xml")
        path = tmp_path / "hostile-sources.json"
        path.write_text(json.dumps(raw))
        monkeypatch.setenv("SOURCES_FILE", str(path))
        runtime.reset()
        summary = stack.run_fetch()
        assert summary["failed"] == 0 and summary["entries"] == 2 * len(CASES), summary
        report = deliver(stack.sqs, stack.resources.queue_url, stack.resources.queue_arn, stack.process)
        assert not report.failed
        yield stack


def _page(stack: Stack, path: str) -> str:
    response = stack.get(path, {"Accept": "text/html"})
    assert response["statusCode"] == 200, (path, response["statusCode"])
    body: str = response["body"]
    return body


def test_html_pages_show_every_payload_as_text(hostile: Stack) -> None:
    home = _page(hostile, "/")
    links = sorted(set(re.findall(r'href="(/news/[^"]+)"', home)))
    assert len(links) >= 10, links
    problems = executable(home, "/", PAGE_FORBIDDEN)
    for link in links:
        page = _page(hostile, link)
        problems += executable(page, link, PAGE_FORBIDDEN)
        # Outside <meta> content (text, escaped) a payload can sit in no attribute of a page.
        problems += [
            f"{link}: {MARK} in <{tag} {name}>"
            for tag, attrs in _markup(page).tags
            for name, value in attrs
            if value and MARK in value and tag != "meta" and name not in ("alt", "title")
        ]
    listing: dict[str, Any] = json.loads(hostile.get("/articles?limit=100")["body"])
    assert len(listing["items"]) >= len(CASES)  # near-identical leads may merge as duplicates
    for feed in ("/feed.rss?limit=100", "/feed.atom?limit=100"):
        problems += [] if etree.fromstring(hostile.get(feed)["body"].encode()) is not None else [feed]
    assert not problems, "\n".join(problems[:40])

"""Hostile input: XSS payloads in every field of a served feed, hostile XML documents, and
random bytes in every part of an API request.

XSS — guards: nh3 sanitizing of bodies (`html.sanitize_html`: allow-listed tags and attributes,
http(s) links, https images), plain-text titles/bylines/tags (`feeds._plain_text` and the text
rules of `process`), link and image URL filtering (`feeds._http_url`, https-only images), and the
escaping of every renderer (JSON, JSON Feed, RSS, Atom, HTML pages). Each payload calls
`alert(1337)`; the check looks for that marker, or any markup, anywhere a reader could run it.

Hostile XML — guards: feedparser on expat (no external entities, billion-laughs protection),
the fetch size cap, and `feeds.parse_feed` turning anything that is not a feed into a
`FeedParseError` with a reason. Memory is measured with tracemalloc.

API — guards: the resolver's validation (400 problems), 404 for unknown routes, and the
absence of any unguarded parse of a request value.
"""

from __future__ import annotations

import html
import json
import random
import re
import time
import tracemalloc
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from devtools.lambda_local import api_event, invoke
from newsroom.core.models import Source
from newsroom.fetch.feeds import FeedParseError, parse_feed
from newsroom.process.build import ProcessingContext, build_article
from newsroom.wiring import clients as runtime
from tests.httpserver import LocalHTTPServer, Reply

from .conftest import Stack
from .reliability import deliver

MARK = "1337"
PAYLOADS = [
    "<script>alert(1337)</script>",
    "<SCRIPT SRC=//evil.example/1337.js></SCRIPT>",
    '<img src=x onerror="alert(1337)">',
    '<img src="https://ok.example/a.png" onerror=alert(1337)>',
    "<svg onload=alert(1337)>",
    "<svg><script>alert(1337)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1337)"><text x="20" y="20">x</text></a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1337)>",
    '<math href="javascript:alert(1337)">CLICK</math>',
    '<a href="javascript:alert(1337)">click</a>',
    '<a href="JaVaScRiPt:alert(1337)">click</a>',
    '<a href="jav&#x09;ascript:alert(1337)">click</a>',
    '<a href=" &#14;javascript:alert(1337)">click</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxMzM3KTwvc2NyaXB0Pg==">click</a>',
    '<a href="vbscript:msgbox(1337)">click</a>',
    '<iframe src="javascript:alert(1337)"></iframe>',
    '<object data="javascript:alert(1337)"></object>',
    '<embed src="data:text/html,<script>alert(1337)</script>">',
    '<form action="javascript:alert(1337)"><button>go</button></form>',
    "<details open ontoggle=alert(1337)>",
    "<body onload=alert(1337)>",
    '<div style="background:url(javascript:alert(1337))">x</div>',
    '<style>@import "javascript:alert(1337)";</style>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1337)">',
    '<base href="javascript:alert(1337)//">',
    '<noscript><p title="</noscript><img src=x onerror=alert(1337)>">',
    "<scr<script>ipt>alert(1337)</scr</script>ipt>",
    "<<script>script>alert(1337)<</script>/script>",
    '<img src="x" alt="``onerror=alert(1337)">',
    "&lt;script&gt;alert(1337)&lt;/script&gt;",
    "&#60;img src=x onerror=alert(1337)&#62;",
    "&amp;lt;script&amp;gt;alert(1337)&amp;lt;/script&amp;gt;",
    "<!--<img src=x onerror=alert(1337)>-->",
    "<![CDATA[<script>alert(1337)</script>]]>",
    '"><script>alert(1337)</script>',
    "'; alert(1337); //",
]
BAD_URLS = [
    "javascript:alert(1337)",
    "data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMTMzNyk+",
    "vbscript:msgbox(1337)",
    "http://plain.example/1337.png",  # not https: dropped from images
    'https://ok.example/i.png" onerror="alert(1337)',
]
# The markup and URL schemes that must never reach a reader from a feed.
_DANGEROUS = (
    "script style iframe frame frameset object embed applet svg math form input button textarea select "
    "meta base link body html head noscript template details dialog marquee video audio"
)
DANGEROUS_TAGS = frozenset(_DANGEROUS.split())
SAFE_SCHEMES = ("http://", "https://")


# -- the hostile feeds ----------------------------------------------------------------------------


def rss_feed(base: str) -> bytes:
    items = []
    for n, payload in enumerate(PAYLOADS):
        bad = BAD_URLS[n % len(BAD_URLS)]
        body = f"<p>Bitcoin and Ethereum traders watched {n} markets.</p>{payload}<p>More text {n}.</p>"
        cdata = body.replace("]]>", "]]]]><![CDATA[>")
        items.append(
            f"""<item>
  <title>{html.escape(f"Hostile story {n} {payload}")}</title>
  <link>https://hostile.example/news/{n}</link>
  <guid isPermaLink="false">hostile-{n}</guid>
  <pubDate>Sat, 30 May 2026 10:{n % 60:02d}:00 GMT</pubDate>
  <dc:creator>{html.escape(payload)}</dc:creator>
  <category>{html.escape(payload)}</category>
  <description>{html.escape(body)}</description>
  <content:encoded><![CDATA[{cdata}<img src="{bad}"><a href="{bad}">x</a>]]></content:encoded>
  <media:content url="{html.escape(bad)}" medium="image"/>
  <enclosure url="{html.escape(bad)}" type="image/png" length="1"/>
  <source url="{html.escape(bad)}">{html.escape(payload)}</source>
</item>"""
        )
    for n, bad in enumerate(BAD_URLS[:3]):  # entries whose only link is hostile: dropped
        items.append(
            f"<item><title>Bad link {n}</title><link>{html.escape(bad)}</link><guid>{html.escape(bad)}</guid></item>"
        )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">
<channel><title>Hostile &lt;script&gt;alert(1337)&lt;/script&gt;</title><link>{base}</link>
<description>x</description>
{"".join(items)}
</channel></rss>""".encode()


def atom_feed(base: str) -> bytes:
    entries = []
    for n, payload in enumerate(PAYLOADS[:12]):
        entries.append(
            f"""<entry>
  <title type="html">{html.escape(f"Atom hostile {n} {payload}")}</title>
  <link rel="alternate" href="https://hostile-atom.example/a/{n}"/>
  <link rel="enclosure" type="image/png" href="{html.escape(BAD_URLS[n % len(BAD_URLS)])}"/>
  <id>urn:hostile-atom:{n}</id>
  <updated>2026-05-30T09:{n:02d}:00Z</updated>
  <author><name>{html.escape(payload)}</name><uri>javascript:alert(1337)</uri></author>
  <category term="{html.escape(payload, quote=True)}" label="{html.escape(payload, quote=True)}"/>
  <summary type="html">{html.escape(payload)}</summary>
  <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Solana story {n}.</p>
    <script>alert(1337)</script><a href="javascript:alert(1337)">x</a>
    <img src="javascript:alert(1337)"/><p onclick="alert(1337)">click</p></div></content>
</entry>"""
        )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">&lt;script&gt;alert(1337)&lt;/script&gt;</title>
<id>urn:hostile-atom</id><updated>2026-05-30T10:00:00Z</updated><link href="{base}"/>
{"".join(entries)}
</feed>""".encode()


@pytest.fixture
def hostile(stack: Stack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Stack]:
    with LocalHTTPServer() as server:
        server.route("/rss.xml", Reply(body=rss_feed(server.base_url), headers={"Content-Type": "application/rss+xml"}))
        server.route(
            "/atom.xml", Reply(body=atom_feed(server.base_url), headers={"Content-Type": "application/atom+xml"})
        )
        sources = [
            {
                "id": "hostile-rss",
                "name": "Hostile RSS",  # operator configuration is trusted
                "feed_url": server.url("/rss.xml"),
                "homepage": "https://hostile.example",
                "role": "original",
            },
            {
                "id": "hostile-atom",
                "name": "Hostile Atom",
                "feed_url": server.url("/atom.xml"),
                "homepage": "https://hostile-atom.example",
                "role": "aggregator",
            },
        ]
        path = tmp_path / "hostile-sources.json"
        path.write_text(json.dumps({"sources": sources}))
        monkeypatch.setenv("SOURCES_FILE", str(path))
        runtime.reset()
        summary = stack.run_fetch()
        assert summary["failed"] == 0 and summary["entries"] >= len(PAYLOADS)
        report = deliver(stack.sqs, stack.resources.queue_url, stack.resources.queue_arn, stack.process)
        assert not report.failed
        yield stack


# -- the checks -------------------------------------------------------------------------------


class _Executable(HTMLParser):
    """Everything in an HTML document that a browser could run or that navigates elsewhere."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._in_script = True
            if any(name == "src" for name, _ in attrs):
                self.problems.append(f"<script src> {attrs}")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"event handler {name}={value!r} on <{tag}>")
            if name == "style" and re.search(r"javascript|expression\(|url\(", value, re.I):
                self.problems.append(f"style {value!r} on <{tag}>")
            if name in ("href", "src", "action", "formaction", "data", "xlink:href", "poster", "background"):
                target = re.sub(r"[\x00-\x20]", "", value).lower()
                if target and not target.startswith(SAFE_SCHEMES) and (":" in target.split("/")[0]):
                    self.problems.append(f"{name}={value!r} on <{tag}>")
        if tag == "meta" and any(n == "http-equiv" and (v or "").lower() == "refresh" for n, v in attrs):
            self.problems.append("<meta refresh>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and MARK in data:
            self.problems.append(f"payload inside <script>: {data[:80]!r}")


def executable(document: str) -> list[str]:
    parser = _Executable()
    parser.feed(document)
    parser.close()
    return parser.problems


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def body_problems(fragment: str) -> list[str]:
    """An article body (HTML): only harmless tags, nothing executable, links http(s) only."""
    problems = executable(fragment)
    parser = _Tags()
    parser.feed(fragment)
    parser.close()
    problems += [f"<{t}> in a body" for t in parser.tags if t in DANGEROUS_TAGS]
    return problems


def text_problems(text: str) -> list[str]:
    """A plain-text field (title, byline, name): read as HTML — as many feed readers read an RSS
    title — it must form no tag at all. (Entity-encoded text such as "&lt;script&gt;" is inert:
    read as HTML it shows the characters.)"""
    parser = _Tags()
    parser.feed(text)
    parser.close()
    return [f"<{t}> in text {text[:60]!r}" for t in parser.tags]


def url_problems(url: str | None, *, image: bool = False) -> list[str]:
    if not url:
        return []
    allowed = ("https://",) if image else SAFE_SCHEMES
    if not url.startswith(allowed) or not urlsplit(url).hostname or re.search(r"[\s\"'<>]", url):
        return [f"unsafe URL {url!r}"]
    return []


TEXT_KEYS = {"title", "author", "name", "source_name", "standfirst", "summary", "category", "kind_label", "line"}
BODY_KEYS = {"content_html"}
URL_KEYS = {"url", "external_url", "canonical_url", "image", "banner_image", "home_page_url", "feed_url", "next_url"}


def json_problems(value: Any, key: str = "") -> list[str]:
    problems: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            problems += json_problems(v, k)
    elif isinstance(value, list):
        for v in value:
            problems += json_problems(v, key)
    elif isinstance(value, str):
        if key in BODY_KEYS:
            problems += body_problems(value)
        elif key in URL_KEYS or key.endswith("_url"):
            problems += url_problems(value)
        elif key in TEXT_KEYS or key in ("tags", "coins", "content_text"):
            problems += text_problems(value) if key != "content_text" else []
        if MARK in value and key not in BODY_KEYS | {"content_text", "standfirst", "summary"}:
            # The marker may survive only as inert text of a body (a payload shown, not run).
            problems += text_problems(value)
    return problems


def xml_problems(document: str) -> list[str]:
    root = ET.fromstring(document.encode())  # well-formed: no markup escaped out of a field
    problems: list[str] = []
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        text = element.text or ""
        if tag in ("description", "encoded", "content", "summary") and (
            element.get("type") in (None, "html") or tag in ("description", "encoded")
        ):
            problems += body_problems(text)
        elif tag in ("title", "name", "author", "creator", "category", "source", "subtitle"):
            problems += text_problems(text)
        for attr in ("href", "url", "src", "uri"):
            if element.get(attr):
                problems += url_problems(element.get(attr))
        if tag in ("link", "guid", "uri", "id", "comments") and text.strip() and "://" in text:
            problems += url_problems(text.strip())
        problems += (
            [f"category term {element.get('term')!r}"]
            if element.get("term") and text_problems(element.get("term") or "")
            else []
        )
    return problems


def get(stack: Stack, path: str, accept: str | None = None) -> dict[str, Any]:
    headers = {"Accept": accept} if accept else None
    response = stack.get(path, headers)
    assert response["statusCode"] == 200, (path, response["statusCode"], response.get("body", "")[:300])
    return response


def test_no_payload_survives_into_any_output(hostile: Stack) -> None:
    listing = json.loads(get(hostile, "/articles?limit=100")["body"])
    ids = [item["id"] for item in listing["items"]]
    assert len(ids) >= len(PAYLOADS), "hostile entries went missing instead of being cleaned"
    found: dict[str, list[str]] = {"/articles": json_problems(listing)}
    for article_id in ids:
        found[f"/articles/{article_id}"] = json_problems(json.loads(get(hostile, f"/articles/{article_id}")["body"]))
    found["/feed.json"] = json_problems(json.loads(get(hostile, "/feed.json?limit=100")["body"]))
    found["/feed.rss"] = xml_problems(get(hostile, "/feed.rss?limit=100")["body"])
    found["/feed.atom"] = xml_problems(get(hostile, "/feed.atom?limit=100")["body"])
    # HTML pages, where the API serves them: the home page and every article page.
    home = hostile.get("/", {"Accept": "text/html"})
    if home["statusCode"] == 200 and "text/html" in home["headers"].get("Content-Type", ""):
        found["/ (html)"] = executable(home["body"])
        for link in sorted(set(re.findall(r'href="(/news/[^"]+)"', home["body"]))):
            page = hostile.get(link, {"Accept": "text/html"})
            assert page["statusCode"] == 200, link
            found[link] = executable(page["body"])
    problems = {where: p for where, p in found.items() if p}
    assert not problems, json.dumps(problems, indent=1)[:4000]

    # The sanitizer kept the harmless words around each payload.
    story = json.loads(get(hostile, f"/articles/{ids[0]}")["body"])
    assert "markets." in story["content_text"]


# -- hostile XML documents --------------------------------------------------------------------

NOW = datetime(2026, 6, 1, tzinfo=UTC)
ITEM = "<item><title>T{n}</title><link>https://x.example/{n}</link><guid>g{n}</guid>{extra}</item>"


def rss(items: str, declaration: str = '<?xml version="1.0" encoding="utf-8"?>', doctype: str = "") -> bytes:
    return f'{declaration}{doctype}<rss version="2.0"><channel><title>X</title>{items}</channel></rss>'.encode()


def billion_laughs() -> bytes:
    entities = '<!ENTITY lol0 "lololololololololololololololololololol">' + "".join(
        f'<!ENTITY lol{i} "{"".join(f"&lol{i - 1};" for _ in range(10))}">' for i in range(1, 10)
    )
    return rss(ITEM.format(n=1, extra="<description>&lol9;</description>"), doctype=f"<!DOCTYPE rss [{entities}]>")


def external_entity() -> bytes:
    secret = Path("/etc/hostname")
    doctype = f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    return rss(ITEM.format(n=1, extra="<description>&xxe;</description>"), doctype=doctype)


def external_dtd() -> bytes:
    return rss(ITEM.format(n=1, extra=""), doctype='<!DOCTYPE rss SYSTEM "http://127.0.0.1:9/evil.dtd">')


def deep_nesting() -> bytes:
    depth = 20_000
    return rss(ITEM.format(n=1, extra="<description>" + "<div>" * depth + "x" + "</div>" * depth + "</description>"))


def deep_xml_nesting() -> bytes:
    depth = 20_000
    return rss(ITEM.format(n=1, extra="<x>" * depth + "</x>" * depth))


def whitespace() -> bytes:
    return b" " * (10 * 1024 * 1024)


def whitespace_then_feed(size: int) -> bytes:
    return b"\n" * size + rss(ITEM.format(n=1, extra=""))


def wrong_encoding() -> bytes:
    # Declares UTF-16, is UTF-8 with non-ASCII text.
    return rss(
        ITEM.format(n=1, extra="<description>Café Zürich €</description>"), '<?xml version="1.0" encoding="utf-16"?>'
    )


def latin1_declared_utf8() -> bytes:
    body = rss(ITEM.format(n=1, extra="<description>Café Zürich</description>")).decode()
    return body.encode("latin-1")


def unknown_encoding() -> bytes:
    return rss(ITEM.format(n=1, extra=""), '<?xml version="1.0" encoding="x-no-such-charset"?>')


def invalid_dates() -> bytes:
    dates = ["Mon, 99 Foo 2026 99:99:99 GMT", "yesterday", "", "2026-02-30T25:61:00Z", "0000-00-00", "9" * 40]
    return rss("".join(ITEM.format(n=n, extra=f"<pubDate>{d}</pubDate>") for n, d in enumerate(dates)))


def future_dates() -> bytes:
    return rss(
        ITEM.format(n=1, extra="<pubDate>Fri, 31 Dec 9999 23:59:59 GMT</pubDate>")
        + ITEM.format(n=2, extra="<pubDate>Sun, 01 Jan 2090 00:00:00 GMT</pubDate>")
    )


HOSTILE_DOCUMENTS = {
    "billion-laughs": billion_laughs,
    "external-entity": external_entity,
    "external-dtd": external_dtd,
    "deep-html-nesting": deep_nesting,
    "deep-xml-nesting": deep_xml_nesting,
    "10MB-whitespace": whitespace,
    "declared-utf16-is-utf8": wrong_encoding,
    "declared-utf8-is-latin1": latin1_declared_utf8,
    "unknown-encoding": unknown_encoding,
    "invalid-dates": invalid_dates,
    "future-dates": future_dates,
}
MEMORY_LIMIT = 64 * 1024 * 1024  # peak Python allocations while parsing one document
CONTEXT = ProcessingContext.build(
    (Source(id="x", name="X", feed_url="https://x.example/feed", homepage="https://x.example"),),
    site_name="CryptoCompass",
    desk_name="CryptoCompass newsroom",
    editorial_image_base_url="https://cryptocompass.example/static/editorial",
    max_body_bytes=300_000,
    now=NOW,
)


@pytest.mark.parametrize("name", sorted(HOSTILE_DOCUMENTS))
def test_hostile_document_is_handled_with_a_reason_in_bounded_memory(name: str) -> None:
    document = HOSTILE_DOCUMENTS[name]()
    tracemalloc.start()
    try:
        try:
            parsed = parse_feed(document, source_id="x", base_url="https://x.example/feed", fetched_at=NOW)
            outcome = f"ok: {len(parsed.entries)} entries, reason {parsed.bozo_reason!r}"
            # ...and each entry through processing (sanitizer, text, classification) too.
            articles = [build_article(entry, CONTEXT) for entry in parsed.entries]
            assert all(a.published <= NOW + timedelta(minutes=5) for a in articles), "future date kept"
        except FeedParseError as exc:
            parsed = None
            outcome = f"refused: {exc.reason}: {exc}"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT + len(document) * 3, f"{name}: peak {peak / 1e6:.0f} MB ({outcome})"

    if parsed is None:
        assert outcome.split(":")[1].strip(), f"{name}: refused without a reason"
        return
    text = " ".join(e.summary_html + e.content_html + e.title for e in parsed.entries)
    assert "lololololol" * 100 not in text, f"{name}: entities expanded"
    assert Path("/etc/hostname").read_text().strip() not in text or not Path("/etc/hostname").read_text().strip()
    if name in ("declared-utf16-is-utf8", "declared-utf8-is-latin1", "unknown-encoding", "invalid-dates"):
        # Recovered, with the problem recorded rather than silently swallowed.
        assert parsed.entries or parsed.bozo_reason, outcome
    if name == "declared-utf16-is-utf8":
        # Bytes that read as ASCII cannot be UTF-16: the claim is dropped and the text kept.
        [entry] = parsed.entries
        assert "Café Zürich €" in entry.summary_html + entry.content_html
    if name == "invalid-dates":
        # Every entry kept; what cannot be read as a date is no date (the processor then uses the
        # fetch time). feedparser reads "2026-02-30T25:61" leniently as 3 March and "9999…" as
        # year 9999, which the future-date clamp handles (next test).
        assert len(parsed.entries) == 6
        assert [e.published for e in parsed.entries if e.title in ("T0", "T1", "T2", "T4")] == [None] * 4


def test_whitespace_before_the_first_element_is_not_quadratic() -> None:
    """Guards: feeds' prolog tidying. feedparser's `replace_doctype` runs `^\\s*<!ENTITY`
    (MULTILINE) over everything before the first element: without the tidying, 100 KB of
    newlines there take ~60 s, and the 5 MB a fetch allows would take hours."""
    document = whitespace_then_feed(1024 * 1024)
    started = time.monotonic()
    parsed = parse_feed(document, source_id="x", base_url="https://x.example/feed", fetched_at=NOW)
    elapsed = time.monotonic() - started
    assert len(parsed.entries) == 1
    assert elapsed < 2, f"1 MB of leading newlines took {elapsed:.2f} s to parse"


def test_future_and_invalid_dates_cannot_pin_a_story_to_the_top(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards: the future-date clamp in `process` (and invalid dates falling back to fetch time)."""
    from devtools.lambda_local import sqs_event
    from newsroom.core.codec import entry_to_message
    from newsroom.wiring import handlers as service

    processed_at = datetime(2026, 6, 1, 12, tzinfo=UTC)
    monkeypatch.setattr(service, "clock", lambda: processed_at)
    for n, entry in enumerate(
        parse_feed(
            future_dates(), source_id="defiliban", base_url="https://defiliban.io/feed", fetched_at=processed_at
        ).entries
    ):
        event = sqs_event(
            [{"MessageId": f"f{n}", "ReceiptHandle": "r", "Body": entry_to_message(entry)}], stack.resources.queue_arn
        )
        assert invoke(stack.process, event, "ProcessArticlesFunction") == {"batchItemFailures": []}
    later = processed_at + timedelta(hours=1)
    monkeypatch.setattr(service, "clock", lambda: later)
    fresh = parse_feed(
        rss(ITEM.format(n=3, extra=f"<pubDate>{later.strftime('%a, %d %b %Y %H:%M:%S GMT')}</pubDate>")),
        source_id="defiliban",
        base_url="https://defiliban.io/feed",
        fetched_at=later,
    ).entries[0]
    event = sqs_event(
        [{"MessageId": "fresh", "ReceiptHandle": "r", "Body": entry_to_message(fresh)}], stack.resources.queue_arn
    )
    assert invoke(stack.process, event, "ProcessArticlesFunction") == {"batchItemFailures": []}

    items = json.loads(stack.get("/articles")["body"])["items"]
    assert items[0]["title"] == "T3", "a future-dated story stayed on top"
    assert all(item["published"] <= "2026-06-01T13:00:00Z" for item in items), [i["published"] for i in items]


# -- random bytes at the API ----------------------------------------------------------------------

ROUTES = ["/", "/articles", "/articles/0123456789abcdef0123", "/feed.json", "/feed.rss", "/feed.atom", "/prices"]
PARAMS = ["limit", "cursor", "category", "coin", "source", "since", "page"]
HEADERS = ["Accept", "Accept-Encoding", "If-None-Match", "Host", "X-Forwarded-Proto", "Cookie", "Origin", "Range"]


def random_text(rng: random.Random) -> str:
    raw = rng.randbytes(rng.choice([1, 3, 8, 40, 300]))
    choice = rng.random()
    if choice < 0.4:
        return raw.decode("latin-1")
    if choice < 0.7:
        return raw.decode("utf-8", "replace")
    if choice < 0.85:
        return quote(raw)  # percent-encoded bytes, as a proxy would forward them
    return rng.choice(
        ["", " ", "\x00", "%", "%ff", "../..", "😀" * 50, "-1", "1e9", "0x10", "null", "[]", "{}", "\u202e"]
    )


def fuzz_event(rng: random.Random) -> dict[str, Any]:
    route = rng.choice(ROUTES)
    segments = route.split("/")
    if rng.random() < 0.5:
        # A random segment in place of, or after, a real one.
        at = rng.randrange(1, len(segments) + 1)
        segments[at:at] = [quote(random_text(rng), safe="")]
    path = "/".join(segments) or "/"
    params = {rng.choice(PARAMS): random_text(rng) for _ in range(rng.randint(0, 3))}
    if rng.random() < 0.2:
        params[random_text(rng)] = random_text(rng)
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())
    headers = {"Host": "127.0.0.1:3000", "X-Forwarded-Proto": "http"}
    for name in rng.sample(HEADERS, rng.randint(0, 4)):
        headers[name] = random_text(rng)
    if rng.random() < 0.2:
        headers[random_text(rng)[:40] or "X-Empty"] = random_text(rng)
    return api_event("GET", f"{path}?{query}" if query else path, headers)


def test_random_bytes_in_every_request_part_never_get_a_5xx(stack: Stack) -> None:
    # One story and prices stored, so the routes reach the store rather than stopping early.
    from devtools.lambda_local import load_event

    from .reliability import sample_messages, send_all

    send_all(stack.sqs, stack.resources.queue_url, sample_messages()[:3])
    deliver(stack.sqs, stack.resources.queue_url, stack.resources.queue_arn, stack.process)
    invoke(stack.prices, load_event("fetch_prices_schedule"), "FetchPricesFunction")

    rng = random.Random(20260601)
    statuses: dict[int, int] = {}
    for case in range(400):
        event = fuzz_event(rng)
        result = invoke(stack.api, event, "ApiFunction")
        status = int(result["statusCode"])
        statuses[status] = statuses.get(status, 0) + 1
        request = f"{event['path']!r} {event['queryStringParameters']!r} {event['headers']!r}"
        assert status < 500, f"case {case}: {request} -> {status}: {result.get('body', '')[:300]}"
    assert sum(n for s, n in statuses.items() if 400 <= s < 500) > 100, statuses  # the fuzz reached validation

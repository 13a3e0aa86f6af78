"""The fast parse path against feedparser: the same `ParsedFeed`, field by field, for every
document the fast path serves; hostile XML refused before either parser; any failure of the fast
path falls back to feedparser."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools import golden
from newsroom.fetch import fastparse, fastparse_rss, feeds
from newsroom.fetch.feeds import FeedParseError, ParsedFeed, parse_feed
from tests.fetch.test_feeds import BILLION_LAUGHS, HOSTILE_BYPASSES, QUADRATIC_BLOWUP
from tests.fuzz.feeds import TEXT, FeedSpec, Item, items
from tests.fuzz.feeds import document as fuzz_document

# Every entry field parse_feed fills, named so a difference says which one.
ENTRY_FIELDS = [field.name for field in dataclasses.fields(feeds.RawEntry)]
FEED_FIELDS = [field.name for field in dataclasses.fields(ParsedFeed) if field.name not in ("entries", "parser")]


def _parse(document: golden.Document, *, fast_path: bool) -> ParsedFeed | tuple[str, str]:
    return _parse_body(document.body, document.headers, document.source.feed_url, fast_path=fast_path)


def _parse_body(
    body: bytes, headers: dict[str, str] | Any, base_url: str, *, fast_path: bool
) -> ParsedFeed | tuple[str, str]:
    """parse_feed's result, or its refusal as (reason, message)."""
    try:
        return parse_feed(
            body,
            source_id="differential",
            base_url=base_url,
            fetched_at=golden.CLOCK,
            response_headers=headers,
            fast_path=fast_path,
        )
    except FeedParseError as exc:
        return (exc.reason, str(exc))


def differences(fast: ParsedFeed, reference: ParsedFeed | tuple[str, str]) -> list[str]:
    """What differs between the two paths' results, one line per field."""
    if not isinstance(reference, ParsedFeed):
        return [f"feedparser refused it: {reference}"]
    found = [
        f"feed.{name}: {getattr(fast, name)!r} != {getattr(reference, name)!r}"
        for name in FEED_FIELDS
        if getattr(fast, name) != getattr(reference, name)
    ]
    if len(fast.entries) != len(reference.entries):
        found.append(f"{len(fast.entries)} entries != {len(reference.entries)}")
    for index, (mine, theirs) in enumerate(zip(fast.entries, reference.entries, strict=False)):
        found += [
            f"entry {index}.{name}: {getattr(mine, name)!r:.120} != {getattr(theirs, name)!r:.120}"
            for name in ENTRY_FIELDS
            if getattr(mine, name) != getattr(theirs, name)
        ]
    return found


def _documents() -> Iterator[golden.Document]:
    """Every corpus file and sample feed, served as the golden record serves them."""
    return golden.documents()


@cache
def _served() -> tuple[dict[str, list[str]], int, int]:
    """Each document the fast path served, with its differences from feedparser; and the
    number of documents and of entries (feedparser's count) in the corpus."""
    served: dict[str, list[str]] = {}
    documents = entries = 0
    for document in _documents():
        documents += 1
        reference = _parse(document, fast_path=False)
        if isinstance(reference, ParsedFeed):
            entries += len(reference.entries)
        fast = _parse(document, fast_path=True)
        if isinstance(fast, ParsedFeed) and fast.parser == "fast":
            served[document.name] = differences(fast, reference)
    return served, documents, entries


def test_every_document_the_fast_path_serves_parses_as_feedparser_parses_it() -> None:
    served, documents, _ = _served()

    assert documents > 2140
    assert {name: found for name, found in served.items() if found} == {}
    # The rule is narrow on purpose, but the real news feeds are what it is for.
    real = [name for name in served if "/real-feeds/" in name or "/crypto-" in name]
    assert len(real) >= 25, sorted(served)
    # xml:base on the root, and ISO-8859-1: 133 of the real feeds' 913 entries.
    assert {"corpus/crypto-2026-10-03/utoday.xml", "corpus/real-feeds/jn-pt-rss-parser.xml"} <= set(served)
    assert {"samples/cryptowire.xml", "samples/defiliban.xml"} <= set(served)


def test_the_fast_path_is_exact_beyond_what_the_rule_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Routing waived (the Content-Type check kept): every document the fast path then accepts,
    feedparser's own test cases included, still parses the same. Its exactness comes from what
    it refuses, not from the routing rule only sending it easy documents."""
    routed = fastparse.routed
    monkeypatch.setattr(fastparse, "routed", lambda body, content_type: routed(b"<rss>", content_type))
    served: dict[str, list[str]] = {}
    for document in _documents():
        fast = _parse(document, fast_path=True)
        if isinstance(fast, ParsedFeed) and fast.parser == "fast":
            served[document.name] = differences(fast, _parse(document, fast_path=False))

    assert {name: found for name, found in served.items() if found} == {}
    assert len([name for name in served if "/feedparser/" in name]) >= 250


def _well_formed(item: Item) -> Item:
    """Markup written escaped or as CDATA, never raw (raw markup is refused by the fast path, or
    ill-formed, so it would only test the fallback)."""
    return Item(item.values, {name: "cdata" if way == "cdata" else "escaped" for name, way in item.writing.items()})


def _specs(feed_format: str) -> st.SearchStrategy[FeedSpec]:
    """The fuzzers' documents in the encodings the rule routes: naughty strings, payloads, markup
    written escaped or as CDATA, odd dates and URLs, in every field the fast path models."""
    return st.builds(
        FeedSpec,
        format=st.just(feed_format),
        encoding=st.sampled_from(["utf-8", "iso-8859-1"]),
        items=st.lists(items().map(lambda item: _well_formed(item)), min_size=1, max_size=3).map(tuple),
        title=TEXT,
    )


RSS_SPECS = _specs("rss")


def test_generated_rss_parses_the_same_on_both_paths() -> None:
    served: list[bool] = []

    @given(RSS_SPECS, st.sampled_from([None, "en_US", "fr"]))
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    def same(spec: FeedSpec, language: str | None) -> None:
        headers = {"content-type": "application/rss+xml"} | ({"content-language": language} if language else {})
        served.append(_same_on_both_paths(fuzz_document(spec), headers, "https://fuzz.example/feed"))

    same()
    assert sum(served) >= len(served) // 4, f"{sum(served)} of {len(served)} served by the fast path"


def _same_on_both_paths(body: bytes, headers: dict[str, str], base_url: str) -> bool:
    """Asserts the fast path refused the document or read it as feedparser does; says which."""
    fast = _parse_body(body, headers, base_url, fast_path=True)
    reference = _parse_body(body, headers, base_url, fast_path=False)
    if isinstance(fast, ParsedFeed) and fast.parser == "fast":
        assert differences(fast, reference) == []
        return True
    assert fast == reference
    return False


ATOM_SPECS = _specs("atom")
_ATOM_SOURCE = re.compile(rb"<source>.*?</source>", re.DOTALL)


def test_generated_atom_parses_the_same_on_both_paths() -> None:
    """The fuzzers' Atom entries (text and HTML constructs, links, enclosures, ids, dates, a person,
    a category), without their `<source>`, which the fast path leaves to feedparser: the same
    result on both paths, and most of them served by the fast path."""
    served: list[bool] = []

    @given(ATOM_SPECS, st.sampled_from([None, "en_US"]), st.booleans())
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    def same(spec: FeedSpec, language: str | None, with_source: bool) -> None:
        headers = {"content-type": "application/atom+xml"} | ({"content-language": language} if language else {})
        body = fuzz_document(spec)
        body = body if with_source else _ATOM_SOURCE.sub(b"", body)
        served.append(_same_on_both_paths(body, headers, "https://fuzz.example/feed"))

    same()
    assert sum(served) >= len(served) // 4, f"{sum(served)} of {len(served)} served by the fast path"


# Features the corpus has few of, in one hand-written document the fast path must serve exactly.
TRICKY = """<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="/rss.xsl"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:media="http://search.yahoo.com/mrss/" xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"
     xmlns:atom="http://www.w3.org/2005/Atom" xmlns:x="https://unknown.example/ns">
<channel>
  <title>Caf\u00c3\u00a9 &amp;amp; &lt;b&gt;news&lt;/b&gt;</title><ttl> 45 </ttl><language>de_AT</language>
  <image><url>/logo.png</url><title>Logo</title><link>/</link></image>
  <atom:link rel="self" href="https://pub.example/feed"/><x:thing>ignored</x:thing>
  <item>
    <title>  Price \u0080 up &lt;b&gt;5%&lt;/b&gt;  </title>
    <link> /news/a?x=1&amp;amp;y=2 </link>
    <guid isPermaLink="false">tag:pub.example,2026:1</guid>
    <content:encoded><![CDATA[<p>Body <a href="/rel">link</a></p>]]></content:encoded>
    <description>Teaser &amp; more</description>
    <dc:creator>Jane Roe (jane@pub.example)</dc:creator>
    <dc:creator>John Doe</dc:creator>
    <category domain="https://pub.example/tags"></category>
    <category>Markets</category><category>Markets</category><dc:subject>Bitcoin</dc:subject>
    <pubDate>Sun, 31 May 2026 10:00:00 +0200</pubDate><dc:date>2026-05-31T09:00:00Z</dc:date>
    <enclosure url="https://cdn.pub.example/a.JPG" type="IMAGE/JPEG" length="1"/>
    <media:content url="http://cdn.pub.example/wide.jpg" medium="image" width="900">
      <media:title type="html">Wide &lt;i&gt;picture&lt;/i&gt;</media:title><media:credit>Agency</media:credit>
    </media:content>
    <media:thumbnail>/thumb.png</media:thumbnail>
    <source url="https://origin.example/rss">Origin &amp;amp; Co</source>
    <feedburner:origLink>https://origin.example/a</feedburner:origLink>
    <x:extra a="1">unknown</x:extra>
  </item>
  <item>
    <guid>relative/permalink</guid><title></title>
    <media:content url="https://cdn.pub.example/first.jpg">
      <media:title>Only the media title</media:title></media:content>
    <description>&lt;p&gt;HTML&lt;/p&gt;</description><content:encoded>Body</content:encoded>
    <dc:description>a second description wins once there is content</dc:description>
  </item>
  <item><title>Atom link</title><atom:link rel="alternate" type="text/html" href="/atom-link"/>
    <author>ed@pub.example</author><image>https://pub.example/i.jpg</image></item>
</channel>
</rss>"""


def test_a_document_full_of_edge_cases_is_served_by_the_fast_path_exactly() -> None:
    headers = {"content-type": "application/rss+xml; charset=utf-8", "content-language": "en_GB"}
    base_url = "https://pub.example/feeds/main.xml"
    fast = _parse_body(TRICKY.encode("utf-8"), headers, base_url, fast_path=True)
    reference = _parse_body(TRICKY.encode("utf-8"), headers, base_url, fast_path=False)

    assert isinstance(fast, ParsedFeed) and fast.parser == "fast"
    assert differences(fast, reference) == []
    assert isinstance(reference, ParsedFeed) and reference.parser == "feedparser"
    assert len(fast.entries) == 3 and fast.ttl_minutes == 45
    first = fast.entries[0]
    assert first.link == "https://pub.example/news/a?x=1&y=2"
    assert first.orig_link == "https://origin.example/a"
    assert first.declared_source_url == "https://origin.example/rss"
    assert first.tags == ("Markets", "Bitcoin")


ATOM_TRICKY = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/" xml:lang="en_GB">
  <title type="html">Desk &amp;amp; &lt;b&gt;wire&lt;/b&gt;</title><subtitle type="html">&lt;p&gt;s&lt;/p&gt;</subtitle>
  <id>tag:pub.example,2026:feed</id><updated>2026-05-31T10:00:00Z</updated><link rel="self" href="/atom.xml"/>
  <author><name>Desk</name><email>desk@pub.example</email></author><logo>/logo.png</logo>
  <entry>
    <title>&lt;b&gt;Bold&lt;/b&gt; move &amp;amp; more</title>
    <id>https://pub.example/posts/1</id>
    <published>2026-05-31T09:00:00+02:00</published><updated>2026-05-31T10:00:00Z</updated>
    <author><name>Jos\u00c3\u00a9 Roe</name><email>jose@pub.example</email><uri>/people/jose</uri></author>
    <author><name>Second</name></author>
    <contributor><name>Helper</name></contributor>
    <category term="markets" scheme="https://pub.example/tags" label="Markets"/><category term="btc"/>
    <content type="html">&lt;p&gt;Body &lt;a href="/rel"&gt;link&lt;/a&gt;&lt;/p&gt;</content>
    <summary type="text">A summary after the content</summary>
    <link rel="enclosure" type="image/jpeg" href="https://cdn.pub.example/a.jpg" length="10"/>
    <media:thumbnail url="https://cdn.pub.example/t.jpg" width="120"/>
    <rights>CC</rights>
  </entry>
  <entry>
    <title type="text">Plain &lt;i&gt;text&lt;/i&gt; title</title><id>tag:pub.example,2026:2</id>
    <link href="/posts/2"/><link rel="alternate" type="text/plain" href="/posts/2.txt"/>
    <content>Text content only, copied to the summary</content>
    <author><name>Ann</name><uri>https://ann.example/</uri></author>
  </entry>
  <entry><id>relative/3</id><summary type="html">&lt;p&gt;only a summary&lt;/p&gt;</summary></entry>
</feed>"""


def test_an_atom_document_full_of_edge_cases_is_served_by_the_fast_path_exactly() -> None:
    base_url = "https://pub.example/feeds/atom.xml"
    for language in (None, "fr"):
        headers = {"content-type": "application/atom+xml"} | ({"content-language": language} if language else {})
        fast = _parse_body(ATOM_TRICKY.encode(), headers, base_url, fast_path=True)
        reference = _parse_body(ATOM_TRICKY.encode(), headers, base_url, fast_path=False)

        assert isinstance(fast, ParsedFeed) and fast.parser == "fast"
        assert differences(fast, reference) == []
        assert [entry.link for entry in fast.entries] == [
            "https://pub.example/posts/1",
            "https://pub.example/posts/2",
            "https://pub.example/feeds/relative/3",
        ]
        assert fast.entries[0].author == "Second" and fast.language == "en-GB"


@pytest.mark.parametrize(
    ("start", "replacement"),
    [
        ("<summary type=\"text\">A summary after", "<summary>first</summary><summary type=\"text\">A summary after"),
        ("<content>Text content only", "<summary>s</summary><summary>Text content only</summary><content>c"),
        ("<content>Text content only", '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">x</div>'),
        ('<title type="text">Plain', '<title type="xhtml">Plain'),
        ("<content>Text content only", '<content type="text/markdown">Text content only'),
        ("<content>Text content only", '<content type="html" mode="escaped">Text content only'),
        (
            "<content>Text content only, copied to the summary</content>",
            '<content type="text" mode="base64">VGV4dCBjb250ZW50IG9ubHk=</content>',
        ),
        ("<content>Text content only", '<content src="https://pub.example/c.txt">Text content only'),
        ("<entry><id>relative/3</id>", "<entry><source><title>S</title></source><id>relative/3</id>"),
        ("<entry><id>relative/3</id>", '<entry xml:base="/b/"><id>relative/3</id>'),
        ("<author><name>Ann</name>", "<author>Ann <name>Ann</name>"),
        ("<author><name>Ann</name>", "<author><name>Ann</name><x:y xmlns:x='urn:x'>1</x:y>"),
        ('<feed xmlns="http://www.w3.org/2005/Atom"', '<feed version="0.3" xmlns="http://www.w3.org/2005/Atom"'),
    ],
    ids=["two summaries, content between", "two summaries", "xhtml content", "xhtml title", "other type", "mode",
         "base64", "src", "atom source", "entry base", "mixed author", "author extension", "feed version"],
)  # fmt: skip
def test_atom_the_fast_path_does_not_model_is_left_to_feedparser(start: str, replacement: str) -> None:
    """Each shape is refused, except a second summary after the content, which feedparser reads as
    a summary (only a second one before any content is read as content) and the fast path serves."""
    assert start in ATOM_TRICKY
    body = ATOM_TRICKY.replace(start, replacement, 1).encode()
    headers = {"content-type": "application/atom+xml"}
    fast = _parse_body(body, headers, "https://pub.example/feeds/atom.xml", fast_path=True)
    reference = _parse_body(body, headers, "https://pub.example/feeds/atom.xml", fast_path=False)

    assert isinstance(fast, ParsedFeed) and isinstance(reference, ParsedFeed)
    if replacement.startswith("<summary>first</summary>"):
        assert fast.parser == "fast" and differences(fast, reference) == []
    else:
        assert fast.parser == "feedparser" and fast == reference


# -- the root's xml:base and xml:lang, and ISO-8859-1 ------------------------------------------

ROOTED = """<?xml version="1.0" encoding="{encoding}"?>
<rss version="2.0" {root}><channel><title>Caf\u00e9 \u0080</title><link>/home</link>
<item><title>Caf\u00e9 \u00c3\u00a9 \u0093q\u0094</title><link>news/a</link><guid>/g/1</guid>
<description>&lt;p&gt;d&lt;/p&gt;</description><enclosure url="img/a.jpg" type="image/jpeg"/>
<source url="../src">S</source><dc:creator>Jos\u00c3\u00a9</dc:creator></item></channel></rss>"""
ROOT_ATTRIBUTES = [
    'xml:base="https://u.example/rss_feed"',
    'xml:base="/sub/dir/"',
    'xml:base="other/"',
    'xml:base=""',
    'xml:base="javascript:alert(1)"',
    'xml:base="https://u.example/a" base="https://ignored.example/"',
    'base="https://bare.example/x/"',
    'xml:lang="en_GB"',
    'xml:lang=""',
    'lang="de"',
    'xml:lang="pt" xml:base="https://both.example/"',
]


@pytest.mark.parametrize("encoding", ["utf-8", "iso-8859-1"])
@pytest.mark.parametrize("content_language", [None, "fr_CA"])
@pytest.mark.parametrize("root", ROOT_ATTRIBUTES)
def test_the_root_s_base_and_language_and_latin_1_parse_as_feedparser_parses_them(
    root: str, content_language: str | None, encoding: str
) -> None:
    """What lets U.Today's feed (xml:base on its root) and Jornal de Notícias' (ISO-8859-1) onto
    the fast path: every way feedparser reads a root's base and language, each encoding's repair
    of text (UTF-8 read as Latin-1, C1 controls as cp1252)."""
    body = ROOTED.format(encoding=encoding, root=f'xmlns:dc="http://purl.org/dc/elements/1.1/" {root}')
    headers = {"content-type": "application/rss+xml"} | (
        {"content-language": content_language} if content_language else {}
    )
    base_url = "https://pub.example/feeds/main.xml"
    fast = _parse_body(body.encode(encoding), headers, base_url, fast_path=True)
    reference = _parse_body(body.encode(encoding), headers, base_url, fast_path=False)

    assert isinstance(fast, ParsedFeed) and fast.parser == "fast"
    assert differences(fast, reference) == []


@pytest.mark.parametrize(
    ("start", "with_scope"),
    [
        ("<channel>", '<channel xml:base="https://c.example/">'),
        ("<item>", '<item xml:lang="de">'),
        ("<item><title>", '<item><title xml:base="/t">'),
        ("<link>news/a", '<link lang="de">news/a'),
    ],
)
def test_a_base_or_language_below_the_root_is_left_to_feedparser(start: str, with_scope: str) -> None:
    body = ROOTED.format(encoding="utf-8", root='xmlns:dc="http://purl.org/dc/elements/1.1/"')
    assert start in body
    fast = _parse_body(body.replace(start, with_scope, 1).encode(), {"content-type": "application/rss+xml"},
                       "https://pub.example/feed", fast_path=True)  # fmt: skip

    assert isinstance(fast, ParsedFeed) and fast.parser == "feedparser"


ROOT_VALUES = st.one_of(
    st.sampled_from(["", "/", "a/b", "../up", "?q=1", "#f", "//host.example/p", "https://x.example", "data:,x"]),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12),
)


def test_generated_root_bases_and_languages_parse_the_same_on_both_paths() -> None:
    served: list[bool] = []

    def quoted(value: str) -> str:
        return value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")

    @given(ROOT_VALUES, ROOT_VALUES, st.sampled_from(["utf-8", "iso-8859-1"]))
    @settings(max_examples=150, deadline=None)
    def same(base: str, lang: str, encoding: str) -> None:
        root = f'xmlns:dc="http://purl.org/dc/elements/1.1/" xml:base="{quoted(base)}" xml:lang="{quoted(lang)}"'
        encoded = ROOTED.format(encoding=encoding, root=root).encode(encoding, errors="xmlcharrefreplace")
        headers = {"content-type": "application/rss+xml"}
        served.append(_same_on_both_paths(encoded, headers, "https://pub.example/feeds/main.xml"))

    same()
    assert sum(served) >= len(served) // 2, f"{sum(served)} of {len(served)} served by the fast path"


# -- routing ------------------------------------------------------------------------------------

PLAIN = b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel></channel></rss>'
LATIN_1 = PLAIN.replace(b"utf-8", b"iso-8859-1")
ATOM = b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"></feed>'


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (PLAIN, "application/xml", True),
        (PLAIN, "application/rss+xml; charset=UTF-8", True),
        (b'<rss version="2.0"><channel></channel></rss>', "application/xml", True),
        (PLAIN, "text/xml", False),  # RFC 3023: text/xml without a charset is US-ASCII
        (PLAIN, "application/xml; charset=iso-8859-1", False),  # the charset wins; lxml reads the declaration
        (PLAIN, "text/html", False),
        (LATIN_1, "application/xml", True),
        (LATIN_1, "application/rss+xml; charset=ISO-8859-1", True),
        (LATIN_1, "application/xml; charset=utf-8", False),
        (LATIN_1.replace(b'version="1.0" encoding', b'version="1.0"'), "application/xml; charset=iso-8859-1", False),
        (PLAIN.replace(b"utf-8", b"windows-1252"), "application/xml", False),  # can fail to decode
        (PLAIN.replace(b"utf-8", b"latin1"), "application/xml", False),
        (b"\xef\xbb\xbf" + PLAIN, "application/xml", False),
        (PLAIN.replace(b"?>\n", b'?>\n<!DOCTYPE rss SYSTEM "rss.dtd">\n'), "application/xml", False),
        (PLAIN.replace(b"?>\n", b"?>\n<!-- a comment -->\n"), "application/xml", False),
        (ATOM, "application/xml", True),
        (ATOM, "application/atom+xml; charset=utf-8", True),
        (ATOM, "text/xml", False),
        (ATOM.replace(b"<feed", b"<atom:feed"), "application/atom+xml", False),
        (b'<?xml version="1.0"?><rdf:RDF></rdf:RDF>', "application/xml", False),
        (b'<?xml version="1.1"?><rss version="2.0"></rss>', "application/xml", False),
    ],
)
def test_the_routing_rule_looks_at_the_first_bytes_and_the_content_type(
    body: bytes, content_type: str, expected: bool
) -> None:
    assert fastparse.routed(body, content_type) is expected


# -- hostile XML ---------------------------------------------------------------------------------

HOSTILE = {
    "billion laughs": BILLION_LAUGHS,
    "quadratic blowup": QUADRATIC_BLOWUP,
    "external entities": '<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY file SYSTEM "file:///etc/passwd">\n]>\n'
    '<rss version="2.0"><channel><item><title>&file;</title><link>https://a.example/x</link></item></channel></rss>',
    "external DTD subset": '<?xml version="1.0"?>\n<!DOCTYPE rss [ <!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd">'
    ' %remote; ]>\n<rss version="2.0"><channel><item><link>https://a.example/x</link></item></channel></rss>',
    **HOSTILE_BYPASSES,
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_documents_are_refused_before_either_parser(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a parser saw a hostile document")

    monkeypatch.setattr(fastparse, "routed", lambda body, content_type: True)  # even if it were routed
    monkeypatch.setattr(fastparse, "parse", never)
    monkeypatch.setattr(feeds.feedparser, "parse", never)

    with pytest.raises(FeedParseError) as caught:
        parse_feed(HOSTILE[name].encode(), source_id="evil", base_url="https://evil.example/", fetched_at=golden.CLOCK)

    assert caught.value.reason == "hostile-xml"


@pytest.mark.parametrize("name", ["billion laughs", "quadratic blowup", "external entities", "external DTD subset"])
def test_lxml_on_the_fast_path_resolves_no_entity_and_loads_no_dtd(name: str) -> None:
    """Past the guard (called directly), lxml still expands nothing and fetches nothing: the
    document is refused or its entities stay unexpanded references, which the fast path refuses."""
    with pytest.raises(Exception) as caught:  # noqa: PT011  # lxml's error or Unsupported, either refuses
        fastparse.parse(HOSTILE[name].encode(), base_url="https://evil.example/", language=None)

    assert "lol" * 100 not in str(caught.value) and "root:" not in str(caught.value)


# -- fallback ------------------------------------------------------------------------------------


def _sample() -> golden.Document:
    return next(document for document in _documents() if document.name == "samples/cryptowire.xml")


def test_an_exception_inside_the_fast_path_falls_back_to_feedparser(monkeypatch: pytest.MonkeyPatch) -> None:
    document = _sample()
    reference = _parse(document, fast_path=False)
    assert isinstance(reference, ParsedFeed)
    served = _parse(document, fast_path=True)
    assert isinstance(served, ParsedFeed) and served.parser == "fast"

    def broken(self: Any, item: Any, element: Any, attributes: Any) -> None:
        raise RuntimeError("a bug in the fast path")

    monkeypatch.setitem(fastparse_rss._ITEM_HANDLERS, "title", broken)
    fallen = _parse(document, fast_path=True)

    assert isinstance(fallen, ParsedFeed) and fallen.parser == "feedparser"
    assert fallen == reference


def test_a_document_lxml_refuses_falls_back_to_feedparser() -> None:
    body = (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>Caf\xe9</title><link>https://a.example/1</link></item></channel></rss>"  # Latin-1 byte
    )
    parsed = parse_feed(body, source_id="x", base_url="https://a.example/", fetched_at=golden.CLOCK)

    assert parsed.parser == "feedparser"
    assert [entry.link for entry in parsed.entries] == ["https://a.example/1"]


# -- what the outside review found (2026-12-03): each was served by the fast path and differed ---

_LATIN = b'<rss version="2.0"><channel><title>t</title><item><title>Caf\xe9</title><link>https://a.example/1</link>'
REVIEWED: dict[str, tuple[bytes, str]] = {
    # feedparser finds no encoding where its pattern needs `encoding="` on the first line, reads
    # UTF-8, fails, and falls back to windows-1252 (or ISO-8859-2 for some bytes).
    "latin-1 declared with spaces": (
        b'<?xml version="1.0" encoding = "ISO-8859-1"?>\n'
        + _LATIN
        + b"<author><name>Dan O\x92Brien</name></author></item></channel></rss>",
        "application/rss+xml",
    ),
    "latin-1 declared over two lines": (
        b'<?xml version="1.0"\n encoding="ISO-8859-1"?>\n'
        + _LATIN.replace(b"Caf\xe9", b"Caf\xe9 \xa1O\x81l\xe9!")
        + b"</item></channel></rss>",
        "application/rss+xml",
    ),
    # Its pattern reads the first line greedily: a later encoding on a one-line document wins.
    "a later encoding on the first line": (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Café</title><item><title>a</title>'
        '<link>https://a.example/1</link><description><![CDATA[<?xml version="1.0" encoding="koi8-r"?>]]></description>'
        "</item></channel></rss>".encode(),
        "application/rss+xml",
    ),
    # An RSS 1.0 namespace declared before Atom's makes feedparser read the feed as RSS 1.0.
    "atom with an rss 1.0 namespace": (
        b'<feed xmlns:r="http://purl.org/rss/1.0/" xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry>'
        b'<title>&lt;b&gt;Bold&lt;/b&gt;</title><link href="http://a.example/1"/><summary>&lt;p&gt;x&lt;/p&gt;</summary>'
        b"</entry></feed>",
        "application/atom+xml",
    ),
    # feedparser guesses HTML before repairing the text, where the cp1252 table makes \x9a a letter.
    "the guess before the repair": (
        b'<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>t</title><item>'
        b"<title>Caf\xe9 &lt;i\x9a&gt;news&lt;/i&gt;</title><link>https://a.example/1</link></item></channel></rss>",
        "application/rss+xml",
    ),
    # FeedParserDict stores these names under the ones parse_feed reads.
    "an element named as an alias (atom)": (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry><link href="http://a.example/1"/>'
        b"<updated>2026-05-31T10:00:00Z</updated><summary>a &lt; b</summary><date_parsed>x</date_parsed>"
        b"<description_detail/></entry></feed>",
        "application/atom+xml",
    ),
    "an element named as an alias (rss)": (
        b'<rss version="2.0"><channel><title>t</title><item><link>https://a.example/1</link>'
        b"<pubDate>Sun, 31 May 2026 10:00:00 GMT</pubDate><issued_parsed/></item></channel></rss>",
        "application/rss+xml",
    ),
    # feedparser names an element of an unknown namespace after the first prefix bound to it,
    # and never undoes a binding.
    "a namespace bound to two prefixes": (
        b'<rss version="2.0" xmlns:dc="urn:u" xmlns:b="urn:u"><channel><title>t</title><item>'
        b"<link>https://a.example/1</link><b:source>http://src.example/</b:source></item></channel></rss>",
        "application/rss+xml",
    ),
    "a prefix bound again": (
        b'<rss version="2.0" xmlns:x="urn:one"><channel><title>t</title><item xmlns:x="urn:two">'
        b"<link>https://a.example/1</link></item><item><link>https://a.example/2</link><x:title>Shadow</x:title>"
        b"</item></channel></rss>",
        "application/rss+xml",
    ),
    # feedparser hands an xlink binding to the next element as an attribute.
    "an xlink binding": (
        b'<rss version="2.0"><channel><title>t</title><ttl xmlns:xlink="http://www.w3.org/1999/xlink">60</ttl>'
        b"<item><link>https://a.example/1</link></item></channel></rss>",
        "application/rss+xml",
    ),
    # feedparser takes the media type as written and the last charset.
    "a media type in capitals": (
        b'<rss version="2.0"><channel><title>t</title><item><link>https://a.example/1</link></item></channel></rss>',
        "Application/RSS+XML",
    ),
    "two charsets": (
        '<rss version="2.0"><channel><title>t</title><item><link>https://a.example/1</link>'
        '<enclosure url="https://a.example/é.jpg" type="image/jpeg"/></item></channel></rss>'.encode(),
        "application/rss+xml; charset=utf-8; charset=iso-8859-1",
    ),
}


@pytest.mark.parametrize("name", list(REVIEWED))
def test_what_the_outside_review_found_is_refused_or_read_exactly(name: str) -> None:
    body, content_type = REVIEWED[name]
    headers = {"content-type": content_type}
    fast = _parse_body(body, headers, "https://pub.example/feed", fast_path=True)
    reference = _parse_body(body, headers, "https://pub.example/feed", fast_path=False)

    assert isinstance(fast, ParsedFeed) and isinstance(reference, ParsedFeed)
    assert fast.parser == "feedparser" or differences(fast, reference) == []

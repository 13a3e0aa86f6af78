"""Inputs on which a step of parsing or building grew faster than the input (the ReDoS audit of
issue 16's stop, 2026-12-03): each now reads in well under a second at sizes that took from tens
of seconds to minutes before. Parsed on both paths (feedparser's quadratic steps are bounded
for both) and built; the bound is generous, a robustness check, not a benchmark."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache

import pytest

from devtools import golden
from devtools.backfill import process_document
from newsroom.core.config import MAX_ATTRIBUTES_PER_ELEMENT, MAX_TAGS_READ
from newsroom.fetch.feeds import FeedParseError, parse_feed

NOW = datetime(2026, 5, 31, 12, tzinfo=UTC)
BOUND_SECONDS = 5.0  # the sizes below took 17-35 s each before


def _rss(items: bytes, head: bytes = b'<?xml version="1.0" encoding="utf-8"?>\n') -> bytes:
    return (
        head + b'<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>T</title>'
        b"<link>https://ex.example/</link>" + items + b"</channel></rss>"
    )


def _item(inner: bytes) -> bytes:
    return b"<item><title>x</title><link>https://ex.example/a</link>" + inner + b"</item>"


def _description(html: bytes) -> bytes:
    return _rss(_item(b"<description><![CDATA[" + html + b"]]></description>"))


def _atom(inner: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>'
        b'<id>urn:x</id><entry><id>urn:y</id><link href="https://ex.example/a"/>' + inner + b"</entry></feed>"
    )


PARSED: dict[str, bytes] = {
    # feedparser's e-mail search over a plain author: 40 KB took 5.6 s, growing with the square.
    "a long author with no @": _rss(_item(b"<author>" + b"a" * 100_000 + b"</author>")),
    # feedparser's prolog regexes backtrack over \x0b and \x0c too: 40 KB took 2.9 s.
    "a prolog of newlines and form feeds": _rss(_item(b""), head=b"\n\x0c" * 50_000),
    # one list scan per tag: 16,000 keywords took 3.5 s.
    "40,000 keywords": _rss(
        _item(b"<itunes:keywords>" + b",".join(b"%x" % i for i in range(40_000)) + b"</itunes:keywords>")
    ),
    "20,000 categories": _rss(_item(b"".join(b"<category>%x</category>" % i for i in range(20_000)))),
    # html.parser before CPython 3.13.5 (gh-135462) on a long HTML title: 48 KB took 5.8 s.
    "a long html title": _atom(b'<title type="html">' + b"&lt;a " * 20_000 + b"</title>"),
}
BUILT: dict[str, bytes] = {
    # the `<a` without href rule matched `<abbr>` and scanned to the end: 48 KB took 6.2 s.
    "many <abbr>": _description(b"<abbr>" * 20_000),
    # the canonical link and source meta patterns scanned past each tag: 40 KB took 2.8 s.
    "many <meta with no >": _description(b"<meta " * 20_000),
    "many <link with no >": _description(b"<link " * 20_000),
    # ... and one unclosed tag repeating its keyword: each keyword scanned to the end, 280 KB
    # took 7 s (the outside review of 2026-12-03).
    "one <link repeating rel=canonical": _description(b"<link " + b"rel=canonical " * 20_000),
    "one <meta repeating name=original-source": _description(b"<meta " + b"name=original-source " * 14_000),
}


def _timed(call: Callable[[], object]) -> float:
    started = time.process_time()
    call()
    return time.process_time() - started


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast path", "feedparser"])
@pytest.mark.parametrize("name", list(PARSED))
def test_a_hostile_field_parses_in_linear_time(name: str, fast_path: bool) -> None:
    def parse() -> None:
        parsed = parse_feed(
            PARSED[name], source_id="s", base_url="https://ex.example/feed", fetched_at=NOW, fast_path=fast_path
        )
        assert len(parsed.entries) == 1

    assert _timed(parse) < BOUND_SECONDS


@cache
def _sample() -> golden.Document:
    return next(document for document in golden.documents() if document.name.startswith("samples/"))


@pytest.mark.parametrize("name", list(BUILT))
def test_a_hostile_body_builds_in_linear_time(name: str) -> None:
    sample = _sample()

    def build() -> None:
        stories = process_document(
            BUILT[name], source_id=sample.source.id, ctx=sample.context, base_url="https://ex.example/feed"
        )
        assert len(stories) == 1

    assert _timed(build) < BOUND_SECONDS


def test_a_document_declaring_hundreds_of_namespace_prefixes_is_refused() -> None:
    """feedparser's strict parser scans every prefix seen at each element: 1,000 prefixes over
    450 KB took 8.9 s, growing with their product."""
    body = _atom(b"<source/>" + b"".join(b'<x xmlns:p%x="urn:%x"/>' % (i, i) for i in range(1_000)))

    with pytest.raises(FeedParseError) as refused:
        parse_feed(body, source_id="s", base_url="https://ex.example/feed", fetched_at=NOW)

    assert refused.value.reason == "hostile-xml"


_TAG_TEXTS = {
    # 400 copies of one text, each under its own domain, were 400 distinct (term, scheme, label)
    # triples and filled the bound, so the tags after them were lost; so did empty categories.
    "copies under many domains": (
        b"".join(b'<category domain="https://d%x.example/">Bitcoin</category>' % i for i in range(400))
        + b"<category>Policy</category>",
        ("Bitcoin", "Policy"),
    ),
    "empty categories": (
        b"".join(b'<category domain="https://d%x.example/"></category>' % i for i in range(400))
        + b"<category>Policy</category><category>Markets</category>",
        ("Policy", "Markets"),
    ),
    # Distinct texts past the bound are still cut there.
    "distinct texts": (
        b"".join(b"<category>t%x</category>" % i for i in range(400)),
        tuple(f"t{i:x}" for i in range(MAX_TAGS_READ)),
    ),
}


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast path", "feedparser"])
@pytest.mark.parametrize("name", list(_TAG_TEXTS))
def test_the_tag_bound_counts_tag_texts(name: str, fast_path: bool) -> None:
    categories, tags = _TAG_TEXTS[name]

    parsed = parse_feed(
        _rss(_item(categories)), source_id="s", base_url="https://ex.example/feed", fetched_at=NOW, fast_path=fast_path
    )

    assert parsed.entries[0].tags == tags


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast path", "feedparser"])
def test_namespace_declarations_quoted_in_cdata_or_a_comment_are_not_counted(fast_path: bool) -> None:
    """A tutorial quoting XML declares nothing: 250 prefixes in its CDATA (or in a comment) had
    the feed refused as hostile XML."""
    quoted = b"".join(b'&lt;x xmlns:p%x="urn:%x"/&gt; <x xmlns:q%x="urn:%x"/>' % (i, i, i, i) for i in range(250))
    body = _rss(
        _item(b"<description><![CDATA[" + quoted + b"]]></description><!-- " + quoted.replace(b"q", b"c") + b" -->")
    )

    parsed = parse_feed(body, source_id="s", base_url="https://ex.example/feed", fetched_at=NOW, fast_path=fast_path)

    assert len(parsed.entries) == 1
    assert 'xmlns:q1="urn:1"' in parsed.entries[0].summary_html


_DECLARATIONS = b"".join(b'<x xmlns:p%x="urn:%x"/>' % (i, i) for i in range(1_000))


@pytest.mark.parametrize(
    "hidden",
    [
        # Sections skipped by hand (the first mend of the count): a `<!--` inside a processing
        # instruction, where XML allows it, hid what followed (3,000 prefixes: 8.4 s to parse).
        b"<?pi <!-- ?>" + _DECLARATIONS + b"<?pi --> ?>",
        b"<?pi <![CDATA[ ?>" + _DECLARATIONS + b"<?pi ]]> ?>",
        b"<!--" + b"-->" + _DECLARATIONS,
        _DECLARATIONS + b"<!-- never closed",
    ],
    ids=["comment opened in a PI", "CDATA opened in a PI", "empty comment", "unclosed comment after"],
)
def test_declarations_hidden_behind_a_section_opener_are_still_counted(hidden: bytes) -> None:
    with pytest.raises(FeedParseError) as refused:
        parse_feed(_atom(b"<source/>" + hidden), source_id="s", base_url="https://ex.example/feed", fetched_at=NOW)

    assert refused.value.reason == "hostile-xml"


def _atom_text(inner: str, declaration: str = '<?xml version="1.0" encoding="utf-8"?>') -> str:
    return (
        declaration + '<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>urn:x</id>'
        '<entry><id>urn:y</id><link href="https://ex.example/a"/>' + inner + "</entry></feed>"
    )


_MANY = "<d " + " ".join(f'xmlns:p{i:x}="urn:{i:x}"' for i in range(1_000)) + ">" + '<e xmlns="urn:u"/>' * 100 + "</d>"


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        # What feedparser reads differently from the bytes: counted in the bytes, these passed.
        (_atom_text(_MANY, '<?xml version="1.0" encoding="utf-16"?>').encode("utf-16"), None),
        (_atom_text(_MANY, '<?xml version="1.0" encoding="cp037"?>').encode("cp037"), None),
        (
            _atom_text(_MANY.replace("<", "+ADw-").replace(">", "+AD4-"), "").encode(),
            {"Content-Type": "application/xml; charset=utf-7"},
        ),
        # A DOCTYPE that feedparser's rewrite cuts at its first ">": expat read the declarations
        # as a comment, feedparser as an element's (5 MB of this took 114 s).
        (
            (
                '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE r [ <!-- > <?p --> ]> <!-- ?> '
                '<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry><id>x</id><title>t</title>'
                '<link href="https://ex.example/a"/><d '
                + " ".join(f'xmlns:p{i:x}="urn:{i:x}"' for i in range(1_000))
                + "> --> <r>"
                + '<e xmlns="urn:u"/>' * 100
                + "</r>"
            ).encode(),
            None,
        ),
    ],
    ids=["utf-16", "cp037", "utf-7 header", "doctype cut short"],
)
def test_declarations_counted_as_feedparser_reads_them(body: bytes, headers: dict[str, str] | None) -> None:
    """The cap counts where feedparser tracks the prefixes (`feedparser_bounds`), whatever the
    encoding or the DOCTYPE it rewrites (the second outside review of 2026-12-03)."""
    with pytest.raises(FeedParseError) as refused:
        parse_feed(body, source_id="s", base_url="https://ex.example/feed", fetched_at=NOW, response_headers=headers)

    assert refused.value.reason == "hostile-xml"


def test_a_shift_jis_feed_quoting_many_declarations_is_read() -> None:
    """Declarations quoted in a multi-byte encoding's text are no declarations (an expat count of
    them raised ValueError for Shift_JIS, which pyexpat cannot read)."""
    quoted = "".join(f"&lt;x xmlns:p{i}=&quot;urn:{i}&quot;/&gt; " for i in range(250))
    body = (
        '<?xml version="1.0" encoding="shift_jis"?><rss version="2.0"><channel><title>日本</title>'
        "<link>https://ex.example/</link><item><title>記事</title><link>https://ex.example/a</link>"
        f"<description>{quoted}</description></item></channel></rss>"
    ).encode("shift_jis")

    parsed = parse_feed(body, source_id="s", base_url="https://ex.example/feed", fetched_at=NOW)

    assert [e.title for e in parsed.entries] == ["記事"]


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast path", "feedparser"])
@pytest.mark.parametrize("attributes", [MAX_ATTRIBUTES_PER_ELEMENT, 40_000])
def test_an_element_with_too_many_attributes_is_refused_at_once(fast_path: bool, attributes: int) -> None:
    """feedparser's strict parser reads each attribute by a scan of them all, and lxml's
    `attrib.items()` grows so too: one element of 40,000 attributes (356 KB) took 42 s and 16 s
    (the outside review of 2026-12-03). Up to the bound, the entry is read as before."""
    names = " ".join(f'a{i:x}=""' for i in range(attributes))
    body = _rss(_item(f"<x {names}/>".encode()))

    def parse() -> object:
        return parse_feed(body, source_id="s", base_url="https://ex.example/feed", fetched_at=NOW, fast_path=fast_path)

    if attributes <= MAX_ATTRIBUTES_PER_ELEMENT:
        assert len(parse().entries) == 1  # type: ignore[attr-defined]
        return
    started = time.process_time()
    with pytest.raises(FeedParseError) as refused:
        parse()
    assert time.process_time() - started < BOUND_SECONDS
    assert refused.value.reason == "hostile-xml"

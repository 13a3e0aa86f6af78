"""feedparser's declared-encoding pattern in linear time (`newsroom.core.encoding_pattern`): the
same answer as `feedparser.encodings.RE_XML_PI_ENCODING` on every corpus document and on
generated first lines, and a long first line no longer holds the parser for minutes."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

import feedparser
from hypothesis import given, settings
from hypothesis import strategies as st

from newsroom.core.encoding_pattern import FIRST_LINE_ENCODING
from newsroom.fetch.feeds import parse_feed

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
SAMPLES = Path(__file__).resolve().parents[2] / "devtools" / "samples" / "feeds"
# feedparser 6.0's pattern, as its source writes it (the module's own is replaced by `feeds`).
FEEDPARSER_PATTERN = re.compile(rb"^<\?.*encoding=['\"](.*?)['\"].*\?>")


def _same(data: bytes) -> None:
    theirs = FEEDPARSER_PATTERN.match(data)
    ours = FIRST_LINE_ENCODING.match(data)
    assert (ours.groups()[0] if ours else None) == (theirs.groups()[0] if theirs else None), data[:200]


def test_feedparser_now_uses_the_linear_pattern() -> None:
    assert feedparser.encodings.RE_XML_PI_ENCODING is FIRST_LINE_ENCODING


def test_every_corpus_document_reads_the_same_declared_encoding() -> None:
    documents = [p for p in CORPUS.rglob("*") if p.is_file()] + list(SAMPLES.glob("*.xml"))
    assert len(documents) > 2_000
    declared = 0
    for path in documents:
        data = path.read_bytes()
        _same(data)
        declared += FIRST_LINE_ENCODING.match(data) is not None
    assert declared > 50  # documents that declare one: not only the None branch is checked


TOKENS = st.sampled_from(["<?", "?>", "encoding=", "'", '"', "\n", "x", "utf-8", " ", "<", ">", "?", "=", "\r"])


# Whole attributes too, so that lines with several encodings, quotes and closings are common.
PARTS = st.sampled_from([' encoding="a"', " encoding='b'", ' encoding="c', " encoding=d", " ?>", '"', "'", " x", "\n"])


@given(st.lists(TOKENS, max_size=40).map("".join), st.lists(PARTS, max_size=12).map("".join))
@settings(max_examples=3_000, deadline=None)
def test_generated_first_lines_read_the_same_declared_encoding(text: str, parts: str) -> None:
    _same(text.encode())
    _same(("<?" + text).encode())
    _same(("<?xml" + parts).encode())


def test_a_long_first_line_of_encodings_costs_linear_time() -> None:
    """feedparser's pattern took 6.8 s for 1,000 of these on one line and grows with the square."""
    line = (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>' + b'<title>encoding="a" </title>' * 50_000
    )
    started = time.monotonic()
    parsed = parse_feed(
        line + b"<item><link>https://a.example/1</link></item></channel></rss>",
        source_id="long-line",
        base_url="https://a.example/feed",
        fetched_at=datetime(2026, 12, 3, tzinfo=UTC),
        fast_path=False,
    )

    assert [entry.link for entry in parsed.entries] == ["https://a.example/1"]
    assert time.monotonic() - started < 20.0  # minutes to hours before

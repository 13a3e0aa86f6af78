"""The footer scan reads the text of an article's tail without its offset map first
(`_visible_text`), and builds the map only once a marker pattern matched: both must read the
same text, or a marker would be found in one and cut by the other."""

from __future__ import annotations

import pytest

from devtools import golden
from newsroom.fetch.feeds import FeedParseError, parse_feed
from newsroom.process import footer_scan

TRICKY = [
    "<p>The post <a href='https://o.example/1'>T &amp; U</a> appeared first on <b>Orig</b>.</p>",
    "a < b && c &lt; d &#8217; &#x2019; &unknown; &amp &; <",
    "<!-- comment <p>hidden</p> --><?pi x?><!DOCTYPE x><p>seen</p><!-- unterminated",
    "<P>Upper</P><BR/><br ><a\nhref=x>multi\nline</a><a>unclosed<div>block</div>",
    "<3 hearts <not a tag <p attr='>'>text</p> <//p> <p/>",
    "",
]


@pytest.mark.parametrize("html", TRICKY)
@pytest.mark.parametrize("offset", [0, 3])
def test_visible_text_is_the_mapped_text(html: str, offset: int) -> None:
    assert footer_scan._visible_text(html, offset) == footer_scan._map_text(html, offset).text


def test_visible_text_is_the_mapped_text_for_every_real_feed_and_sample_entry() -> None:
    checked = 0
    for document in golden.documents():
        if document.name.split("/")[1] not in ("real-feeds", "crypto-2026-10-03") and "samples/" not in document.name:
            continue
        try:
            parsed = parse_feed(
                document.body, source_id="t", base_url=document.source.feed_url, fetched_at=golden.CLOCK
            )
        except FeedParseError:
            continue
        for entry in parsed.entries:
            for html in (entry.content_html, entry.summary_html):
                offset = max(0, len(html) - footer_scan.TAIL_CHARS)
                assert footer_scan._visible_text(html, offset) == footer_scan._map_text(html, offset).text
                checked += 1
    assert checked > 1_000

"""The footer scan reads the text of an article's tail without its offset map first
(`_visible_text`), and builds the map only once a marker pattern matched: both must read the
same text, or a marker would be found in one and cut by the other."""

from __future__ import annotations

import html as html_module
import re
from functools import cache

import pytest

from newsroom.core.models import RawEntry
from newsroom.process import footer_scan
from tests.process.feed_samples import parsed_documents

TRICKY = [
    "<p>The post <a href='https://o.example/1'>T &amp; U</a> appeared first on <b>Orig</b>.</p>",
    "a < b && c &lt; d &#8217; &#x2019; &unknown; &amp &; <",
    "<!-- comment <p>hidden</p> --><?pi x?><!DOCTYPE x><p>seen</p><!-- unterminated",
    "<P>Upper</P><BR/><br ><a\nhref=x>multi\nline</a><a>unclosed<div>block</div>",
    "<3 hearts <not a tag <p attr='>'>text</p> <//p> <p/>",
    "",
]


@cache
def _real_entries() -> tuple[RawEntry, ...]:
    """Every entry of the real feeds and the samples (the golden record's documents), parsed once."""
    return tuple(
        entry
        for document, entries in parsed_documents()
        if document.name.split("/")[1] in ("real-feeds", "crypto-2026-10-03") or "samples/" in document.name
        for entry in entries
    )


@pytest.mark.parametrize("html", TRICKY)
@pytest.mark.parametrize("offset", [0, 3])
def test_visible_text_is_the_mapped_text(html: str, offset: int) -> None:
    assert footer_scan._visible_text(html, offset) == footer_scan._map_text(html, offset).text


def test_visible_text_is_the_mapped_text_for_every_real_feed_and_sample_entry() -> None:
    checked = 0
    for entry in _real_entries():
        for html in (entry.content_html, entry.summary_html):
            offset = max(0, len(html) - footer_scan.TAIL_CHARS)
            assert footer_scan._visible_text(html, offset) == footer_scan._map_text(html, offset).text
            checked += 1
    assert checked > 1_000


# ------------------------------------------------------------------------------------------
# the offset map reads the tail as the token-by-token tokenizer it replaced did
# ------------------------------------------------------------------------------------------

# The tokenizer `_map_text` used before it split the tail in C: every text run and lone "<" or "&"
# a token of its own. Kept here as the reference the map is checked against.
_TOKEN = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|<[A-Za-z/!?][^>]*>?"
    r"|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?"
    r"|[^<&]+"
    r"|[<&]",
    re.DOTALL,
)


def _reference_map(html: str, offset: int) -> tuple[str, list[tuple[int, int]], list[tuple[int, int, str]]]:
    """(text, for each text character the HTML it was read from, links)."""
    text: list[str] = []
    spans: list[tuple[int, int]] = []
    links: list[tuple[int, int, str]] = []
    open_link: tuple[int, str] | None = None
    for token in _TOKEN.finditer(html, offset):
        value, (start, end) = token.group(), token.span()
        reading, literal = value, True
        if value[0] == "<" and len(value) > 1 and value[1] in "!?":
            continue
        if value[0] == "<" and len(value) > 1 and (tag := footer_scan._TAG.match(value)) is not None:
            name, reading, literal = tag.group(2).lower(), "", False
            if name == "a":
                if open_link is not None:
                    links.append((open_link[0], len(text), open_link[1]))
                    open_link = None
                href = footer_scan.HREF.search(tag.group(3)) if tag.group(1) is None else None
                if href is not None:
                    raw = next(group for group in href.groups() if group is not None)
                    open_link = (len(text), html_module.unescape(raw).strip())
            elif name in footer_scan.BLOCK_TAGS:
                reading = "\n"
        elif value[0] == "&" and len(value) > 1:
            reading, literal = html_module.unescape(value), False
        for index, character in enumerate(reading):
            text.append(character)
            spans.append((start + index, start + index + 1) if literal else (start, end))
    if open_link is not None:
        links.append((open_link[0], len(text), open_link[1]))
    return "".join(text), spans, links


def _assert_map_as_reference(html: str, offset: int) -> None:
    mapped = footer_scan._map_text(html, offset)
    text, spans, links = _reference_map(html, offset)
    assert mapped.text == text
    for index, (start, end) in enumerate(spans):
        assert mapped.html_start(index) == start
        assert mapped.html_end(index + 1) == end
    assert [(link.text_start, link.text_end, link.href) for link in mapped.links] == links


@pytest.mark.parametrize("html", TRICKY)
@pytest.mark.parametrize("offset", [0, 3])
def test_the_map_reads_the_tail_as_the_token_by_token_tokenizer(html: str, offset: int) -> None:
    _assert_map_as_reference(html, offset)


def test_the_map_reads_every_real_feed_and_sample_tail_as_the_token_by_token_tokenizer() -> None:
    checked = 0
    for entry in _real_entries():
        for html in (entry.content_html, entry.summary_html):
            _assert_map_as_reference(html, max(0, len(html) - footer_scan.TAIL_CHARS))
            checked += 1
    assert checked > 1_000


@pytest.mark.parametrize(
    "text",
    ["", "\n\n", "one line.", "first\nlast line.", "first\nlast line.\n\n—\n", "a\nb\n_\n!", "x\né."],
)
def test_the_last_line_is_the_last_one_holding_a_word_character(text: str) -> None:
    start = footer_scan._last_line_start(text)
    words = [m.start() for m in re.finditer(r"\w", text)]
    expected = text.rfind("\n", 0, words[-1]) + 1 if words else 0
    assert start == expected


_MARKER_TEXTS = (
    "Read original article on CoinDesk\nmore text after it",
    "Intro.\nRead original article on CoinDesk.\n\n—\n",
    "Intro. The post Title appeared first on Orig.\n",
    "Read original article on A\nRead original article on B",
    "Originally published on Site\n\n…\n",
    "(via Site)",
    "Site, republished with permission.\n",
    "Source: CoinGecko\nSource: Reuters",
)


def test_searching_from_the_last_line_finds_what_searching_the_whole_text_finds() -> None:
    from newsroom.process.attribution_data import LOOSE_PATTERNS, PATTERNS

    texts = list(_MARKER_TEXTS)
    for entry in _real_entries():
        html = entry.content_html or entry.summary_html
        texts.append(footer_scan._visible_text(html, max(0, len(html) - footer_scan.TAIL_CHARS)))
    found = 0
    for text in texts:
        start = footer_scan._last_line_start(text)
        for pattern, _ in (*PATTERNS, *LOOSE_PATTERNS):
            whole, from_last = pattern.search(text), pattern.search(text, start)
            assert (whole and whole.span()) == (from_last and from_last.span()), (pattern.pattern[:40], text[-200:])
            found += whole is not None
    assert found > 20  # markers are there to be found

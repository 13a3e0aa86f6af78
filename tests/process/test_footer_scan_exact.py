"""The footer scan reads each tail's markup from one C split with the tag names captured, keeps its
offset map as parallel tuples and builds only the links the match can fall within (issue 16). It
must find exactly what the scan before it found: every footer candidate (marker, HTML offsets,
site, links) for the strict and the loose patterns, over every entry of the corpus and the
samples, the synthetic articles, and generated tails around the markers and the markup the
tokeniser treats specially. The scan before it is kept verbatim in `footer_scan_reference`."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from functools import cache

import pytest

from benchmarks import synthetic
from newsroom.fetch.feeds import parse_feed
from newsroom.process import footer_scan
from newsroom.process.attribution_data import LOOSE_PATTERNS, LOOSE_TRIGGER_WORDS, PATTERNS, TRIGGER_WORDS
from tests.process import footer_scan_reference as reference
from tests.process.feed_samples import parsed_documents

_SCANS = ((PATTERNS, TRIGGER_WORDS), (LOOSE_PATTERNS, LOOSE_TRIGGER_WORDS))


@cache
def _corpus_htmls() -> tuple[str, ...]:
    """The content and summary HTML of every entry in the corpus and the samples."""
    return tuple(
        html
        for _, entries in parsed_documents()
        for entry in entries
        for html in (entry.content_html, entry.summary_html)
        if html
    )


def _synthetic_htmls() -> Iterator[str]:
    seeds = range(1, synthetic.FEEDS + 1)
    now = synthetic.context(seeds).now
    for seed in seeds:
        for entry in parse_feed(
            synthetic.synthetic_feed(seed), source_id="s", base_url="https://x/", fetched_at=now
        ).entries:
            yield entry.content_html


# Pieces generated tails are made of: marker words, the markup the tokeniser reads specially
# (block and inline tags in any case, "</ p>", "<//p>", "</3", self-closing links, comments,
# processing instructions, known and unknown entities, a lone "<" or "&") and plain text.
_PIECES = (
    "Read original article on",
    "Read the original story at",
    "The post",
    "This post",
    "appeared first on",
    "Originally published on",
    "This article was first published in",
    "republished with permission",
    "Republished with the permission of",
    "reprinted here with permission from",
    "Source:",
    "source :",
    "(via",
    "Via",
    "h/t:",
    "CoinDesk",
    "orig.example",
    "May 3, 2024",
    "Read More",
    "continue reading",
    "words of the story",
    ".",
    ")",
    "…",
    "[…]",
    " ",
    "\n",
    "<p>",
    "</p>",
    "<P class='x'>",
    "</ p>",
    "<//p>",
    "</3",
    "</>",
    "<br/>",
    "<BR >",
    "<div>",
    "</div>",
    "<span>",
    "</span>",
    "<a href='https://orig.example/1'>",
    '<A HREF="https://other.example/2?a=1&amp;b=2">',
    "<a href=https://bare.example/x/>",
    "<a name='n'>",
    "<a\nhref='https://multi.example/'>",
    "</a>",
    "</A >",
    "<abbr title='t'>",
    "<!-- comment <p> -->",
    "<!DOCTYPE x>",
    "<?pi x?>",
    "&amp;",
    "&#8230;",
    "&#x2019;",
    "&hellip;",
    "&nbsp;",
    "&unknown;",
    "&amp",
    "&",
    "<",
    "<3",
    "<h2>",
    "</h2>",
    "<li>",
    "<figure><figcaption>Source: CoinGecko data</figcaption></figure>",
    "<p title='a > b'>",
    "<span title='<b>'>",
    "<a title='<!--'>",
    "<!--",
    "-->",
    "<!-- <p> --",
    "<i",
    ">",
)


def _generated_htmls(count: int) -> Iterator[str]:
    """Tails of up to ~1,500 characters of the pieces above (the scan first reads from a token start
    ~600 characters from the end, then the whole tail), some after a paragraph of filler."""
    rng = random.Random(16)
    for number in range(count):
        body = "".join(rng.choice(_PIECES) + rng.choice(("", " ", "")) for _ in range(rng.randint(1, 160)))
        if number % 7 == 0:  # longer than the tail: the scan starts at a tag boundary inside it
            body = "<p>" + "filler words " * rng.randint(300, 340) + "</p>" + body
        elif number % 7 == 1:  # the token start near the end falls in the filler, or just before it
            body = "<p>" + "filler words " * rng.randint(1, 80) + "</p>" + body
        if number % 11 == 0 and "<!--" in body:
            body = body[: body.rindex("<!--") + 6]  # an unterminated comment
        yield body


def _candidates(scan: object, html: str) -> list[list[tuple[object, ...]]]:
    return [
        [dataclasses.astuple(found) for found in scan.footers(html, patterns, triggers)]  # type: ignore[attr-defined]
        for patterns, triggers in _SCANS
    ]


def _assert_as_reference(html: str, *, every_character: bool = True) -> int:
    """Both scans' candidates for `html` are the same, and both maps of its tail: their stretches
    (where each starts in the text, its HTML span, whether it is literal), the HTML offsets of
    every character (unless `every_character` is False: the stretches decide them), the links."""
    expected = _candidates(reference, html)
    assert _candidates(footer_scan, html) == expected, html[-300:]
    offset = max(0, len(html) - footer_scan.TAIL_CHARS)
    mapped, old = footer_scan._map_text(html, offset), reference._map_text(html, offset)
    assert footer_scan._visible_text(html, offset) == mapped.text == old.text
    stretches = zip(mapped.starts, mapped.html_starts, mapped.html_ends, mapped.literal, strict=True)
    assert list(stretches) == [(s.text_start, s.html_start, s.html_end, s.literal) for s in old.segments]
    for index in range(len(old.text) if every_character else 0):
        assert mapped.html_start(index) == old.html_start(index)
        assert mapped.html_end(index + 1) == old.html_end(index + 1)
    assert [dataclasses.astuple(link) for link in mapped.links] == [
        (link.text_start, link.text_end, link.href) for link in old.links
    ]
    return sum(map(len, expected))


def test_the_scan_finds_what_the_scan_before_it_found_in_every_corpus_entry() -> None:
    htmls = _corpus_htmls()
    found = sum(_assert_as_reference(html, every_character=False) for html in htmls)
    assert len(htmls) > 1_000
    assert found > 20  # footers are there to be found


def test_the_scan_finds_what_the_scan_before_it_found_in_every_synthetic_article() -> None:
    htmls = list(_synthetic_htmls())
    found = sum(_assert_as_reference(html, every_character=False) for html in htmls)
    assert len(htmls) == synthetic.FEEDS * synthetic.ITEMS_PER_FEED
    assert found >= len(htmls) // 5  # one in five ends with a syndication footer


def test_the_scan_finds_what_the_scan_before_it_found_in_generated_tails() -> None:
    found = sum(_assert_as_reference(html) for html in _generated_htmls(1_500))
    assert found > 150


@pytest.mark.parametrize(
    "html",
    [
        "",
        "<",
        "&",
        "</3 Read original article on CoinDesk",
        "<p>Text.</p><p>Read original article on <a href='https://orig.example/1'>Orig</a></p>",
        "<a href='https://early.example/'>early link</a><p>x</p>The post <a href=t>T</a> appeared first on S.",
        "<a href='https://a.example/'><a href='https://b.example/'>The post T appeared first on S</a>",
        "<p>Body</p><A HREF='https://x.example/'>Source: x.example</A>",
        "<p>Body &amp; more</p>Originally published on <b>Site &#8230;</b>&nbsp;.",
        # The "<" ~600 characters from the end is inside a tag or a comment: the split from it
        # would read a line break there that the whole tail's split does not.
        "<p>Body.</p><p>Read original article on <span title='<p>'>CoinDesk" + "—" * 700,
        "<p>Body.</p><p>Read original article on <!-- <p> -->CoinDesk" + "—" * 700,
        "<p>Body.</p><p>Read original article on <!-- --> <!-- <p> -->CoinDesk" + "—" * 700,
        "<p>Body.</p><p>Read original article on <!--> <p> -->CoinDesk" + "—" * 700,  # "<!-->" opens one
    ],
)
def test_the_scan_finds_what_the_scan_before_it_found_in_tricky_tails(html: str) -> None:
    _assert_as_reference(html)


def test_every_marker_pattern_match_holds_a_marker_word() -> None:
    """The scan passes a last line holding none of `_MARKER_WORDS` without searching the patterns:
    every match of every pattern, over the generated tails and the corpus, holds one."""
    texts = [footer_scan._visible_text(html, 0) for html in _generated_htmls(1_500)]
    texts.extend(
        footer_scan._visible_text(html, max(0, len(html) - footer_scan.TAIL_CHARS)) for html in _corpus_htmls()
    )
    matched: set[str] = set()
    for text in texts:
        start = footer_scan._last_line_start(text)
        for pattern, _ in (*PATTERNS, *LOOSE_PATTERNS):
            assert pattern in footer_scan._WORDED_PATTERNS
            position = start
            while (match := pattern.search(text, position)) is not None:
                assert footer_scan._MARKER_WORDS.search(match.group()), (pattern.pattern[:60], match.group())
                matched.add(pattern.pattern)
                position = match.start() + 1
    assert len(matched) == len(PATTERNS) + len(LOOSE_PATTERNS)  # every pattern was seen matching

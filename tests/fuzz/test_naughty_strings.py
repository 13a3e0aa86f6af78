"""The Big List of Naughty Strings (tests/data/blns.json, pinned) in every field of every feed
format we read, through fetch-and-process, into every output we write.

For each input format, one feed holds one item per string with that string in every text field
(title, summary, content, byline, category, source name; the link kept valid so the item
survives), and a second holds it in every URL field (link, guid, image, source URL). Items
alternate between escaped text and CDATA. Invariants as in
test_fuzz_feeds.py: no exception but a reasoned refusal, bounded memory and bytes, no
executable markup in JSON, JSON Feed, Atom or HTML pages; RSS and bidirectional controls are
issue 14's open bugs and have their own tests.
"""

from __future__ import annotations

import hashlib
from functools import cache

import pytest

from tests.e2e.test_hostile_input import executable, xml_problems

from .feeds import BIDI_CONTROLS, BLNS_PATH, BLNS_SHA256, FORMATS, NAUGHTY, FeedSpec, Item
from .pipeline import Run, check_bounded, output_problems, run_spec

TEXT_FIELDS = ("title", "summary", "content", "author", "category", "source_name")
URL_FIELDS = ("link", "guid", "image", "source_url")
PLACES = ("text", "urls")


def _item(n: int, value: str, place: str) -> Item:
    values = {
        "title": f"Naughty story {n}",
        "link": f"https://fuzz.example/naughty/{n}",
        "guid": f"naughty-{n}",
        "summary": "s",
        "content": f"<p>Naughty string number {n} in every field.</p>",
        "author": "A",
        "category": "c",
        "published": "Sun, 31 May 2026 10:00:00 GMT",
        "updated": "",
        "image": "",
        "source_name": "",
        "source_url": "",
    }
    fields = URL_FIELDS if place == "urls" else TEXT_FIELDS
    values |= dict.fromkeys(fields, value)
    writing = "cdata" if n % 2 else "escaped"
    return Item(values, dict.fromkeys(values, writing))


@cache
def naughty_run(fmt: str, place: str) -> Run:
    spec = FeedSpec(fmt, "utf-8", tuple(_item(n, s, place) for n, s in enumerate(NAUGHTY)))
    # Memory is the property tests' to bound (tracemalloc would triple this run's time); the
    # bytes produced are still checked.
    # Every string gets its story: the whole list is one feed, past the configured entries-per-feed
    # cut (which tests/fetch/test_feeds.py covers).
    return run_spec(spec, trace_memory=False, max_entries=len(NAUGHTY))


CASES = [(fmt, place) for fmt in FORMATS for place in PLACES]


def test_the_list_is_the_pinned_file() -> None:
    assert hashlib.sha256(BLNS_PATH.read_bytes()).hexdigest() == BLNS_SHA256
    assert len(NAUGHTY) == 485


@pytest.mark.parametrize(("fmt", "place"), CASES)
def test_naughty_strings_are_processed_in_bounds(fmt: str, place: str) -> None:
    result = naughty_run(fmt, place)
    check_bounded(result, memory=False)  # not traced: see naughty_run
    assert result.refused is None, result.refused
    if place != "urls":
        # The link is valid: every string's story comes through, whatever its text.
        assert len(result.articles) == len(NAUGHTY)


@pytest.mark.parametrize("fmt", FORMATS)
def test_naughty_urls_leave_no_executable_markup(fmt: str) -> None:
    out = naughty_run(fmt, "urls").outputs()
    problems = output_problems(out) + xml_problems(out["feed.rss"])
    assert not problems, problems[:5]


@pytest.mark.parametrize(("fmt", "place"), CASES)
def test_naughty_strings_leave_no_executable_markup_in_pages(fmt: str, place: str) -> None:
    out = naughty_run(fmt, place).outputs()
    problems = [p for name, page in out.items() if name.startswith("page") for p in executable(page)]
    assert not problems, problems[:5]


@pytest.mark.parametrize("fmt", FORMATS)
def test_naughty_text_leaves_no_executable_markup(fmt: str) -> None:
    problems = output_problems(naughty_run(fmt, "text").outputs())
    assert not problems, problems[:5]


@pytest.mark.parametrize("fmt", FORMATS)
def test_naughty_text_leaves_no_executable_markup_in_rss(fmt: str) -> None:
    problems = xml_problems(naughty_run(fmt, "text").outputs()["feed.rss"])
    assert not problems, problems[:5]


@pytest.mark.parametrize("fmt", FORMATS)
def test_naughty_titles_carry_no_bidirectional_overrides(fmt: str) -> None:
    for article in naughty_run(fmt, "text").articles:
        assert not BIDI_CONTROLS.search(article.title + article.author), ascii(article.title)

"""Property-based fuzzing of fetch-and-process: generated feeds (tests/fuzz/feeds.py) through
parse_feed, the queue message, build_article, fingerprint and every output format.

Invariants (deterministic, never timed): nothing but a `FeedParseError` with a reason escapes
(anything else would be recorded as `internal`, or fail a message into the DLQ); peak memory
(tracemalloc) and the bytes of story text produced stay within the bounds in
tests/fuzz/pipeline.py; no output carries executable markup; dates survive the trip through
their stored form; titles carry no bidirectional overrides; an entity declaration is refused.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import format_datetime

from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st

from newsroom.core.models import iso, parse_iso, utc
from tests.e2e.test_hostile_input import executable, xml_problems

from .feeds import BIDI_CONTROLS, FORMATS, HUGE, FeedSpec, Item, feeds, nested
from .pipeline import check_bounded, output_problems, run_spec


def _dated(date: str) -> FeedSpec:
    values = {"title": "Dated story", "link": "https://fuzz.example/a", "guid": "a", "published": date}
    values |= {"updated": date, "summary": "s", "content": "c", "author": "", "category": ""}
    values |= {"image": "", "source_name": "", "source_url": ""}
    return FeedSpec("rss", "utf-8", (Item(values),))


LIVE_SCRIPT = _dated("").items[0]
EXAMPLES = 25
# Tests of a known issue-14 bug stop at their first failing example instead of shrinking it
# (the minimal examples are the @example lines); once fixed, they generate like the rest.
KNOWN_BUG = settings(max_examples=20, phases=[Phase.explicit, Phase.generate])


@given(feeds())
@settings(max_examples=EXAMPLES)
def test_any_feed_is_processed_or_refused_in_bounds_with_no_executable_page(spec: FeedSpec) -> None:
    result = run_spec(spec)
    check_bounded(result)
    pages = {k: v for k, v in result.outputs().items() if k.startswith("page")} if result.refused is None else {}
    problems = [p for page in pages.values() for p in executable(page)]
    assert not problems, problems[:5]


@given(feeds())
@KNOWN_BUG
def test_no_executable_markup_in_json_and_atom(spec: FeedSpec) -> None:
    result = run_spec(spec, trace_memory=False)
    problems = output_problems(result.outputs()) if result.refused is None else []
    assert not problems, problems[:5]


@given(feeds())
@KNOWN_BUG
@example(
    FeedSpec("rss", "utf-8", (Item({**LIVE_SCRIPT.values, "summary": "&lt;script&gt;alert(1337)&lt;/script&gt;"}),))
)
def test_no_executable_markup_in_rss(spec: FeedSpec) -> None:
    problems = xml_problems(run_spec(spec, trace_memory=False).outputs()["feed.rss"])
    assert not problems, problems[:5]


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
@KNOWN_BUG
@example(datetime(1, 1, 2))
def test_dates_in_years_1_to_9999_survive_their_stored_form(moment: datetime) -> None:
    when = utc(moment)
    result = run_spec(_dated(format_datetime(when)), trace_memory=False)
    for article in result.articles:
        for value in (article.published, article.updated):
            assert parse_iso(iso(value)) == value.replace(microsecond=0)
            assert iso(value) == f"{value.year:04d}" + value.strftime("-%m-%dT%H:%M:%SZ")


@given(feeds(max_items=2))
@settings(max_examples=EXAMPLES)
@example(
    FeedSpec(
        "rss",
        "utf-8",
        (Item({**_dated("").items[0].values, "title": "\u202eevil\u202c title", "author": "a\u2066b\u2069"}),),
    )
)
def test_titles_and_names_carry_no_bidirectional_overrides(spec: FeedSpec) -> None:
    for article in run_spec(spec, trace_memory=False).articles:
        for text in (article.title, article.author, article.source_name):
            assert not BIDI_CONTROLS.search(text), ascii(text)


ENTITY_NAMES = st.from_regex(re.compile(r"[a-z][a-z0-9]{0,7}"), fullmatch=True)


@st.composite
def entity_feeds(draw: st.DrawFn) -> FeedSpec:
    base = draw(feeds(max_items=1))
    names = draw(st.lists(ENTITY_NAMES, min_size=1, max_size=4, unique=True))
    values = []
    for n, name in enumerate(names):
        # Each may refer to the one before it: the amplifier shape, kept small here.
        ref = f"&{names[n - 1]};" * draw(st.integers(0, 10)) if n else ""
        values.append((name, draw(st.sampled_from(["x", "lol" * 20, "<b>x</b>", "&#60;script&#62;"])) + ref))
    padding = draw(st.sampled_from([0, 10, 70_000, 300_000]))
    return FeedSpec(base.format, "utf-8", base.items, base.title, tuple(values), padding)


@given(entity_feeds())
@KNOWN_BUG
@example(FeedSpec("rss", "utf-8", (), "t", (("a", "lol" * 20),), padding=70_000))
def test_any_entity_declaration_is_refused(spec: FeedSpec) -> None:
    result = run_spec(spec)
    check_bounded(result)
    assert result.refused is not None, "a document declaring entities was parsed"


def test_deep_nesting_in_every_text_field_is_bounded() -> None:
    values = {name: nested(500, "<script>alert(1337)</script>deep") for name in ("title", "summary", "content")}
    values |= {"link": "https://fuzz.example/deep", "guid": "deep", "published": "", "updated": ""}
    values |= {"author": nested(100, "x"), "category": "", "image": "", "source_name": "", "source_url": ""}
    for fmt in FORMATS:
        spec = FeedSpec(fmt, "utf-8", (Item(values, dict.fromkeys(values, "raw")),))
        result = run_spec(spec)
        check_bounded(result)
        out = result.outputs() if result.refused is None else {}
        assert not [p for name, page in out.items() if name.startswith("page") for p in executable(page)]


def test_an_entry_too_large_for_any_item_is_rejected_with_its_reason_not_raised() -> None:
    # A 300,000-character link is kept whole by the input limits (a link is not cut), so its story
    # passes DynamoDB's item limit: the processor rejects it for good with a reason, as a
    # generated feed first showed (this file run alone), and the other entries go on.
    ok = _dated("").items[0]
    spec = FeedSpec("rss", "utf-8", (ok, Item({**ok.values, "guid": "b"})), huge=("link", HUGE, "A"))
    result = run_spec(spec, trace_memory=True)
    check_bounded(result)
    assert [r.reason for r in result.rejected] == ["too-large"]
    assert len(result.articles) == 1

"""`build.within_limits` makes the entry in one `replace` (a speedup, issue 16): it gives what
the code before gave — kept here as the reference — on every real-feed, sample and synthetic
entry, under the default limits and under limits small enough that every cut happens."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from newsroom.core.config import DEFAULT_ENTRY_LIMITS, EntryLimits
from newsroom.core.models import RawEntry
from newsroom.process import build
from newsroom.process.build import _RAW_TEXT_FACTOR, _cut_html, _cut_text, text_fields_as_text

TIGHT = EntryLimits(
    title_chars=20, summary_bytes=200, content_bytes=300, author_chars=10, categories=2, category_chars=10
)


def _within_limits_before(entry: RawEntry, limits: EntryLimits) -> tuple[RawEntry, tuple[str, ...]]:
    """`within_limits` as it was before 2026-12-03 (two `replace`s, a third when cut)."""
    cuts: list[str] = []

    def raw(value: str, limit: int) -> str:
        return value[: limit * _RAW_TEXT_FACTOR]

    tags = entry.tags
    if len(tags) > limits.categories:
        tags = tags[: limits.categories]
        cuts.append("categories")
    entry = text_fields_as_text(
        replace(
            entry,
            title=raw(entry.title, limits.title_chars),
            author=raw(entry.author, limits.author_chars) if entry.author else entry.author,
            tags=tuple(raw(tag, limits.category_chars) for tag in tags),
        )
    )
    title = _cut_text(entry.title, limits.title_chars)
    author = _cut_text(entry.author, limits.author_chars) if entry.author else entry.author
    tags = tuple(_cut_text(tag, limits.category_chars) for tag in entry.tags)
    summary_html = _cut_html(entry.summary_html, limits.summary_bytes)
    content_html = _cut_html(entry.content_html, limits.content_bytes)
    for name, before, after in (
        ("title", entry.title, title),
        ("author", entry.author, author),
        ("category-length", entry.tags, tags),
        ("summary", entry.summary_html, summary_html),
        ("content", entry.content_html, content_html),
    ):
        if before != after:
            cuts.append(name)
    if not cuts:
        return entry, ()
    return replace(
        entry, title=title, author=author, tags=tags, summary_html=summary_html, content_html=content_html
    ), tuple(cuts)


@cache
def _entries() -> tuple[RawEntry, ...]:
    """Every entry of the golden record's documents that parse, and of two synthetic feeds."""
    from benchmarks import synthetic
    from devtools import golden
    from newsroom.fetch.feeds import FeedParseError, parse_feed

    entries: list[RawEntry] = []
    for document in golden.documents():
        try:
            parsed = parse_feed(
                document.body, source_id="t", base_url=document.source.feed_url, fetched_at=golden.CLOCK
            )
        except FeedParseError:
            continue
        entries.extend(parsed.entries)
    ctx = synthetic.context(range(1, 3))
    for seed in (1, 2):
        feed = synthetic.synthetic_feed(seed)
        entries.extend(parse_feed(feed, source_id=f"site{seed}", base_url="https://x/", fetched_at=ctx.now).entries)
    return tuple(entries)


def test_within_limits_gives_what_it_gave_before_under_default_and_tight_limits() -> None:
    entries = _entries()
    cut = {name: 0 for name in ("categories", "title", "author", "category-length", "summary", "content")}
    for entry in entries:
        for limits in (DEFAULT_ENTRY_LIMITS, TIGHT):
            expected = _within_limits_before(entry, limits)
            got = build.within_limits(entry, limits)
            assert got == expected, entry.link
            assert [type(value) for value in vars_of(got[0])] == [type(value) for value in vars_of(expected[0])]
            for name in got[1]:
                cut[name] += 1
    assert len(entries) > 1000
    assert all(count > 20 for count in cut.values()), cut  # every cut is exercised


def vars_of(entry: RawEntry) -> list[object]:
    return [getattr(entry, name) for name in entry.__slots__]

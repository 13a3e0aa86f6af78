"""build_article and merge: the pure heart of processing, no AWS."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from devtools.sample_server import SAMPLES
from newsroom.core.models import Category, Kind, RawEntry, Source, SourceRole
from newsroom.core.reading import Reading
from newsroom.fetch.feeds import parse_feed
from newsroom.process.build import Outcome, ProcessingContext, build_article, merge

NOW = datetime(2026, 5, 31, 12, tzinfo=UTC)
SOURCES = (
    Source(id="defiliban", name="DeFi Liban", feed_url="https://defiliban.io/feed/", homepage="https://defiliban.io"),
    Source(
        id="cryptowire",
        name="Crypto Wire Daily",
        feed_url="https://cryptowire.example/feed",
        homepage="https://cryptowire.example",
        role=SourceRole.AGGREGATOR,
    ),
    Source(
        id="prnewswire",
        name="PR Newswire",
        feed_url="https://www.prnewswire.com/rss/x.rss",
        role=SourceRole.AGGREGATOR,
        kind_hint=Kind.PRESS_RELEASE,
    ),
)


def ctx(now: datetime = NOW, max_body_bytes: int = 180_000) -> ProcessingContext:
    return ProcessingContext.build(
        SOURCES,
        site_name="CryptoCompass",
        desk_name="CryptoCompass newsroom",
        editorial_image_base_url="https://cdn.example/editorial",
        max_body_bytes=max_body_bytes,
        now=now,
    )


def sample(source_id: str, title_start: str) -> RawEntry:
    feed = SAMPLES / "feeds" / f"{source_id}.xml"
    parsed = parse_feed(feed.read_bytes(), source_id=source_id, base_url="https://x.example/", fetched_at=NOW)
    return next(e for e in parsed.entries if e.title.startswith(title_start))


def test_seed_story_gets_the_reference_values() -> None:
    article = build_article(sample("defiliban", "Hong Kong Expands"), ctx())
    assert article.category is Category.POLICY
    assert article.word_count == 566
    assert article.reading_minutes == 4
    assert article.standfirst.endswith("in a coordinated effort to")
    assert len(article.standfirst) <= 200
    assert article.author == "Anonymous"
    assert article.desk == "CryptoCompass newsroom"
    assert article.kind is Kind.NEWS
    assert article.image.is_default
    assert article.image.caption == "CryptoCompass editorial visual for policy coverage."
    assert article.published == datetime(2026, 5, 31, 8, 30, tzinfo=UTC)
    assert article.attribution is None
    assert article.credit_line == "Read original article on defiliban.io"


def test_syndicated_copy_is_keyed_by_its_original_and_credits_it() -> None:
    original = build_article(sample("defiliban", "Hong Kong Expands"), ctx())
    copy = build_article(sample("cryptowire", "Hong Kong Expands"), ctx())
    assert copy.id == original.id
    assert copy.attribution is not None
    assert copy.attribution.original_domain == "defiliban.io"
    assert copy.attribution.original_source_id == "defiliban"
    assert copy.credit_line == "Read original article on defiliban.io"
    assert "Read original article" not in copy.content_html
    assert copy.content_text == original.content_text


@pytest.mark.parametrize(
    "declaration",
    [
        '<link rel="canonical" href="https://defiliban.io/news/hong-kong-expands">',
        "<meta name='syndication-source' content='https://defiliban.io/news/hong-kong-expands'>",
    ],
)
def test_a_declaration_pasted_into_the_content_keys_and_credits_the_story_though_the_body_drops_it(
    declaration: str,
) -> None:
    """Attribution reads the feed's HTML before the sanitizer (README, Processing): the stored body
    holds no trace of the declaration, yet the story is keyed by and credited to its original."""
    entry = sample("cryptowire", "Hong Kong Expands")
    body = declaration + "<p>" + "Regulators widened the regime. " * 20 + "</p>"
    # The declaration alone names the original: no footer, no declared source, no origLink.
    entry = replace(
        entry, content_html=body, summary_html="", declared_source_url=None, declared_source_name=None, orig_link=None
    )
    article = build_article(entry, ctx())
    assert article.attribution is not None
    assert article.attribution.original_domain == "defiliban.io"
    assert article.canonical_url == "https://defiliban.io/news/hong-kong-expands"
    assert "defiliban" not in article.content_html and "<meta" not in article.content_html


def test_tracking_parameters_do_not_make_a_new_story() -> None:
    entry = sample("cryptowire", "Dogecoin")
    tracked = replace(entry, link=entry.link + "?utm_source=rss&fbclid=xyz")
    assert build_article(tracked, ctx()).id == build_article(entry, ctx()).id


def test_future_dates_are_clamped() -> None:
    entry = replace(sample("cryptowire", "Dogecoin"), published=NOW + timedelta(days=30), updated=None)
    assert build_article(entry, ctx()).published == NOW


def test_wire_service_items_are_press_releases() -> None:
    entry = replace(sample("cryptowire", "Dogecoin"), source_id="prnewswire", link="https://www.prnewswire.com/a")
    assert build_article(entry, ctx()).kind is Kind.PRESS_RELEASE


def test_oversize_body_is_cut_and_flagged() -> None:
    entry = sample("cryptowire", "Dogecoin")
    huge = replace(entry, content_html="<p>" + "bitcoin moves " * 50_000 + "</p>")
    article = build_article(huge, ctx(max_body_bytes=50_000))
    assert article.body_truncated
    assert len(article.content_html.encode()) <= 50_100
    assert article.content_html.endswith("</p>")


def test_merge_same_entry_is_unchanged() -> None:
    article = build_article(sample("defiliban", "Aave"), ctx())
    assert merge(article, article, ctx().sources).outcome is Outcome.UNCHANGED


def test_merge_correction_keeps_id_position_and_copies() -> None:
    entry = sample("defiliban", "Aave")
    stored = build_article(entry, ctx())
    later = ctx(NOW + timedelta(hours=2))
    corrected = build_article(
        replace(entry, content_html=entry.content_html.replace("98%", "97%"), fetched_at=later.now), later
    )
    decision = merge(stored, corrected, later.sources)
    assert decision.outcome is Outcome.UPDATED
    assert decision.article.published == stored.published
    assert decision.article.first_seen == stored.first_seen
    assert decision.article.updated > stored.updated
    assert "97%" in decision.article.content_text


@pytest.mark.parametrize("original_first", [True, False])
def test_original_keeps_the_credit_whichever_arrives_first(original_first: bool) -> None:
    original = build_article(sample("defiliban", "Hong Kong Expands"), ctx())
    copy = build_article(sample("cryptowire", "Hong Kong Expands"), ctx())
    first, second = (original, copy) if original_first else (copy, original)
    decision = merge(first, second, ctx().sources)
    assert decision.outcome is (Outcome.COPY_ATTACHED if original_first else Outcome.ORIGINAL_PROMOTED)
    story = decision.article
    assert story.source_id == "defiliban"
    assert story.attribution is None
    assert [c.source_id for c in story.copies] == ["cryptowire"]
    # The story is dated by its original, whichever arrived first.
    assert story.published == original.published
    # Seeing the copy again changes nothing.
    assert merge(story, copy, ctx().sources).outcome is Outcome.UNCHANGED


def test_a_huge_body_is_cut_so_html_and_text_together_fit_the_item() -> None:
    from newsroom.process.build import _capped_body

    html = "".join(f"<p>Paragraph {i} about bitcoin &amp; ether, with <b>bold</b> words.</p>" for i in range(8_000))
    body, reading, truncated = _capped_body(html, 300_000)
    text = reading.text
    assert truncated
    assert len(body.encode()) + len(text.encode()) <= 300_000
    assert len(body.encode()) > 150_000  # cut in proportion, not to a sliver
    assert body.endswith("</p>") and text.startswith("Paragraph 0 about bitcoin & ether")

    small = "<p>Short.</p>"
    assert _capped_body(small, 300_000) == (small, Reading("Short.", None), False)


def test_build_article_reduces_text_fields_to_text_whatever_calls_it() -> None:
    entry = replace(
        sample("defiliban", "Hong Kong Expands"),
        title='Bitcoin <script>alert(1)</script><img src=x onerror="alert(2)"> rallies',
        author="<b>Jane</b> Doe",
        tags=("<i>Policy</i>", "<script>x</script>"),
    )
    article = build_article(entry, ctx())
    for text in (article.title, article.author or ""):
        assert "<" not in text and "onerror" not in text
    assert article.title.startswith("Bitcoin") and article.title.endswith("rallies")
    assert article.author == "Jane Doe"


def test_a_date_the_feed_did_not_give_is_marked_estimated() -> None:
    dated = sample("defiliban", "Hong Kong Expands")
    assert not build_article(dated, ctx()).published_estimated

    undated = replace(dated, published=None, updated=None, fetched_at=NOW - timedelta(minutes=3))
    article = build_article(undated, ctx())
    assert article.published == NOW - timedelta(minutes=3) and article.published_estimated

    future = replace(dated, published=NOW + timedelta(days=30), updated=None)
    clamped = build_article(future, ctx())
    assert clamped.published == NOW and clamped.published_estimated

    # A correction keeps the story's date and its flag; an original that took over brings its own.
    stored = build_article(undated, ctx())
    corrected = merge(
        stored, build_article(replace(undated, title="Hong Kong Expands, corrected"), ctx()), {s.id: s for s in SOURCES}
    ).article
    assert corrected.published_estimated and corrected.published == stored.published


def test_direction_overrides_are_stripped_from_titles_names_and_tags() -> None:
    entry = replace(
        sample("defiliban", "Hong Kong Expands"),
        title="Wallet \u202egnp.exe\u202c drains \U0001f468\u200d\U0001f469\u200d\U0001f467 funds",
        author="\u2067Jane\u2069 Doe",
        tags=("\u202dPolicy",),
        declared_source_name=None,
    )
    article = build_article(entry, ctx())

    assert article.title == "Wallet gnp.exe drains \U0001f468\u200d\U0001f469\u200d\U0001f467 funds"
    assert article.author == "Jane Doe"
    assert article.category.value == "Policy"


# -- input limits (issue 14) ------------------------------------------------------------------


def test_every_text_field_is_cut_to_its_limit_and_each_cut_is_recorded() -> None:
    from newsroom.core.config import DEFAULT_ENTRY_LIMITS as LIMITS

    entry = replace(
        sample("defiliban", "Hong Kong Expands"),
        title="Bitcoin " + "rallies again " * 400_000,  # 5 MB
        author="<b>Jane</b> " + "Doe " * 10_000,
        tags=tuple(f"tag{i} " + "x" * 500 for i in range(1_000)),
        summary_html="<p>" + "word " * 400_000 + "</p>",
        content_html="<p>" + "bitcoin moves " * 200_000 + "</p>",
    )

    article = build_article(entry, ctx())

    assert len(article.title) <= LIMITS.title_chars and article.title.startswith("Bitcoin rallies again")
    assert article.title.endswith("…")
    assert len(article.author) <= LIMITS.author_chars and article.author.startswith("Jane Doe")
    assert set(article.input_cuts) == {"title", "author", "categories", "category-length", "summary", "content", "body"}
    assert article.body_truncated


def test_an_ordinary_entry_records_no_cuts() -> None:
    article = build_article(sample("defiliban", "Hong Kong Expands"), ctx())

    assert article.input_cuts == ()


def test_a_story_still_too_large_after_the_cuts_is_a_permanent_reject() -> None:
    # URLs and identifiers are never cut; a 150 KB link (stored as url and canonical_url) and a
    # 150 KB GUID make a story over DynamoDB's 400 KB item whatever the text limits do.
    from newsroom.process.build import MAX_ITEM_BYTES, EntryRejected
    from newsroom.wiring.handlers import describe_failure

    path = "/" + "a" * 150_000
    entry = replace(sample("defiliban", "Hong Kong Expands"), link="https://defiliban.io" + path, guid="g" * 150_000)

    with pytest.raises(EntryRejected) as caught:
        build_article(entry, ctx())

    assert caught.value.reason == "too-large"
    assert str(MAX_ITEM_BYTES) in str(caught.value)
    reject = describe_failure("m-1", "{}", caught.value, receive_count=1, now=NOW)
    assert reject.permanent and reject.error_type == "EntryRejected"


def test_the_item_size_bound_is_never_under_the_item_s_size() -> None:
    """The size check skips the body's JSON when a bound settles it: the bound is at least the
    size for bodies of the characters JSON writes longest (control characters, quotes,
    backslashes, non-BMP characters, lone surrogates), for URLs and text alike, and for a
    story with copies there is none (the size is then computed)."""
    from newsroom.core.models import Copy
    from newsroom.process.build import _item_bytes, _item_bytes_bound

    base = build_article(sample("defiliban", "Hong Kong Expands"), ctx())
    for piece in ("\x00\x1f", '"\\', "\U0001f600", "\ud800", "é", "a", ""):
        body = piece * 5_000
        article = replace(base, content_html=body, content_text=body, title=piece * 50, guid=piece * 50)
        bound = _item_bytes_bound(article)
        assert bound is not None and bound >= _item_bytes(article), repr(piece)
    copy = Copy(source_id="s", source_name="S", url="https://s.example/a", title="t", first_seen=NOW)
    assert _item_bytes_bound(replace(base, copies=(copy,))) is None


def test_a_story_dated_year_1_survives_its_stored_document() -> None:
    from newsroom.core.codec import article_from_doc, article_to_doc

    entry = replace(sample("defiliban", "Hong Kong Expands"), published=datetime(1, 1, 1, tzinfo=UTC), updated=None)
    article = build_article(entry, ctx())

    assert article.published == datetime(1, 1, 1, tzinfo=UTC)
    assert article_from_doc(article_to_doc(article)) == article


def test_direction_overrides_are_stripped_from_a_credit_read_from_the_footer() -> None:
    entry = replace(
        sample("cryptowire", "Dogecoin"),
        summary_html="",
        content_html="<p>Dogecoin rallies on heavy volume today, traders said on Sunday.</p>\n"
        '<p>The post <a rel="nofollow" href="https://orig.news/doge/">Dogecoin rallies</a> appeared first on '
        '<a rel="nofollow" href="https://www.orig.news">\u202eswen\u202c \u2067Orig\u2069</a>.</p>\n',
    )
    article = build_article(entry, ctx())

    assert article.attribution is not None
    assert article.attribution.original_name == "swen Orig"

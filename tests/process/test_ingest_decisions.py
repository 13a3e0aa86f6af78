"""`process.ingest.decide`: what an entry is and which write records it, from the built article
and what the store holds, without a store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from newsroom.core.models import Article, FingerprintClaims, RawEntry, Source, StoredArticle
from newsroom.process.build import Outcome, ProcessingContext, build_article
from newsroom.process.ingest import Write, decide, identified, superseded

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SOURCES = (
    Source(id="pub", name="Pub", feed_url="https://pub.example/feed", homepage="https://pub.example"),
    Source(id="other", name="Other", feed_url="https://other.example/feed", homepage="https://other.example"),
)
CTX = ProcessingContext.build(
    SOURCES,
    site_name="CryptoCompass",
    desk_name="CryptoCompass newsroom",
    editorial_image_base_url="https://cdn.example/editorial",
    max_body_bytes=180_000,
    now=NOW,
)
BODY = "<p>" + " ".join(f"Bitcoin markets moved on day {i} as traders weighed the news." for i in range(20)) + "</p>"
CLAIMS = FingerprintClaims(keys=("fp#1",), now=NOW)


def article(title: str = "Bitcoin moves", *, fetched: datetime = NOW) -> Article:
    entry = RawEntry(
        source_id="pub",
        guid="g1",
        link="https://pub.example/story",
        title=title,
        content_html=BODY,
        published=NOW - timedelta(hours=1),
        fetched_at=fetched,
    )
    return build_article(entry, CTX)


def stored(a: Article) -> StoredArticle:
    return StoredArticle(a, version=1)


def test_nothing_stored_creates_the_story_with_its_claims() -> None:
    incoming = article()
    plan = decide(incoming, None, CTX.sources, has_guid=True, claims=CLAIMS)
    assert (plan.decision.outcome, plan.write, plan.claims) == (Outcome.CREATED, Write.CREATE, CLAIMS)
    assert plan.decision.article is incoming


def test_the_same_entry_again_writes_at_most_its_guid_claim() -> None:
    held = stored(article())
    with_guid = decide(article(), held, CTX.sources, has_guid=True)
    assert (with_guid.decision.outcome, with_guid.write) == (Outcome.UNCHANGED, Write.CLAIM_GUID)
    assert with_guid.existing is held and with_guid.decision.article == held.article
    without = decide(article(), held, CTX.sources, has_guid=False)
    assert without.write is Write.NOTHING


def test_a_correction_replaces_the_story() -> None:
    held = stored(article())
    correction = article("Bitcoin moves, corrected", fetched=NOW + timedelta(minutes=5))
    plan = decide(correction, held, CTX.sources, has_guid=True)
    assert (plan.decision.outcome, plan.write, plan.existing) == (Outcome.UPDATED, Write.REPLACE, held)
    assert plan.decision.article.title == "Bitcoin moves, corrected"


def test_a_replayed_older_version_does_not_undo_a_correction() -> None:
    corrected = article("Bitcoin moves, corrected", fetched=NOW + timedelta(minutes=5))
    held = stored(replace(corrected, updated=NOW + timedelta(minutes=5)))
    old = article()
    assert superseded(old, held.article)
    plan = decide(old, held, CTX.sources, has_guid=True)
    assert plan.decision.outcome is Outcome.UNCHANGED and plan.decision.article == held.article


def test_a_copy_from_another_source_is_attached_to_the_story() -> None:
    held = stored(article())
    copy = replace(article(), source_id="other", source_name="Other", url="https://other.example/copy")
    plan = decide(copy, held, CTX.sources, has_guid=False, claims=CLAIMS)
    assert (plan.decision.outcome, plan.write) == (Outcome.COPY_ATTACHED, Write.REPLACE)
    assert [c.source_id for c in plan.decision.article.copies] == ["other"]


def test_a_guid_claimed_by_a_story_keeps_the_entry_under_that_story() -> None:
    incoming = article()
    assert identified(incoming, "story-1").id == "story-1"
    assert identified(incoming, None) is incoming
    assert identified(incoming, incoming.id) is incoming

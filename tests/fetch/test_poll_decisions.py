"""`fetch.poll`: every rule of one poll decided without a server, a queue or a store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from newsroom.core.models import RawEntry, Source, SourceState
from newsroom.fetch.feeds import FeedParseError, ParsedFeed
from newsroom.fetch.fulltext import Enrichment
from newsroom.fetch.http import FetchError, HttpResult
from newsroom.fetch.poll import (
    HEALTH_REFRESH,
    Reading,
    SourceReport,
    begin,
    decide,
    enriched,
    failed_internally,
    request_for,
    worth_writing,
)
from newsroom.fetch.seen import fresh_entries, owed_digest, records
from newsroom.sources.schedule import PollBounds

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BOUNDS = PollBounds(
    default_interval=timedelta(minutes=15),
    min_interval=timedelta(minutes=5),
    max_interval=timedelta(hours=6),
    backoff_ceiling=timedelta(hours=12),
)
SOURCE = Source(id="pub", name="Pub", feed_url="https://pub.example/feed")


def entry(guid: str, title: str = "Title") -> RawEntry:
    return RawEntry(source_id="pub", guid=guid, link=f"https://pub.example/{guid}", title=title, fetched_at=NOW)


def answer(status: int = 200, *, headers: dict[str, str] | None = None, moved: str | None = None) -> HttpResult:
    return HttpResult(
        status=status,
        url=SOURCE.feed_url,
        body=b"<rss/>",
        headers=headers or {},
        not_modified=status == 304,
        etag='"v2"',
        last_modified="Mon, 01 Jun 2026 11:00:00 GMT",
        permanent_redirect_to=moved,
    )


def document(*entries: RawEntry, ttl: int | None = None) -> ParsedFeed:
    return ParsedFeed(entries=entries, title="Pub", language="en", bozo_reason=None, ttl_minutes=ttl)


def read(*entries: RawEntry, headers: dict[str, str] | None = None, moved: str | None = None) -> Reading:
    return Reading(result=answer(headers=headers, moved=moved), parsed=document(*entries), body_hash="new-body")


# -- begin: whether to poll at all -------------------------------------------------------------


def test_an_unread_state_is_retried_never_polled_as_a_new_source() -> None:
    report = begin(SOURCE, None, unread=True, only_due=False, now=NOW)
    assert isinstance(report, SourceReport)
    assert report.status == "error" and report.retry


def test_a_new_source_starts_from_an_empty_state() -> None:
    assert begin(SOURCE, None, unread=False, only_due=True, now=NOW) == SourceState(source_id="pub")


def test_a_gone_source_is_skipped_with_its_reason() -> None:
    gone = SourceState("pub", disabled=True, disabled_reason="gone: 410", feed_url_for=SOURCE.feed_url)
    assert begin(SOURCE, gone, unread=False, only_due=False, now=NOW) == SourceReport(
        "pub", "skipped", error="gone: 410"
    )


def test_a_source_gone_for_an_old_url_is_polled_afresh() -> None:
    old = SourceState(
        "pub", disabled=True, disabled_reason="gone", feed_url_for="https://old.example/feed", consecutive_failures=3
    )
    start = begin(SOURCE, old, unread=False, only_due=True, now=NOW)
    assert isinstance(start, SourceState)
    assert not start.disabled and start.consecutive_failures == 0 and start.next_poll is None


def test_the_worker_skips_a_source_that_is_not_due() -> None:
    later = SourceState("pub", next_poll=NOW + timedelta(hours=1))
    assert begin(SOURCE, later, unread=False, only_due=True, now=NOW) == SourceReport("pub", "skipped")
    assert begin(SOURCE, later, unread=False, only_due=False, now=NOW) == later


# -- request_for: what to ask ----------------------------------------------------------------


def test_a_permanent_redirect_is_followed_with_the_validators() -> None:
    moved = SourceState("pub", etag='"v1"', feed_url="https://new.example/feed", feed_url_for=SOURCE.feed_url)
    request = request_for(SOURCE, moved)
    assert (request.url, request.etag) == ("https://new.example/feed", '"v1"')


def test_an_edited_source_forgets_its_redirect_and_validators() -> None:
    stale = SourceState("pub", etag='"v1"', feed_url="https://new.example/feed", feed_url_for="https://old.example/")
    request = request_for(SOURCE, stale)
    assert (request.url, request.etag, request.last_modified) == (SOURCE.feed_url, None, None)


# -- decide: what a reading means -------------------------------------------------------------


def test_a_new_document_sends_every_entry_and_remembers_them() -> None:
    plan = decide(SOURCE, SourceState("pub"), read(entry("a"), entry("b")), now=NOW, bounds=BOUNDS)
    assert [e.guid for e in plan.send] == ["a", "b"]
    assert plan.report == SourceReport("pub", "ok", entries=2, parsed=True)
    assert len(records(plan.state.seen)) == 2
    assert plan.state.etag == '"v2"' and plan.state.body_hash == "new-body"
    assert plan.state.next_poll == NOW + timedelta(minutes=15)
    assert plan.state.poll_interval_s == 15 * 60  # the grid the dispatcher follows


def test_only_new_or_changed_entries_travel() -> None:
    _, seen = fresh_entries([entry("a"), entry("b")], b"")
    before = SourceState("pub", seen=seen)
    plan = decide(SOURCE, before, read(entry("a"), entry("b", "Corrected"), entry("c")), now=NOW, bounds=BOUNDS)
    assert [(e.guid, e.title) for e in plan.send] == [("b", "Corrected"), ("c", "Title")]
    assert (plan.report.entries, plan.report.unchanged) == (2, 1)


def test_a_304_sends_nothing_and_keeps_the_body_hash() -> None:
    before = SourceState("pub", body_hash="old-body", etag='"v1"')
    plan = decide(SOURCE, before, Reading(result=answer(304)), now=NOW, bounds=BOUNDS)
    assert plan.send == () and plan.report.status == "not-modified"
    assert plan.state.body_hash == "old-body" and plan.state.last_success == NOW


def test_expires_zero_drops_the_validators() -> None:
    plan = decide(SOURCE, SourceState("pub"), read(entry("a"), headers={"expires": "0"}), now=NOW, bounds=BOUNDS)
    assert plan.state.etag is None and plan.state.last_modified is None


def test_a_feed_hint_slows_polling_within_bounds() -> None:
    reading = Reading(result=answer(), parsed=document(entry("a"), ttl=60), body_hash="x")
    plan = decide(SOURCE, SourceState("pub"), reading, now=NOW, bounds=BOUNDS)
    assert plan.state.next_poll == NOW + timedelta(hours=1) and plan.state.poll_interval_s == 3600


def dated(guid: str, hours_ago: float) -> RawEntry:
    return replace(entry(guid), published=NOW - timedelta(hours=hours_ago))


def test_a_parsed_document_sets_the_rhythm_and_the_next_poll() -> None:
    # Ten entries a day (70 a week): polled every 144 / 4 = 36 minutes, not the 15-minute default.
    reading = Reading(
        result=answer(), parsed=document(*(dated(str(i), 2.4 * (i + 1)) for i in range(20))), body_hash="x"
    )
    plan = decide(SOURCE, SourceState("pub"), reading, now=NOW, bounds=BOUNDS)
    assert plan.state.entries_per_week == 70.0
    assert plan.state.next_poll == NOW + timedelta(minutes=36) and plan.state.poll_interval_s == 36 * 60


def test_a_304_keeps_the_rhythm_and_a_pinned_source_ignores_it() -> None:
    quiet = SourceState("pub", entries_per_week=0.0)
    plan = decide(SOURCE, quiet, Reading(result=answer(304)), now=NOW, bounds=BOUNDS)
    assert plan.state.entries_per_week == 0.0 and plan.state.next_poll == NOW + timedelta(hours=6)
    pinned = replace(SOURCE, interval_minutes=10)
    plan = decide(pinned, quiet, read(dated("a", 24 * 30)), now=NOW, bounds=BOUNDS)
    assert plan.state.entries_per_week == 0.0 and plan.state.next_poll == NOW + timedelta(minutes=10)


def test_a_feed_hint_still_slows_a_rhythm_and_backoff_starts_from_the_configured_interval() -> None:
    reading = Reading(
        result=answer(headers={"cache-control": "max-age=3600"}), parsed=document(dated("a", 1)), body_hash="x"
    )
    busy = decide(SOURCE, SourceState("pub"), reading, now=NOW, bounds=BOUNDS)
    assert busy.state.next_poll == NOW + timedelta(hours=1)
    quiet = SourceState("pub", entries_per_week=0.0)
    failed = decide(SOURCE, quiet, Reading(error=FeedParseError("not-a-feed", "html")), now=NOW, bounds=BOUNDS)
    assert failed.state.next_poll is not None and failed.state.next_poll <= NOW + timedelta(minutes=15)
    assert failed.state.entries_per_week == 0.0


def test_a_permanent_redirect_becomes_the_feed_url() -> None:
    plan = decide(SOURCE, SourceState("pub"), read(entry("a"), moved="https://new.example/feed"), now=NOW)
    assert (plan.state.feed_url, plan.state.feed_url_for) == ("https://new.example/feed", SOURCE.feed_url)


def test_410_disables_the_source_for_its_current_url() -> None:
    gone = Reading(error=FetchError("http-410", "gone", status=410))
    plan = decide(SOURCE, SourceState("pub"), gone, now=NOW, bounds=BOUNDS)
    assert plan.state.disabled and plan.state.next_poll is None and plan.state.feed_url_for == SOURCE.feed_url
    assert plan.report.status == "error" and plan.send == ()
    assert plan.state.poll_interval_s is None  # a failure has no grid


def test_429_honours_retry_after_up_to_the_ceiling() -> None:
    busy = Reading(error=FetchError("http-429", "busy", status=429, retry_after="7200"))
    plan = decide(SOURCE, SourceState("pub"), busy, now=NOW, bounds=BOUNDS)
    assert plan.state.next_poll == NOW + timedelta(hours=2)
    assert plan.state.consecutive_failures == 1 and plan.state.last_status == 429


def test_a_document_that_is_no_feed_is_a_failure_with_backoff() -> None:
    broken = Reading(error=FeedParseError("not-a-feed", "html"))
    plan = decide(SOURCE, SourceState("pub", consecutive_failures=2), broken, now=NOW, bounds=BOUNDS)
    assert plan.report.error is not None and plan.report.error.startswith("not-a-feed")
    assert plan.state.consecutive_failures == 3
    assert plan.state.next_poll is not None
    assert NOW + timedelta(minutes=30) <= plan.state.next_poll <= NOW + timedelta(hours=1)


def test_an_entry_queued_with_its_full_text_owed_is_offered_as_owed() -> None:
    owed = entry("a")
    plan = decide(SOURCE, SourceState("pub", seen=owed_digest(owed)), read(owed, entry("b")), now=NOW)
    assert [e.guid for e in plan.send] == ["a", "b"] and plan.owed == frozenset({0})


# -- enriched: full text ----------------------------------------------------------------------


def test_an_owed_entry_travels_again_only_with_its_full_text() -> None:
    plan = decide(SOURCE, SourceState("pub", seen=owed_digest(entry("a"))), read(entry("a"), entry("b")), now=NOW)
    none_improved = enriched(plan, Enrichment(list(plan.send), pages=0))
    assert [e.guid for e in none_improved.send] == ["b"]
    improved = enriched(plan, Enrichment(list(plan.send), pages=1, improved=frozenset({0})))
    assert [e.guid for e in improved.send] == ["a", "b"] and improved.report.fulltext_pages == 1


def test_entries_past_the_page_budget_stay_owed_and_the_feed_is_read_again() -> None:
    plan = decide(SOURCE, SourceState("pub"), read(entry("a"), entry("b")), now=NOW)
    after = enriched(plan, Enrichment(list(plan.send), pages=1, improved=frozenset({0}), deferred=frozenset({1})))
    assert [e.guid for e in after.send] == ["a", "b"]  # with its excerpt, for now
    assert owed_digest(entry("b")) in records(after.state.seen)
    assert (after.state.etag, after.state.last_modified, after.state.body_hash) == (None, None, None)


# -- failed_internally and worth_writing -------------------------------------------------------


def test_an_internal_fault_keeps_what_was_remembered_so_nothing_is_lost() -> None:
    _, seen = fresh_entries([entry("a")], b"")
    before = SourceState("pub", body_hash="old", seen=seen, etag='"v1"')
    plan = failed_internally(SOURCE, before, RuntimeError("SQS refused"), now=NOW, bounds=BOUNDS)
    assert (plan.state.body_hash, plan.state.seen, plan.state.etag) == ("old", seen, '"v1"')
    assert plan.state.consecutive_failures == 1 and plan.report.error == "internal: RuntimeError: SQS refused"
    assert plan.send == ()


def test_an_unchanged_poll_writes_only_to_refresh_health() -> None:
    first = decide(SOURCE, SourceState("pub"), read(entry("a")), now=NOW, bounds=BOUNDS).state
    assert worth_writing(None, first)
    soon = NOW + timedelta(minutes=15)
    again = decide(SOURCE, first, Reading(result=answer(304)), now=soon, bounds=BOUNDS).state
    assert not worth_writing(first, again)
    late = NOW + HEALTH_REFRESH
    assert worth_writing(first, decide(SOURCE, first, Reading(result=answer(304)), now=late, bounds=BOUNDS).state)


def test_failures_moves_and_pre_grid_states_are_always_written() -> None:
    first = decide(SOURCE, SourceState("pub"), read(entry("a")), now=NOW, bounds=BOUNDS).state
    failing = failed_internally(SOURCE, first, RuntimeError("x"), now=NOW, bounds=BOUNDS).state
    assert worth_writing(first, failing)
    assert worth_writing(first, replace(first, feed_url="https://new.example/feed"))
    assert worth_writing(replace(first, poll_interval_s=None), first)
    # A new document (its hash, its entries' digests) is written at once, whatever HEALTH_REFRESH.
    assert worth_writing(first, replace(first, body_hash="another document"))
    assert worth_writing(first, replace(first, seen=first.seen + b"\x00" * 8))

"""The freshness simulation (`devtools.freshness`): its arithmetic on made-up feeds, and the
corpus figures the README quotes (the busy feeds' p95 delay does not grow)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devtools.freshness import (
    ClassFigures,
    Freshness,
    classify,
    compare,
    corpus_times,
    next_tick,
    percentile,
    rhythm_rule,
    simulate,
    today_rule,
)
from newsroom.sources.schedule import PollBounds

T0 = datetime(2026, 10, 3, 0, 0, tzinfo=UTC)
BOUNDS = PollBounds()
MINUTE = timedelta(minutes=1)


def test_ticks_fall_every_five_minutes_and_a_due_poll_runs_up_to_two_minutes_early() -> None:
    assert next_tick(T0) == T0
    assert next_tick(T0 + timedelta(seconds=1)) == T0 + 5 * MINUTE
    assert next_tick(T0 + 7 * MINUTE, due=True) == T0 + 5 * MINUTE
    assert next_tick(T0 + 8 * MINUTE, due=True) == T0 + 10 * MINUTE


def test_a_fixed_interval_finds_each_entry_at_the_next_poll() -> None:
    # Entries at 00:00, 01:00 (the history: the first two) then 02:07, 03:07, 04:07; polls every
    # 15 minutes from 01:00 find them at 02:15, 03:15, 04:15: 8 minutes late each.
    times = [T0, T0 + 60 * MINUTE] + [T0 + timedelta(hours=h, minutes=7) for h in (2, 3, 4)]
    run = simulate("feed", times, today_rule(BOUNDS))
    assert run.delays == (8 * MINUTE,) * 3
    # Polls from 01:00 up to the last publication (04:07): 01:00, 01:15, ..., 04:00 = 13.
    assert run.polls == 13
    assert run.days == pytest.approx((187 * MINUTE) / timedelta(days=1))
    assert run.polls_per_day == pytest.approx(13 / run.days)
    assert run.klass == "daily outlet"  # 4 gaps in 247 minutes: 23.3 a day


def test_the_rhythm_is_read_again_only_when_a_poll_finds_something() -> None:
    seen: list[int] = []

    def rule(document: object, _now: datetime) -> timedelta:
        seen.append(len(document))  # type: ignore[arg-type]
        return 60 * MINUTE

    times = [T0, T0 + MINUTE, T0 + 3 * MINUTE, T0 + 300 * MINUTE]
    run = simulate("feed", times, rule)
    # Polls at the ticks 00:05 (2 known), 01:05 (the 00:03 entry), then 02:05, 03:05, 04:05
    # (nothing new: the rhythm is not read) and 05:05 (the 05:00 entry).
    assert seen == [2, 3, 4]
    assert run.delays == (62 * MINUTE, 5 * MINUTE)
    assert run.polls == 5  # the 05:05 poll comes after the last publication: not counted


def test_too_few_dates_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        simulate("feed", [T0, T0], today_rule(BOUNDS))


def test_percentile_is_nearest_rank_and_classes_are_by_entries_a_day() -> None:
    values = [i * MINUTE for i in range(1, 21)]
    assert percentile(values, 0.95) == 19 * MINUTE
    assert percentile(values, 1.0) == 20 * MINUTE
    assert percentile([MINUTE], 0.95) == MINUTE
    assert [classify(x) for x in (24, 23.9, 1, 0.9)] == ["busy wire", "daily outlet", "daily outlet", "weekly blog"]


def test_polls_removed_weights_every_feed_alike() -> None:
    busy = ClassFigures("busy wire", 1, 10, MINUTE, MINUTE, 96.0, 96.0)
    blog = ClassFigures("weekly blog", 3, 10, MINUTE, MINUTE, 96.0, 4.0)
    figures = Freshness((busy, blog))
    assert figures.polls_per_source_day(rhythm=False) == 96.0
    assert figures.polls_per_source_day() == (96 + 3 * 4) / 4
    assert figures.polls_removed == pytest.approx(1 - 108 / 384)


def test_a_busy_feed_keeps_todays_polls_and_a_quiet_one_waits_up_to_the_cap() -> None:
    busy = [T0 + 10 * i * MINUTE for i in range(60)]  # 144 a day
    quiet = [T0 + timedelta(days=3 * i, hours=5 + i, minutes=7 * i) for i in range(12)]  # one every 3 days
    figures = compare({"busy": busy, "quiet": quiet}, BOUNDS)
    by_class = {c.klass: c for c in figures.classes}
    assert by_class["busy wire"].p95_rhythm == by_class["busy wire"].p95_today
    assert by_class["busy wire"].polls_per_day_rhythm == by_class["busy wire"].polls_per_day_today
    blog = by_class["weekly blog"]
    assert blog.polls_per_day_rhythm == pytest.approx(4, abs=0.2)  # every 6 hours
    assert blog.p95_today <= 15 * MINUTE < blog.p95_rhythm <= 6 * 60 * MINUTE


def test_on_the_corpus_the_busy_feeds_wait_no_longer_and_a_third_of_polls_go() -> None:
    feeds = corpus_times()
    assert len(feeds) >= 25  # real-feeds and crypto-2026-10-03, dated
    figures = compare(feeds, BOUNDS)
    by_class = {c.klass: c for c in figures.classes}
    assert set(by_class) == {"busy wire", "daily outlet", "weekly blog"}
    assert by_class["busy wire"].p95_rhythm <= by_class["busy wire"].p95_today
    assert figures.polls_removed >= 0.30
    # Sanity of the mix rhythm, not a target: the default rule polls a source ~96 times a day.
    assert 90 <= figures.polls_per_source_day(rhythm=False) <= 100
    assert rhythm_rule(BOUNDS)([T0], T0 + timedelta(days=30)) == timedelta(hours=6)

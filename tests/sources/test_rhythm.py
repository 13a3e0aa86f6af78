"""The feed's rhythm (issue 18): entries per week read from a document, and the interval it earns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newsroom.sources.schedule import (
    RHYTHM_WINDOW,
    PollBounds,
    entries_per_week,
    polling_interval,
    rhythm_interval,
)

NOW = datetime(2026, 10, 3, 12, 0, tzinfo=UTC)
BOUNDS = PollBounds()  # 15-minute default, factor 4, at most 6 hours


def hours_ago(*hours: float) -> list[datetime]:
    return [NOW - timedelta(hours=h) for h in hours]


def test_a_document_holding_a_whole_week_counts_the_last_seven_days() -> None:
    # 3 entries in the last week, 2 older: the older ones only say the document spans the week.
    published = hours_ago(1, 50, 100, 24 * 8, 24 * 30)
    assert entries_per_week(published, NOW) == 3.0


def test_a_document_shorter_than_a_week_is_extrapolated_from_its_oldest_entry() -> None:
    # A busy wire: 20 entries over the last 5 hours is 20 / 5 h = 672 a week.
    published = [NOW - timedelta(minutes=15 * i) for i in range(20)]
    assert entries_per_week(published, NOW) == round(20 * (RHYTHM_WINDOW / timedelta(minutes=15 * 19)), 1)


def test_a_burst_is_not_read_as_an_enormous_rate() -> None:
    published = [NOW - timedelta(seconds=i) for i in range(20)]
    assert entries_per_week(published, NOW) == 20 * 168  # 20 over the one-hour minimum


def test_undated_quiet_and_future_documents() -> None:
    assert entries_per_week([None, None], NOW) is None
    assert entries_per_week([], NOW) is None
    assert entries_per_week(hours_ago(24 * 10, 24 * 20), NOW) == 0.0
    # A date in the future counts as now (a publisher's clock or time zone is wrong).
    assert entries_per_week([NOW + timedelta(days=2), None], NOW) == 168.0


def test_naive_dates_are_read_as_utc() -> None:
    naive = (NOW - timedelta(hours=2)).replace(tzinfo=None)
    assert entries_per_week([naive], NOW) == entries_per_week([NOW - timedelta(hours=2)], NOW)


@pytest.mark.parametrize(
    ("per_week", "expected"),
    [
        (None, timedelta(minutes=15)),  # unknown: today's default
        (0.0, timedelta(hours=6)),  # nothing last week: the longest wait
        (10_000.0, timedelta(minutes=15)),  # never faster than the default
        (168.0, timedelta(minutes=15)),  # one an hour: 60 min / 4, the busy-wire threshold
        (70.0, timedelta(minutes=36)),  # ten a day: 144 min / 4
        (7.0, timedelta(hours=6)),  # one a day: 24 h / 4, capped at 6 h
    ],
)
def test_the_interval_is_a_quarter_of_the_mean_gap_within_bounds(per_week: float | None, expected: timedelta) -> None:
    assert rhythm_interval(per_week, BOUNDS) == expected


def test_the_factor_and_ceiling_come_from_the_bounds() -> None:
    bounds = PollBounds(rhythm_factor=1.0, rhythm_max_interval=timedelta(hours=24))
    assert rhythm_interval(7.0, bounds) == timedelta(hours=24)
    assert rhythm_interval(14.0, bounds) == timedelta(hours=12)


def test_a_pinned_interval_wins_over_the_rhythm() -> None:
    assert polling_interval(5, 0.0, BOUNDS) == timedelta(minutes=5)
    assert polling_interval(120, 10_000.0, BOUNDS) == timedelta(hours=2)
    assert polling_interval(None, 0.0, BOUNDS) == timedelta(hours=6)
    assert polling_interval(0, 70.0, BOUNDS) == timedelta(minutes=36)  # 0 pins nothing


def test_the_rhythm_bounds_are_checked() -> None:
    with pytest.raises(ValueError, match="rhythm_max_interval"):
        PollBounds(rhythm_max_interval=timedelta(minutes=10))
    with pytest.raises(ValueError, match="rhythm_max_interval"):
        PollBounds(max_interval=timedelta(hours=2))
    with pytest.raises(ValueError, match="rhythm_factor"):
        PollBounds(rhythm_factor=0)

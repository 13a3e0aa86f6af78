"""The polling policy as pure functions: intervals, feed hints, Retry-After, backoff with jitter."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from newsroom.core.models import SourceState
from newsroom.sources.schedule import (
    PollBounds,
    after_failure,
    after_success,
    backoff_delay,
    expires_zero,
    feed_hint,
    interval_for,
    is_due,
    max_age,
    parse_retry_after,
)

NOW = datetime(2026, 5, 31, 12, 0, tzinfo=UTC)
BOUNDS = PollBounds(
    default_interval=timedelta(minutes=15),
    min_interval=timedelta(minutes=5),
    max_interval=timedelta(hours=6),
    backoff_ceiling=timedelta(hours=12),
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", timedelta(seconds=120)),
        ("0", timedelta(0)),
        ("Sun, 31 May 2026 12:30:00 GMT", timedelta(minutes=30)),
        ("Sun, 31 May 2026 11:00:00 GMT", timedelta(0)),  # a date in the past: go ahead
        ("soon", None),
        ("", None),
        (None, None),
        ("-5", None),
        # Hostile or broken values (issue 14): bounded, never an exception.
        ("9" * 5_000, timedelta(seconds=10**8)),  # past Python's 4,300-digit int() limit
        ("00000000000000000000120", timedelta(seconds=120)),
        ("\u00b2", None),  # a digit to str.isdigit, not to int()
        ("Fri, 31 Dec 9999 23:59:59 -1159", timedelta(seconds=10**8)),  # past datetime.max in UTC
        ("Fri, 31 Dec 9999 23:59:59 +0000", timedelta(seconds=10**8)),
        ("Mon, 01 Jan 0001 00:00:00 +0100", timedelta(0)),  # before datetime.min in UTC
    ],
    ids=lambda value: repr(value)[:40],
)
def test_retry_after_is_seconds_or_an_http_date(value: str | None, expected: timedelta | None) -> None:
    assert parse_retry_after(value, NOW) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("max-age=600", timedelta(minutes=10)),
        ("public, max-age=300, s-maxage=900", timedelta(minutes=15)),
        ('max-age="60"', timedelta(minutes=1)),
        ("no-cache", None),
        ("", None),
    ],
)
def test_cache_control_max_age(header: str, expected: timedelta | None) -> None:
    assert max_age({"cache-control": header}) == expected


def test_feed_hint_takes_the_longest_hint() -> None:
    assert feed_hint({"cache-control": "max-age=600"}, 60) == timedelta(minutes=60)
    assert feed_hint({"cache-control": "max-age=7200"}, 60) == timedelta(hours=2)
    assert feed_hint({}, None) is None


@pytest.mark.parametrize(("value", "expected"), [("0", True), ("-1", True), ("Thu, 01 Dec 2039 16:00:00 GMT", False)])
def test_expires_zero(value: str, expected: bool) -> None:
    assert expires_zero({"expires": value}) is expected
    assert expires_zero({}) is False


def test_success_uses_the_interval_or_a_longer_hint_within_bounds() -> None:
    interval = interval_for(15, BOUNDS)
    assert after_success(NOW, interval, BOUNDS) == NOW + timedelta(minutes=15)
    assert after_success(NOW, interval, BOUNDS, hint=timedelta(minutes=1)) == NOW + timedelta(minutes=15)
    assert after_success(NOW, interval, BOUNDS, hint=timedelta(hours=1)) == NOW + timedelta(hours=1)
    assert after_success(NOW, interval, BOUNDS, hint=timedelta(days=30)) == NOW + timedelta(hours=6)


def test_configured_interval_is_clamped() -> None:
    assert interval_for(None, BOUNDS) == timedelta(minutes=15)
    assert interval_for(1, BOUNDS) == timedelta(minutes=5)
    assert interval_for(10_000, BOUNDS) == timedelta(hours=6)


def test_backoff_doubles_with_jitter_up_to_the_ceiling() -> None:
    interval = timedelta(minutes=15)
    rng = random.Random(7)
    for failures in range(1, 12):
        full = min(BOUNDS.backoff_ceiling, interval * 2 ** (failures - 1))
        samples = [backoff_delay(failures, interval, BOUNDS, rng=rng) for _ in range(200)]
        assert all(max(full / 2, BOUNDS.min_interval) <= s <= full for s in samples)
        assert len(set(samples)) > 100  # jittered, not one fixed value
    assert backoff_delay(50, interval, BOUNDS, rng=rng) <= BOUNDS.backoff_ceiling


def test_retry_after_wins_over_a_shorter_backoff_but_not_over_the_ceiling() -> None:
    interval = timedelta(minutes=15)
    rng = random.Random(1)
    assert after_failure(NOW, 1, interval, BOUNDS, retry_after=timedelta(hours=2), rng=rng) == NOW + timedelta(hours=2)
    capped = after_failure(NOW, 1, interval, BOUNDS, retry_after=timedelta(days=365), rng=rng)
    assert capped == NOW + BOUNDS.backoff_ceiling


def test_is_due() -> None:
    assert is_due(None, NOW)
    assert is_due(SourceState("a"), NOW)
    assert is_due(SourceState("a", next_poll=NOW), NOW)
    assert is_due(SourceState("a", next_poll=NOW + timedelta(seconds=90)), NOW)  # within the tick slack
    assert not is_due(SourceState("a", next_poll=NOW + timedelta(minutes=3)), NOW)
    assert not is_due(SourceState("a", next_poll=NOW + timedelta(seconds=1)), NOW, slack=timedelta(0))
    assert not is_due(SourceState("a", disabled=True), NOW)


def test_bounds_are_validated() -> None:
    with pytest.raises(ValueError, match="min_interval"):
        PollBounds(min_interval=timedelta(hours=1), default_interval=timedelta(minutes=15))

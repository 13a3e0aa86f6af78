"""The registry's rules in `sources.schedule`, as pure functions: the gone rule, the polling grid,
due selection and what `/sources` announces. The dispatcher, the fetcher and the API all use
these, so they agree by construction; these tests pin the rules themselves."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from newsroom.core.models import Source, SourceState
from newsroom.sources.schedule import (
    DispatchReport,
    due_sources,
    gone,
    next_poll_at,
    on_grid,
    select_due,
    source_status,
    state_to_poll,
    with_grid,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SOURCE = Source(id="pub", name="Pub", feed_url="https://pub.example/feed")
MINUTE = timedelta(minutes=1)


def healthy(next_poll: datetime, interval: timedelta = 15 * MINUTE) -> SourceState:
    return SourceState("pub", next_poll=next_poll, poll_interval_s=int(interval.total_seconds()), last_success=NOW)


def gone_state(url: str | None = SOURCE.feed_url) -> SourceState:
    return SourceState("pub", disabled=True, disabled_reason="gone: 410", feed_url_for=url)


# -- gone ---------------------------------------------------------------------------------------


def test_gone_is_disabled_for_the_url_the_source_still_has() -> None:
    assert gone(SOURCE, gone_state())
    assert gone(SOURCE, gone_state(None))  # disabled by an operator: no URL recorded
    assert not gone(SOURCE, gone_state("https://old.example/feed"))
    assert not gone(SOURCE, None) and not gone(SOURCE, SourceState("pub"))


def test_the_state_to_poll_from() -> None:
    assert state_to_poll(SOURCE, None) == SourceState("pub")
    assert state_to_poll(SOURCE, gone_state()) is None
    revived = state_to_poll(SOURCE, gone_state("https://old.example/feed"))
    assert revived is not None and not revived.disabled and revived.next_poll is None
    ordinary = healthy(NOW)
    assert state_to_poll(SOURCE, ordinary) is ordinary


# -- the grid -----------------------------------------------------------------------------------


def test_with_grid_remembers_the_scheduled_delay_in_whole_minutes() -> None:
    state = with_grid(SourceState("pub", next_poll=NOW + 15 * MINUTE + timedelta(seconds=20)), NOW)
    assert state.poll_interval_s == 15 * 60
    assert with_grid(SourceState("pub", next_poll=NOW + timedelta(seconds=5)), NOW).poll_interval_s == 60
    assert with_grid(SourceState("pub"), NOW).poll_interval_s is None


def test_on_grid_dispatches_each_grid_point_exactly_once() -> None:
    state = healthy(NOW - 40 * MINUTE)  # grid: -40, -25, -10, +5, +20, ... minutes
    ticks = [NOW + k * 5 * MINUTE for k in range(-2, 12)]
    dispatched = [now for since, now in itertools.pairwise(ticks) if on_grid(state, now, since)]
    # Each grid point is dispatched by the tick whose window (since, now] (moved by the slack) holds it.
    assert dispatched == [NOW + 5 * MINUTE, NOW + 20 * MINUTE, NOW + 35 * MINUTE, NOW + 50 * MINUTE]


def test_no_grid_means_due_by_next_poll_alone() -> None:
    assert on_grid(None, NOW, NOW - 5 * MINUTE)
    assert on_grid(healthy(NOW - 40 * MINUTE), NOW, None)  # the previous tick is unknown
    failing = SourceState("pub", next_poll=NOW - 40 * MINUTE, poll_interval_s=900, consecutive_failures=2)
    assert on_grid(failing, NOW, NOW - 5 * MINUTE)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (None, NOW),  # never polled: the next tick
        (SourceState("pub"), NOW),
        (healthy(NOW + 7 * MINUTE), NOW + 7 * MINUTE),  # not yet due: its next_poll
        (healthy(NOW - 40 * MINUTE), NOW + 5 * MINUTE),  # the first grid point at or after now
        (healthy(NOW - 30 * MINUTE), NOW),  # a grid point exactly now
        (SourceState("pub", next_poll=NOW - 40 * MINUTE, consecutive_failures=1, poll_interval_s=900), NOW),
        (SourceState("pub", next_poll=NOW - 40 * MINUTE), NOW),  # a state from before the grid
        (gone_state(), None),
        (gone_state("https://old.example/feed"), NOW),  # the new URL is polled at the next tick
    ],
)
def test_next_poll_at(state: SourceState | None, expected: datetime | None) -> None:
    assert next_poll_at(SOURCE, state, NOW) == expected


def test_the_announced_poll_is_the_one_the_dispatcher_makes() -> None:
    state = healthy(NOW - 40 * MINUTE)
    announced = next_poll_at(SOURCE, state, NOW)
    assert announced == NOW + 5 * MINUTE
    assert on_grid(state, announced, announced - 5 * MINUTE)
    assert not on_grid(state, NOW, NOW - 5 * MINUTE)


def test_a_source_disabled_in_its_settings_is_never_polled() -> None:
    off = Source(id="pub", name="Pub", feed_url=SOURCE.feed_url, enabled=False)
    assert next_poll_at(off, None, NOW) is None
    assert select_due([off], {}, NOW) == []


def test_source_status() -> None:
    assert source_status(None, None) == "disabled"
    assert source_status(None, NOW) == "unknown"
    assert source_status(SourceState("pub"), NOW) == "unknown"
    assert source_status(healthy(NOW), NOW) == "ok"
    assert source_status(SourceState("pub", last_error="x", consecutive_failures=1), NOW) == "failing"


# -- due selection ------------------------------------------------------------------------------


def test_select_due_and_its_counts() -> None:
    def source(source_id: str, *, enabled: bool = True) -> Source:
        return Source(id=source_id, name=source_id, feed_url=f"https://{source_id}.example/feed", enabled=enabled)

    sources = [source("new"), source("later"), source("gone"), source("off", enabled=False), source("moved")]
    states = {
        "later": SourceState("later", next_poll=NOW + timedelta(hours=1)),
        "gone": SourceState("gone", disabled=True, feed_url_for="https://gone.example/feed"),
        "moved": SourceState("moved", disabled=True, feed_url_for="https://old.example/feed"),
    }
    assert [s.id for s in select_due(sources, states, NOW)] == ["new", "moved"]
    assert due_sources(sources, states, NOW) == DispatchReport(sources=5, due=2, disabled=2, not_due=1)

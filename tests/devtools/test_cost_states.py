"""How `make cost` prices source states (issue 18): by their size after churn, and the
dispatcher's read of them as one Query billed by their total size."""

from __future__ import annotations

import math

from devtools import cost
from devtools.counting import read_units
from newsroom.core.models import RawEntry
from newsroom.fetch.seen import DIGEST_BYTES, SEEN_MAX, SEEN_MIN, fresh_entries


def _document(first: int, count: int) -> list[RawEntry]:
    return [RawEntry("s", f"g{n}", f"https://s.example/{n}", f"Entry {n}") for n in range(first, first + count)]


def test_a_state_keeps_the_digests_fetch_seen_keeps_after_churn() -> None:
    assert [cost.steady_seen_digests(n) for n in (0, 10, 31, 60, 400)] == [SEEN_MIN, SEEN_MIN, 62, 120, SEEN_MAX]
    for size in (10, 31, 60, 200):
        # A feed of `size` entries, polled as its entries come and go: what the fetcher keeps.
        seen = b""
        for first in range(0, 5 * size, max(1, size // 3)):
            _fresh, seen = fresh_entries(_document(first, size), seen)
        assert len(seen) // DIGEST_BYTES == cost.steady_seen_digests(size), size


def test_state_sizes_add_eight_bytes_a_digest_and_a_feed_of_fifty_entries_costs_two_write_units() -> None:
    sizes = cost.state_sizes(378, (50, 100))
    assert sizes == [378 + 4 + 400, 378 + 4 + 800]
    assert [math.ceil(s / 1024) for s in sizes] == [1, 2]
    assert cost.state_sizes(378, ()) == [378]


def test_the_dispatcher_s_state_read_is_billed_by_total_size_not_per_item() -> None:
    a = cost.Assumptions()
    month = cost.dispatcher_month(10_000, 0.0, a, state_bytes=944, dispatch_mb=256)
    per_tick = month.read_units / cost.ROUNDS_PER_MONTH
    states = read_units(10_000 * 944, consistent=False)
    registry = read_units(10_000 * a.registry_bytes_per_source, consistent=False)
    assert per_tick == states + registry + 1 + 0.5  # and the clock, and the seed marker
    assert states < 10_000 * 0.5 / 4  # a BatchGetItem: 0.5 unit a state

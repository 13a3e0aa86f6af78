"""The processing bench's own arithmetic, on a few synthetic articles: its figures are read in the
README, so the lines that derive them (the floor's parts and the room it leaves at each target) are
held here rather than found wrong the next time `make bench` runs."""

from __future__ import annotations

import re

import pytest

from benchmarks import bench_processing, synthetic
from newsroom.fetch.feeds import parse_feed


def _numbers(line: str) -> list[float]:
    return [float(n.replace(",", "")) for n in re.findall(r"-?\d[\d,]*\.?\d*", line)]


def test_the_floor_sums_its_parts_and_gives_the_room_left_at_each_target(capsys: pytest.CaptureFixture[str]) -> None:
    ctx = synthetic.context(range(1, 2))
    entries = parse_feed(
        synthetic.synthetic_feed(1, count=4), source_id="site1", base_url="https://x/", fetched_at=ctx.now
    ).entries
    count = len(entries)
    # Seconds for all `count` articles: the parse 50 µs an article, feedparser 800, the step 600.
    parse, reference, whole = 50e-6 * count, 800e-6 * count, 600e-6 * count
    bench_processing._floor(entries, ctx, parse_seconds=parse, reference_seconds=reference, whole_seconds=whole)
    lines = capsys.readouterr().out.splitlines()

    parts = [_numbers(line)[-1] for line in lines if line.startswith("  ")]
    assert len(parts) == 4 and parts[0] == 50  # the parse is the figure it was given
    floor_line = next(line for line in lines if line.startswith("FLOOR"))
    floor = _numbers(floor_line)[-1]
    assert floor == pytest.approx(sum(parts), abs=2)  # each part is rounded to a microsecond
    summary = next(line for line in lines if line.startswith("floor:"))
    *_, room_at_ratio, _, room_at_rate, _, above = _numbers(summary)  # ... µs at 4×, µs at 3,000/s, µs above
    assert room_at_ratio == pytest.approx(800 / 4 - floor, abs=2)  # 4× feedparser: 200 µs an article
    assert room_at_rate == pytest.approx(1e6 / 3_000 - floor, abs=2)
    assert above == pytest.approx(600 - floor, abs=2)

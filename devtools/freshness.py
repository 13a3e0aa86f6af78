"""Freshness of the polling schedule, simulated on real publication times (issue 18).

Freshness is the delay from an entry's publication to the poll that finds it. For every dated
feed in `../shared/corpus/` (real-feeds and crypto-2026-10-03) the feed's own publication times
are replayed against two rules, both taken from `newsroom.sources.schedule`:

  today     every source at the default interval (15 minutes)
  rhythm    `polling_interval` with the feed's entries per week (`entries_per_week`), re-read
            only when a poll finds a changed document (a 304 keeps the rhythm, as `fetch.poll`)

The dispatcher runs every `TICK`; a source is polled at the first tick at which it is due
(`DUE_SLACK` early, as `schedule.is_due`). The first quarter of a feed's entries (at least two)
are its history when the simulation starts, so the rhythm starts from a document, as a deployed
source's does after its first poll; delays are measured on the rest, polls counted from that
start to the last entry's publication. Feeds are classed by their observed rate: a busy wire
publishes at least 24 entries a day, a daily outlet at least one, a weekly blog fewer.

Not modelled: feed hints (ttl, Cache-Control; they only slow both rules alike), failures and
backoff, and a document truncated to its last N entries (the rhythm here sees every earlier
entry; a real document of 10-100 entries sees at least a day of a busy wire).

`python -m devtools.freshness` prints the table; `make cost` prices polls from it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "shared"))

from newsroom.sources.schedule import (  # noqa: E402
    DUE_SLACK,
    PollBounds,
    entries_per_week,
    polling_interval,
)

CORPORA = (ROOT.parent / "shared" / "corpus" / "real-feeds", ROOT.parent / "shared" / "corpus" / "crypto-2026-10-03")
TICK = timedelta(minutes=5)  # the dispatcher's schedule (template.yaml DispatchSourcesFunction)
DAY = timedelta(days=1)
CLASSES = ("busy wire", "daily outlet", "weekly blog")
# A rule: the interval to the next poll, from the entries the last parsed document held.
Rule = Callable[[Sequence[datetime], datetime], timedelta]


def classify(per_day: float) -> str:
    if per_day >= 24:
        return CLASSES[0]
    return CLASSES[1] if per_day >= 1 else CLASSES[2]


def today_rule(bounds: PollBounds) -> Rule:
    return lambda _document, _now: bounds.default_interval


def rhythm_rule(bounds: PollBounds) -> Rule:
    return lambda document, now: polling_interval(None, entries_per_week(document, now), bounds)


def next_tick(moment: datetime, *, due: bool = False) -> datetime:
    """The first dispatcher tick at or after `moment`; with `due`, the first tick at which a poll
    due at `moment` runs (up to `DUE_SLACK` early, as `schedule.is_due`)."""
    target = moment - DUE_SLACK if due else moment
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    ticks = math.ceil((target - epoch) / TICK)
    return epoch + ticks * TICK


@dataclass(frozen=True, slots=True)
class FeedRun:
    name: str
    klass: str
    delays: tuple[timedelta, ...]  # one per measured entry
    polls: int
    days: float  # the observed span: from the simulation's start to the last publication

    @property
    def polls_per_day(self) -> float:
        return self.polls / self.days


def warm_up(count: int) -> int:
    """How many of a feed's entries are its history when the simulation starts."""
    return max(2, count // 4)


def simulate(name: str, published: Sequence[datetime], rule: Rule) -> FeedRun:
    """Replay one feed's publication times (any order) against `rule`."""
    times = sorted(published)
    if len(times) < 3:
        raise ValueError(f"{name}: at least 3 dated entries are needed, {len(times)} given")
    known = warm_up(len(times))
    start = next_tick(times[known - 1])
    end = times[-1]
    document = list(times[:known])
    poll = start
    polls = 1
    interval = rule(document, poll)
    delays: list[timedelta] = []
    pending = list(times[known:])
    while pending:
        poll = next_tick(poll + interval, due=True)
        if poll <= end:
            polls += 1
        found = [t for t in pending if t <= poll]
        if found:
            delays.extend(poll - t for t in found)
            pending = pending[len(found) :]
            document.extend(found)
            interval = rule(document, poll)  # a changed document: the rhythm is read again
    per_day = (len(times) - 1) / max((times[-1] - times[0]) / DAY, 1e-9)
    return FeedRun(name, classify(per_day), tuple(delays), polls, max((end - start) / DAY, 1 / 24))


def percentile(values: Sequence[timedelta], share: float) -> timedelta:
    """Nearest-rank percentile (the smallest value with at least `share` of values at or below)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


@dataclass(frozen=True, slots=True)
class ClassFigures:
    klass: str
    feeds: int
    entries: int
    p95_today: timedelta
    p95_rhythm: timedelta
    polls_per_day_today: float  # per feed, mean over the class
    polls_per_day_rhythm: float


@dataclass(frozen=True, slots=True)
class Freshness:
    classes: tuple[ClassFigures, ...]

    @property
    def polls_removed(self) -> float:
        """The share of polls the rhythm removes, every feed of the corpus weighted alike."""
        today = sum(c.polls_per_day_today * c.feeds for c in self.classes)
        rhythm = sum(c.polls_per_day_rhythm * c.feeds for c in self.classes)
        return 1 - rhythm / today if today else 0.0

    def polls_per_source_day(self, *, rhythm: bool = True) -> float:
        """Mean polls a day of one source in the corpus's mix of classes."""
        feeds = sum(c.feeds for c in self.classes)
        total = sum((c.polls_per_day_rhythm if rhythm else c.polls_per_day_today) * c.feeds for c in self.classes)
        return total / feeds if feeds else 0.0


def compare(feeds: Mapping[str, Sequence[datetime]], bounds: PollBounds) -> Freshness:
    today = [simulate(name, times, today_rule(bounds)) for name, times in sorted(feeds.items())]
    rhythm = [simulate(name, times, rhythm_rule(bounds)) for name, times in sorted(feeds.items())]
    figures = []
    for klass in CLASSES:
        pairs = [(t, r) for t, r in zip(today, rhythm, strict=True) if t.klass == klass]
        if not pairs:
            continue
        figures.append(
            ClassFigures(
                klass=klass,
                feeds=len(pairs),
                entries=sum(len(t.delays) for t, _ in pairs),
                p95_today=percentile([d for t, _ in pairs for d in t.delays], 0.95),
                p95_rhythm=percentile([d for _, r in pairs for d in r.delays], 0.95),
                polls_per_day_today=sum(t.polls_per_day for t, _ in pairs) / len(pairs),
                polls_per_day_rhythm=sum(r.polls_per_day for _, r in pairs) / len(pairs),
            )
        )
    return Freshness(tuple(figures))


def corpus_times(corpora: Sequence[Path] = CORPORA) -> dict[str, list[datetime]]:
    """Each corpus feed's publication times, read by the production parser; feeds with fewer than
    three dated entries are left out (no rhythm to replay)."""
    from newsroom.fetch.feeds import FeedParseError, parse_feed

    feeds: dict[str, list[datetime]] = {}
    fetched = datetime(2027, 1, 1, tzinfo=UTC)
    for folder in corpora:
        for path in sorted(folder.glob("*.xml")):
            try:
                parsed = parse_feed(
                    path.read_bytes(), source_id=path.stem, base_url="https://example.com/", fetched_at=fetched
                )
            except FeedParseError:
                continue
            times = sorted({e.published for e in parsed.entries if e.published is not None})
            if len(times) >= 3:
                feeds[f"{folder.name}/{path.stem}"] = times
    return feeds


def _minutes(delay: timedelta) -> str:
    minutes = delay.total_seconds() / 60
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def report(freshness: Freshness, out: object = None) -> None:
    stream = out if out is not None else sys.stdout
    print(
        f"{'class':<14}{'feeds':>6}{'entries':>8}{'p95 today':>12}{'p95 rhythm':>12}"
        f"{'polls/day today':>17}{'polls/day rhythm':>18}",
        file=stream,  # type: ignore[arg-type]
    )
    for c in freshness.classes:
        print(
            f"{c.klass:<14}{c.feeds:>6}{c.entries:>8}{_minutes(c.p95_today):>12}{_minutes(c.p95_rhythm):>12}"
            f"{c.polls_per_day_today:>17.1f}{c.polls_per_day_rhythm:>18.1f}",
            file=stream,  # type: ignore[arg-type]
        )
    print(
        f"polls removed by the rhythm: {freshness.polls_removed:.0%} "
        f"({freshness.polls_per_source_day(rhythm=False):.1f} -> {freshness.polls_per_source_day():.1f} "
        "polls a source a day in the corpus's mix)",
        file=stream,  # type: ignore[arg-type]
    )


def main() -> int:
    report(compare(corpus_times(), PollBounds()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

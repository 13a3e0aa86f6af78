"""`python -m devtools.story_writes`: a new story's write units, by item family.

Runs what `make cost` runs (`devtools.cost.measure`: the sample feeds through the real handlers
on moto) and prints, for its "process-new" phase, the write units per new story each item family
costs (`devtools.counting.item_family`), the actions taken on it (a transaction's count twice) and
the sizes of the items put. The total is the "entry processed, new" WRU that `make cost` prices.

`--corpus` does the same for every entry of the corpus (`devtools.golden.documents`: each feed its
own source), stored in order by `ingest` into the in-memory DynamoDB: real publishers' stories,
copies and events, where the sample feeds are a handful of short synthetic ones.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "shared", ROOT):  # run as a script, as `make cost` runs devtools.cost
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from devtools.counting import Counts  # noqa: E402

PHASE = "process-new"


def breakdown(counts: Counts, stories: int, out: TextIO, phase: str = PHASE) -> dict[str, float]:
    """Print the per-story table of `phase`; return family → write units per story."""
    units: defaultdict[str, float] = defaultdict(float)
    actions: defaultdict[str, list[str]] = defaultdict(list)
    for (p, family, action), n in sorted(counts.family_units.items()):
        if p != phase:
            continue
        units[family] += n / stories
        taken = counts.family_actions[(p, family, action)] / stories
        actions[family].append(f"{taken:.2f} {action}")
    print(f"Write units per new story ({stories} stories, phase {phase}):", file=out)
    print(f"  {'item family':<20}{'WRU':>7}  {'bytes: mean':>12}{'max':>7}  actions per story", file=out)
    for family, per_story in sorted(units.items(), key=lambda kv: -kv[1]):
        sizes = counts.family_sizes.get((phase, family), [])
        mean = f"{statistics.fmean(sizes):.0f}" if sizes else "-"
        biggest = f"{max(sizes)}" if sizes else "-"
        print(f"  {family:<20}{per_story:>7.2f}  {mean:>12}{biggest:>7}  {', '.join(actions[family])}", file=out)
    total = sum(units.values())
    print(f"  {'total':<20}{total:>7.2f}  (every write counted: {counts.write_units[phase] / stories:.2f})", file=out)
    return dict(units)


class _Counted:
    """A DynamoDB client whose every call is reported to `counts`, as `counting.install` does
    for boto3's (the in-memory client is not botocore's)."""

    def __init__(self, client: Any, counts: Counts) -> None:
        self._client, self._counts = client, counts

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if not callable(method) or name.startswith("_") or name == "exceptions":
            return method
        operation = "".join(word.title() for word in name.split("_"))

        def call(**params: Any) -> Any:
            response = method(**params)
            self._counts.record("dynamodb", operation, params, response or {})
            return response

        return call


def corpus(out: TextIO) -> dict[str, float]:
    """Every corpus entry through `ingest` (dedupe, the story's transaction, its event's join)."""
    from devtools import golden
    from devtools.memory_dynamodb import memory_store
    from newsroom.core.models import Source, SourceState
    from newsroom.fetch.apply import poll_source
    from newsroom.fetch.http import FetchPolicy, HttpResult
    from newsroom.fetch.seen import fresh_entries
    from newsroom.process.build import EntryRejected
    from newsroom.process.ingest import ingest

    documents = [d for d in golden.documents() if d.name.startswith("corpus/")]
    sources = tuple(Source(id=f"c{n}", name=f"Corpus {n}", feed_url=d.source.feed_url) for n, d in enumerate(documents))
    ctx = golden._context(sources)
    counts = Counts()
    store = memory_store(clock=ctx.now.timestamp)
    store._db = _Counted(store._db, counts)
    stories = 0
    for document, source in zip(documents, sources, strict=True):

        def answer(url: str, policy: FetchPolicy, served: Any = document, **_: Any) -> HttpResult:
            return HttpResult(200, url, served.body, served.headers, False, None, None, None)

        _, entries, report = poll_source(source, SourceState(source.id), FetchPolicy(), now=ctx.now, get=answer)
        if report.status == "error":
            continue
        for entry in fresh_entries(entries, b"")[0]:
            try:
                with counts.during("corpus"):
                    outcome = ingest(entry, store, ctx).outcome.value
            except EntryRejected:
                continue
            stories += outcome == "created"
    return breakdown(counts, max(1, stories), out, phase="corpus")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", action="store_true", help="the corpus's entries, not `make cost`'s run")
    args = parser.parse_args(argv)
    if args.corpus:
        corpus(sys.stdout)
        return 0
    from devtools.cost import measure

    counts, facts = measure()
    breakdown(counts, max(1, facts["process-new"]), sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`python -m devtools.story_writes`: a new story's write units, by item family.

Runs what `make cost` runs (`devtools.cost.measure`: the sample feeds through the real handlers
on moto) and prints, for its "process-new" phase, the write units per new story each item family
costs (`devtools.counting.item_family`), the actions taken on it (a transaction's count twice) and
the sizes of the items put. The total is the "entry processed, new" WRU that `make cost` prices.
"""

from __future__ import annotations

import statistics
import sys
from collections import defaultdict
from typing import TextIO

from devtools.counting import Counts

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
    print(f"  {'total':<20}{total:>7.2f}  (make cost: {counts.write_units[phase] / stories:.2f})", file=out)
    return dict(units)


def main() -> int:
    from devtools.cost import measure

    counts, facts = measure()
    breakdown(counts, max(1, facts["process-new"]), sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

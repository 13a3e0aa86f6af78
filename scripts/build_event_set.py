"""Resolve, split and freeze the event-grouping evaluation set (`benchmarks/eval/events.tsv`).

    .venv/bin/python scripts/build_event_set.py          # resolve every label, print the split
    .venv/bin/python scripts/build_event_set.py --check  # exit 1 if a label is unresolved or the test part changed
    .venv/bin/python scripts/build_event_set.py --freeze # record the test part's digest (once, before tuning)

`events.tsv` is hand-labelled (rules in `benchmarks/eval/EVENTS.md`): one row per item of the
crypto feeds of ../shared/corpus, naming the item by feed file and GUID (its link when it has no
GUID), never by its text, which the corpus README forbids copying. Every reference is resolved
with the product's own feed parser; an unresolved reference, an item listed twice, or an item of
those feeds left unlabelled stops the build.

The split is **by event**: an event (and so every same-event pair) is wholly in the development or
the test part, decided by a hash of its label. Events that contain an item named in
`same_event.tsv` (seen while tuning dedupe) are always development. The test part was frozen before
the grouping rule was tuned: `EVENTS_TEST.sha256` holds its digest, `--check` and the benchmark
verify it.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "shared") not in sys.path:
    sys.path.insert(0, str(ROOT / "shared"))

from newsroom.core.models import RawEntry  # noqa: E402
from newsroom.fetch.feeds import parse_feed  # noqa: E402

CORPUS = ROOT / ".." / "shared" / "corpus"
EVAL = ROOT / "benchmarks" / "eval"
EVENTS = EVAL / "events.tsv"
SAME_EVENT = EVAL / "same_event.tsv"
FROZEN = EVAL / "EVENTS_TEST.sha256"
# Every crypto feed of the corpus: all of crypto-2026-10-03, and the crypto ones of real-feeds.
FEEDS = (
    *(f"crypto-2026-10-03/{stem}" for stem in ("beincrypto", "coindesk", "cointelegraph", "cryptoslate")),
    *(f"crypto-2026-10-03/{stem}" for stem in ("decrypt", "theblock", "utoday")),
    "real-feeds/coindesk-skel-ext3",
    "real-feeds/cointelegraph-skel-ext3",
    "real-feeds/decrypt-skel-ext3",
    "real-feeds/theblock-skel-ext3",
    "real-feeds/hodlhodl-medium-RSParser",
)
COLUMNS = ("file", "item_ref", "event", "uncertain")
TEST_PERCENT = 50
SALT = "events-v1"
MIN_TEST_PAIRS = 40
PARSE_TIME = datetime(2026, 12, 1, tzinfo=UTC)


class LabelError(SystemExit):
    """The labels do not match the corpus: the build stops and says where."""


@dataclass(frozen=True, slots=True)
class Labelled:
    file: str  # corpus folder / feed stem
    ref: str  # the item's GUID, or its link when it has none
    event: str
    uncertain: bool
    split: str  # "dev" or "test"
    entry: RawEntry

    @property
    def key(self) -> str:
        return f"{self.file}\t{self.ref}"


def source_id(file: str) -> str:
    """One outlet per feed file: the two captures of one outlet are distinct feeds, as in the product."""
    return file.replace("/", "--")


def parse(file: str) -> list[RawEntry]:
    path = CORPUS / f"{file}.xml"
    parsed = parse_feed(
        path.read_bytes(), source_id=source_id(file), base_url="https://corpus.invalid/", fetched_at=PARSE_TIME
    )
    return list(parsed.entries)


def read_labels() -> list[dict[str, str]]:
    lines = EVENTS.read_text(encoding="utf-8").splitlines()
    header = tuple(lines[0].split("\t"))
    if header != COLUMNS:
        raise LabelError(f"{EVENTS.name}: header {header} is not {COLUMNS}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) != len(COLUMNS) or cells[3] not in ("0", "1") or not cells[2]:
            raise LabelError(f"{EVENTS.name}:{number}: malformed row {line!r}")
        rows.append(dict(zip(COLUMNS, cells, strict=True)))
    return rows


def _dev_only_links() -> set[str]:
    """Links of the items named in same_event.tsv (by feed stem and headline prefix)."""
    by_feed: dict[str, list[RawEntry]] = {}
    links: set[str] = set()
    for line in SAME_EVENT.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#") or line.startswith("kind\t"):
            continue
        _, feed_a, title_a, feed_b, title_b = line.split("\t")
        for feed, prefix in ((feed_a, title_a), (feed_b, title_b)):
            entries = by_feed.setdefault(feed, parse(f"real-feeds/{feed}"))
            matches = [e.link for e in entries if e.title.startswith(prefix)]
            if len(matches) != 1:
                raise LabelError(f"same_event.tsv: {feed} prefix {prefix!r} matches {len(matches)} items")
            links.add(matches[0])
    return links


def split_of(event: str) -> str:
    digest = int(hashlib.sha256(f"{SALT}:{event}".encode()).hexdigest()[:8], 16)
    return "test" if digest % 100 < TEST_PERCENT else "dev"


def load() -> list[Labelled]:
    """Every labelled item, resolved against the corpus, with its split. Raises LabelError on any mismatch."""
    rows = read_labels()
    entries: dict[tuple[str, str], RawEntry] = {}
    for file in FEEDS:
        for entry in parse(file):
            ref = entry.guid or entry.link
            if (file, ref) in entries:
                raise LabelError(f"{file}: two items share the reference {ref!r}")
            entries[(file, ref)] = entry
    seen: set[tuple[str, str]] = set()
    for row in rows:
        key = (row["file"], row["item_ref"])
        if key not in entries:
            raise LabelError(f"{EVENTS.name}: {row['file']} has no item {row['item_ref']!r}")
        if key in seen:
            raise LabelError(f"{EVENTS.name}: {row['file']} {row['item_ref']!r} is labelled twice")
        seen.add(key)
    missing = sorted(set(entries) - seen)
    if missing:
        raise LabelError(f"{EVENTS.name}: {len(missing)} items unlabelled, first {missing[0]}")
    dev_links = _dev_only_links()
    forced = {row["event"] for row in rows if entries[(row["file"], row["item_ref"])].link in dev_links}
    return [
        Labelled(
            file=row["file"],
            ref=row["item_ref"],
            event=row["event"],
            uncertain=row["uncertain"] == "1",
            split="dev" if row["event"] in forced else split_of(row["event"]),
            entry=entries[(row["file"], row["item_ref"])],
        )
        for row in rows
    ]


def same_event_pairs(items: list[Labelled]) -> int:
    """Same-event pairs that count in the scores (neither item uncertain)."""
    sure = Counter(item.event for item in items if not item.uncertain)
    return sum(n * (n - 1) // 2 for n in sure.values())


def scored_pairs(items: list[Labelled]) -> int:
    sure = [item for item in items if not item.uncertain]
    return sum(1 for _ in combinations(sure, 2))


def test_digest(items: list[Labelled]) -> str:
    lines = sorted(
        f"{item.file}\t{item.ref}\t{item.event}\t{int(item.uncertain)}" for item in items if item.split == "test"
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def frozen_digest() -> str | None:
    return FROZEN.read_text().split()[0] if FROZEN.exists() else None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="verify the labels and the frozen test part")
    parser.add_argument("--freeze", action="store_true", help="record the test part's digest (once, before tuning)")
    args = parser.parse_args(argv)
    items = load()
    digest = test_digest(items)
    if args.check:
        ok = frozen_digest() == digest
        print("labels resolve and the test part is frozen" if ok else "the test part differs from its freeze")
        return 0 if ok else 1
    for split in ("dev", "test"):
        part = [item for item in items if item.split == split]
        events = {item.event for item in part}
        print(
            f"{split:<5} {len(part):>4} items, {len(events):>4} events, {sum(i.uncertain for i in part):>3} uncertain, "
            f"{same_event_pairs(part):>4} same-event pairs of {scored_pairs(part)} scored"
        )
    test_pairs = same_event_pairs([item for item in items if item.split == "test"])
    if test_pairs < MIN_TEST_PAIRS:
        print(f"the test part holds {test_pairs} same-event pairs, fewer than {MIN_TEST_PAIRS}")
        return 1
    if args.freeze:
        FROZEN.write_text(f"{digest}  test rows of events.tsv, frozen {datetime.now(UTC):%Y-%m-%d} before tuning\n")
        print(f"frozen: {digest}")
    else:
        print(f"test digest {digest} ({'frozen' if frozen_digest() == digest else 'NOT the frozen one'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

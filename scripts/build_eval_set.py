"""Build the dedupe/attribution evaluation set from the real feeds in ../shared/corpus/real-feeds.

    .venv/bin/python scripts/build_eval_set.py          # (re)write benchmarks/eval/pairs.tsv
    .venv/bin/python scripts/build_eval_set.py --check  # exit 1 if the frozen test part changed

What is stored, and why: the corpus README asks that its files are not copied into the project,
so `pairs.tsv` holds only labels and references — feed file stems, item links, class names and
transformation names — and `benchmarks/bench_dedupe.py` regenerates every text from
../shared/corpus at run time by applying the named transformation (footer marker, excerpt, light
edit, …) to the referenced item. The hand-labelled hard negatives (`same_event.tsv`) reference
items by feed and headline prefix for the same reason.

The set is deterministic (a fixed seed, items in corpus order). Pairs are split into a
development part and a test part **by story** (the original item's link, hashed), so no story
has a copy in both. The test part was frozen before any threshold was tuned: `FROZEN_TEST.sha256`
holds the digest of its rows, `--check` (and the benchmark) verify it, and the thresholds in
`newsroom.process.dedupe` were only ever tuned on the development part.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared"))

from newsroom.core.reading import html_to_text  # noqa: E402
from newsroom.fetch.feeds import parse_feed  # noqa: E402

CORPUS = ROOT / ".." / "shared" / "corpus" / "real-feeds"
EVAL = ROOT / "benchmarks" / "eval"
PAIRS = EVAL / "pairs.tsv"
SAME_EVENT = EVAL / "same_event.tsv"
FROZEN = EVAL / "FROZEN_TEST.sha256"
SEED = 20251212
TEST_PERCENT = 40

# Feeds whose items are themselves aggregator pointers, not articles.
NOT_ORIGINALS = frozenset({"google-alerts-feedjira", "google-news-be-fr-prof18-RSS-Parser"})

MARKER_CLASSES = (
    "read-original",
    "appeared-first",
    "originally-published",
    "republished",
    "source-line",
    "via",
    "canonical-link",
    "syndication-meta",
    "google-news-source",
    "atom-source",
    "dc-source",
    "feedburner-origlink",
    "aggregator-redirect",
)
UNMARKED_CLASSES = ("retitled", "excerpt", "light-edit", "tracking-url", "extra-footer")
PER_MARKER_CLASS = 24
PER_UNMARKED_CLASS = 32
PER_SYNTHETIC_NEGATIVE = 30
MIN_WORDS_MARKED = 12
MIN_WORDS_UNMARKED = 15
MIN_WORDS_EXCERPT = 80
COLUMNS = ("pair", "split", "group", "cls", "a_feed", "a_ref", "b_feed", "b_ref", "copy_first", "expect_dup")


@dataclass(frozen=True, slots=True)
class Item:
    feed: str
    link: str
    words: int
    published: datetime | None


def load_items() -> list[Item]:
    items: list[Item] = []
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for path in sorted(CORPUS.glob("*.xml")):
        parsed = parse_feed(path.read_bytes(), source_id=path.stem, base_url="https://corpus.invalid/", fetched_at=now)
        seen: set[str] = set()
        for entry in parsed.entries:
            if entry.link in seen:
                continue
            seen.add(entry.link)
            body = max(entry.content_html, entry.summary_html, key=len)
            items.append(Item(path.stem, entry.link, len(html_to_text(body).split()), entry.published))
    return items


def split_of(story: str) -> str:
    digest = int(hashlib.sha256(story.encode()).hexdigest()[:8], 16)
    return "test" if digest % 100 < TEST_PERCENT else "dev"


def build_rows() -> list[dict[str, str]]:
    items = load_items()
    rng = random.Random(SEED)  # noqa: S311 - seeded, reproducible data, not security
    originals = [i for i in items if i.feed not in NOT_ORIGINALS]
    rows: list[dict[str, str]] = []

    def add(group: str, cls: str, a: Item, b_feed: str, b_ref: str, *, copy_first: bool, dup: bool, story: str) -> None:
        rows.append(
            {
                "pair": f"p{len(rows):04d}",
                "split": split_of(story),
                "group": group,
                "cls": cls,
                "a_feed": a.feed,
                "a_ref": a.link,
                "b_feed": b_feed,
                "b_ref": b_ref,
                "copy_first": "1" if copy_first else "0",
                "expect_dup": "1" if dup else "0",
            }
        )

    def pick(pool: list[Item], count: int) -> list[Item]:
        chosen = pool[:]
        rng.shuffle(chosen)
        return (chosen * (count // max(1, len(chosen)) + 1))[:count]

    marked_pool = [i for i in originals if i.words >= MIN_WORDS_MARKED]
    for cls in MARKER_CLASSES:
        for n, item in enumerate(pick(marked_pool, PER_MARKER_CLASS)):
            add("marker", cls, item, "aggwire", cls, copy_first=n % 2 == 1, dup=True, story=item.link)
    unmarked_pool = [i for i in originals if i.words >= MIN_WORDS_UNMARKED]
    excerpt_pool = [i for i in originals if i.words >= MIN_WORDS_EXCERPT]
    for cls in UNMARKED_CLASSES:
        pool = excerpt_pool if cls == "excerpt" else unmarked_pool
        for n, item in enumerate(pick(pool, PER_UNMARKED_CLASS)):
            # Half the copies come from an aggregator, half from a source registered as an
            # original publisher, where only the publication time tells who was first.
            copier = "aggwire" if n % 2 == 0 else "republisher"
            add("unmarked", cls, item, copier, cls, copy_first=n % 4 in (1, 2), dup=True, story=item.link)

    # Hard negatives, hand-labelled: same event or topic, independently written.
    by_title = _titles()
    for line in SAME_EVENT.read_text().splitlines():
        if not line or line.startswith("#") or line.startswith("kind\t"):
            continue
        kind, feed_a, title_a, feed_b, title_b = line.split("\t")
        link_a, link_b = by_title(feed_a, title_a), by_title(feed_b, title_b)
        a = next(i for i in items if i.link == link_a)
        story = min(link_a, link_b)
        add("negative", f"same-{kind}", a, feed_b, link_b, copy_first=False, dup=False, story=story)

    # Different stories from two sources on the same day (the crypto feeds), chosen at random.
    crypto = [i for i in originals if i.feed.endswith("-skel-ext3") and not i.feed.startswith("prnewswire")]
    pairs: set[tuple[str, str]] = set()
    labelled = {(r["a_ref"], r["b_ref"]) for r in rows} | {(r["b_ref"], r["a_ref"]) for r in rows}
    while len(pairs) < PER_SYNTHETIC_NEGATIVE:
        a, b = rng.sample(crypto, 2)
        if a.feed == b.feed or (a.link, b.link) in labelled or (a.link, b.link) in pairs:
            continue
        pairs.add((a.link, b.link))
        add("negative", "same-day-unrelated", a, b.feed, b.link, copy_first=False, dup=False, story=min(a.link, b.link))
    # Short items (a headline and a sentence) from two sources with the same boilerplate appended.
    short = [i for i in crypto if MIN_WORDS_MARKED <= i.words <= 30]
    for n in range(PER_SYNTHETIC_NEGATIVE):
        a, b = rng.sample(short, 2)
        add(
            "negative",
            "shared-boilerplate",
            a,
            b.feed,
            f"{b.link}#boilerplate{n % 3}",
            copy_first=False,
            dup=False,
            story=min(a.link, b.link),
        )
    # A site's templated daily posts: the same template, other figures, another day.
    for n in range(PER_SYNTHETIC_NEGATIVE):
        a = rng.choice(crypto)
        add(
            "negative",
            "templated-daily",
            a,
            a.feed,
            f"template{n % 5}:day{n}",
            copy_first=False,
            dup=False,
            story=f"{a.link}#t{n}",
        )
    return rows


def _titles() -> Callable[[str, str], str]:
    """A lookup of an item's link by feed stem and headline prefix (which must be unique)."""
    cache: dict[str, list[tuple[str, str]]] = {}

    def find(feed: str, prefix: str) -> str:
        if feed not in cache:
            parsed = parse_feed(
                (CORPUS / f"{feed}.xml").read_bytes(),
                source_id=feed,
                base_url="https://corpus.invalid/",
                fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
            cache[feed] = [(e.title, e.link) for e in parsed.entries]
        matches = [link for title, link in cache[feed] if title.startswith(prefix)]
        if len(matches) != 1:
            raise SystemExit(f"{feed}: headline prefix {prefix!r} matches {len(matches)} items")
        return matches[0]

    return find


def test_digest(rows: list[dict[str, str]]) -> str:
    lines = ["\t".join(row[c] for c in COLUMNS) for row in rows if row["split"] == "test"]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def write(rows: list[dict[str, str]]) -> None:
    lines = ["\t".join(COLUMNS)] + ["\t".join(row[c] for c in COLUMNS) for row in rows]
    PAIRS.write_text("\n".join(lines) + "\n")


def read_pairs() -> list[dict[str, str]]:
    lines = PAIRS.read_text().splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:] if line]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="verify pairs.tsv and the frozen test part")
    parser.add_argument("--freeze", action="store_true", help="record the test part's digest (once, before tuning)")
    args = parser.parse_args(argv)
    rows = build_rows()
    digest = test_digest(rows)
    if args.check:
        stored = read_pairs()
        ok = stored == rows and FROZEN.exists() and FROZEN.read_text().split()[0] == digest
        print("eval set reproduces and the test part is frozen" if ok else "eval set differs from its build or freeze")
        return 0 if ok else 1
    write(rows)
    if args.freeze or not FROZEN.exists():
        FROZEN.write_text(f"{digest}  test rows of pairs.tsv, frozen {datetime.now(UTC):%Y-%m-%d} before tuning\n")
    counts = Counter((row["group"], row["cls"], row["split"]) for row in rows)
    print(f"{len(rows)} pairs written to {PAIRS.relative_to(ROOT)}")
    for (group, cls, split), count in sorted(counts.items()):
        print(f"  {group:<9}{cls:<22}{split:<6}{count:>4}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

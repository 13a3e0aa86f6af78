"""Event grouping, measured: the labelled crypto feeds (`benchmarks/eval/events.tsv`, built and
frozen by `scripts/build_event_set.py`), scored on the frozen test part and, for reference, on the
development part the rule was tuned on.

Every labelled item becomes an Article exactly as the processor builds it (`build_article` with a
ProcessingContext whose sources are the corpus feeds), then:

- *every story alone* — no grouping at all;
- *title Jaccard* — two stories are one event when the Jaccard similarity of their titles'
  non-stopword words is at least 0.5 and they were published within 48 hours of each other,
  closed transitively (single link);
- *ours* — `newsroom.process.events.group` over the stories' signatures.

Scores (`benchmarks/event_metrics.py`): pairwise precision, recall and F1 with 95 % Wilson
intervals, B-cubed precision/recall/F1 and the adjusted Rand index. Pairs involving an item
labelled uncertain are left out: the scores run over the other items only. The CPU line times
`signature` plus the pairwise decisions against its candidates per story, on one core.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks.event_metrics import PairScores, adjusted_rand, bcubed, labels_of, pairwise
from newsroom.core.models import Article, Source, SourceRole
from newsroom.process import events
from newsroom.process.build import ProcessingContext, build_article

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "scripts") not in sys.path:
    sys.path.insert(0, str(ROOT / "scripts"))

import build_event_set  # type: ignore[import-not-found]  # noqa: E402

JACCARD_THRESHOLD = 0.5
JACCARD_WINDOW = timedelta(hours=48)
# English function words, and the words every crypto headline shares; what is left is what the
# title is about.
_STOPWORD_TEXT = """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers him his how i if in into is it its itself just me more most my
    no nor not now of off on once only or other our out over own same she should so some such than
    that the their them then there these they this those through to too under until up very was we
    were what when where which while who whom why will with would you your says said new"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_WORD = re.compile(r"[a-z0-9][a-z0-9$%.,']*[a-z0-9%]|[a-z0-9]")


@dataclass(frozen=True, slots=True)
class Story:
    item: build_event_set.Labelled
    article: Article


def build_stories(items: Iterable[build_event_set.Labelled]) -> list[Story]:
    """Each labelled item as the processor would store it."""
    items = list(items)
    sources: dict[str, Source] = {}
    for item in items:
        sid = build_event_set.source_id(item.file)
        if sid not in sources:
            host = urlsplit(item.entry.link)
            sources[sid] = Source(
                id=sid,
                name=item.file.split("/")[1],
                feed_url=f"{host.scheme}://{host.netloc}/feed",
                homepage=f"{host.scheme}://{host.netloc}",
                role=SourceRole.ORIGINAL,
            )
    latest = max(item.entry.published or build_event_set.PARSE_TIME for item in items)
    ctx = ProcessingContext.build(
        tuple(sources.values()),
        site_name="CryptoCompass",
        desk_name="CryptoCompass newsroom",
        editorial_image_base_url="https://cdn.example/editorial",
        max_body_bytes=180_000,
        now=latest + timedelta(days=1),
    )
    stories = []
    for item in items:
        entry = replace(item.entry, fetched_at=(item.entry.published or latest) + timedelta(minutes=5))
        stories.append(Story(item, build_article(entry, ctx)))
    return stories


def _title_words(title: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(title.lower()) if w not in STOPWORDS)


def _components(ids: list[str], linked: Callable[[int, int], bool]) -> list[set[str]]:
    parent = list(range(len(ids)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(ids)):
        for j in range(i + 1, len(ids)):
            if linked(i, j):
                parent[find(i)] = find(j)
    groups: dict[int, set[str]] = {}
    for i, story_id in enumerate(ids):
        groups.setdefault(find(i), set()).add(story_id)
    return list(groups.values())


def title_jaccard(articles: list[Article]) -> list[set[str]]:
    words = [_title_words(a.title) for a in articles]

    def linked(i: int, j: int) -> bool:
        if abs(articles[i].published - articles[j].published) > JACCARD_WINDOW:
            return False
        union = words[i] | words[j]
        return bool(union) and len(words[i] & words[j]) / len(union) >= JACCARD_THRESHOLD

    return _components([a.id for a in articles], linked)


def ours(articles: list[Article]) -> list[set[str]]:
    return events.group(events.signature(a) for a in articles)


def every_story_alone(articles: list[Article]) -> list[set[str]]:
    return [{a.id} for a in articles]


METHODS: dict[str, Callable[[list[Article]], list[set[str]]]] = {
    "every story alone": every_story_alone,
    f"title Jaccard ≥ {JACCARD_THRESHOLD} within 48 h": title_jaccard,
    "ours (newsroom.process.events)": ours,
}


@dataclass(frozen=True, slots=True)
class Scores:
    pairs: PairScores
    bcubed: tuple[float, float, float]
    ari: float


def score(stories: list[Story], clusters: list[set[str]]) -> Scores:
    """Scores over the items not labelled uncertain (the clusters may hold any items)."""
    sure = [s for s in stories if not s.item.uncertain]
    truth = {s.article.id: s.item.event for s in sure}
    predicted = labels_of(clusters, [s.article.id for s in sure])
    return Scores(pairwise(truth, predicted), bcubed(truth, predicted), adjusted_rand(truth, predicted))


def evaluate(stories: list[Story]) -> dict[str, Scores]:
    articles = [s.article for s in stories]
    return {name: score(stories, method(articles)) for name, method in METHODS.items()}


def errors(stories: list[Story]) -> tuple[list[tuple[Story, Story]], list[tuple[Story, Story]]]:
    """(false merges, missed pairs) of ours, among items not labelled uncertain."""
    sure = [s for s in stories if not s.item.uncertain]
    predicted = labels_of(ours([s.article for s in stories]), [s.article.id for s in sure])
    false, missed = [], []
    for n, a in enumerate(sure):
        for b in sure[n + 1 :]:
            same_label, same_group = a.item.event == b.item.event, predicted[a.article.id] == predicted[b.article.id]
            if same_group and not same_label:
                false.append((a, b))
            elif same_label and not same_group:
                missed.append((a, b))
    return false, missed


def _interval(p: tuple[float, float, float]) -> str:
    if p[0] != p[0]:  # no pairs to score (nothing predicted): undefined, not perfect
        return "—"
    return f"{p[0]:.3f} [{p[1]:.3f}–{p[2]:.3f}]"


def report(title: str, stories: list[Story]) -> dict[str, Scores]:
    results = evaluate(stories)
    sure = [s for s in stories if not s.item.uncertain]
    pairs = next(iter(results.values())).pairs.actual
    print(
        f"\n{title}: {len(stories)} stories ({len(stories) - len(sure)} uncertain, left out), {pairs} same-event pairs"
    )
    print(
        f"{'method':<36}{'pairwise P [95% CI]':>22}{'pairwise R [95% CI]':>22}{'F1':>7}"
        f"{'B3 P':>7}{'B3 R':>7}{'B3 F1':>7}{'ARI':>7}"
    )
    for name, s in results.items():
        p3, r3, f3 = s.bcubed
        print(
            f"{name:<36}{_interval(s.pairs.precision_interval()):>22}{_interval(s.pairs.recall_interval()):>22}"
            f"{s.pairs.f1:>7.3f}{p3:>7.3f}{r3:>7.3f}{f3:>7.3f}{s.ari:>7.3f}"
        )
    return results


def cpu_per_story(stories: list[Story], rounds: int = 5) -> float:
    """Microseconds per story for its signature and its decisions against its candidates (the
    stories sharing a lookup key with it, as the index would return them), best of `rounds`."""
    articles = [s.article for s in stories]
    sigs = [events.signature(a) for a in articles]
    index: dict[str, list[events.EventSignature]] = {}
    for sig in sigs:
        for key in events.lookup_keys(sig, events.LOOKUP_KEYS):
            index.setdefault(key, []).append(sig)
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for article in articles:
            sig = events.signature(article)
            seen: set[str] = set()
            for key in events.lookup_keys(sig, events.LOOKUP_KEYS):
                for other in index.get(key, ()):
                    if other.story_id != sig.story_id and other.story_id not in seen:
                        seen.add(other.story_id)
                        events.same_event(sig, other)
        best = min(best, time.process_time() - started)
    return best / len(articles) * 1e6


OCTOBER_CAPTURE = "crypto-2026-10-03/"


def impostor_ties(stories: list[Story]) -> tuple[int, int]:
    """A precision check that needs no labels: the development part's December stories
    (`real-feeds/`) moved by the gap between the two captures' median times, against its October
    stories (`crypto-2026-10-03/`). Two months apart they cannot report one occurrence, so every
    tie between the two groups is a false one, whatever the topic. (tied pairs, pairs tried)"""
    sure = [s for s in stories if not s.item.uncertain]
    october = [events.signature(s.article) for s in sure if s.item.file.startswith(OCTOBER_CAPTURE)]
    december = [events.signature(s.article) for s in sure if not s.item.file.startswith(OCTOBER_CAPTURE)]
    if not october or not december:
        return (0, 0)
    gap = (
        sorted(x.published for x in october)[len(october) // 2]
        - sorted(x.published for x in december)[len(december) // 2]
    )
    moved = [replace(x, story_id=f"moved:{x.story_id}", published=x.published + gap) for x in december]
    tied = sum(1 for a in moved for b in october if events.same_event(a, b) is not None)
    return (tied, len(moved) * len(october))


def main() -> None:
    items = build_event_set.load()
    digest = build_event_set.test_digest(items)
    frozen = build_event_set.frozen_digest()
    status = "unchanged" if digest == frozen else "CHANGED SINCE FREEZE"
    print(f"evaluation set: benchmarks/eval/events.tsv, test part {status} ({digest})")
    stories = build_stories(items)
    report(
        "TEST part (frozen before tuning; changes after its first run: README)",
        [s for s in stories if s.item.split == "test"],
    )
    dev = [s for s in stories if s.item.split == "dev"]
    report("development part (tuned on)", dev)
    tied, tried = impostor_ties(dev)
    print(f"impostor ties (development part, December stories moved into October; all false): {tied} of {tried} pairs")
    sigs = [events.signature(s.article) for s in stories]
    size = max(len(events.encode(sig)) for sig in sigs)
    print(f"\nCPU per story (signature + decisions against its candidates, one core): {cpu_per_story(stories):.0f} µs")
    print(f"largest signature, encoded: {size} bytes")

"""`same_event` over signatures compared once (`events.compare`, `events.tie`) decides as the
pairwise rule did when it rebuilt both sides' key maps for every pair: the rule as it was is
kept here, and both are run on every ordered pair of the labelled event corpus and of synthetic
stories (which share many keys, so most pairs reach the weights and the evidence)."""

from __future__ import annotations

from functools import cache

import pytest

from benchmarks import bench_events, synthetic
from devtools.backfill import process_document
from newsroom.process import events
from newsroom.process.events import (
    COMMON_PIECE,
    STRONG_WEIGHT,
    THRESHOLD,
    TITLE_BONUS,
    TITLE_EVIDENCE,
    WINDOW,
    EventSignature,
    Tie,
)


def _reference_same_event(a: EventSignature, b: EventSignature) -> Tie | None:
    """`events.same_event` before signatures were compared once (at 546275f), unchanged."""
    _word, _common, _weight = events._word, events._common, events._weight

    def _evidence(shared: set[str], pairs: frozenset[str]) -> int:
        parent = {k[2:]: k[2:] for k in shared if k.startswith("w:") and not _common(k)}

        def root(word: str) -> str:
            while parent[word] != word:
                word = parent[word]
            return word

        for key in pairs:
            left, _, right = key[2:].partition(" ")
            if left in parent and right in parent:
                parent[root(left)] = root(right)
        return len({root(w) for w in parent}) + sum(1 for k in shared if k.startswith("a:"))

    if a.story_id == b.story_id or a.digest or b.digest or abs(a.published - b.published) > WINDOW:
        return None
    a_keys, b_keys = {_word(k): k for k in a.keys}, {_word(k): k for k in b.keys}
    shared = a_keys.keys() & b_keys.keys()
    if not shared:
        return None
    a_title = {_word(k) for k in a.keys[: a.title_keys]}
    b_title = {_word(k) for k in b.keys[: b.title_keys]}
    if not any(not _common(k) for k in shared & a_title) or not any(not _common(k) for k in shared & b_title):
        return None
    weights = {}
    for key in shared:
        named = a_keys[key].startswith("e:") or b_keys[key].startswith("e:")
        weights[key] = _weight(key, named) + (TITLE_BONUS if key in a_title and key in b_title else 0.0)
    weight = sum(weights.values())
    pairs = frozenset(k for k in (*a.keys, *b.keys) if k.startswith("b:"))
    both = shared & a_title & b_title
    common_both = COMMON_PIECE * sum(1 for k in both if k[0] == "w" and _common(k))
    evidence = _evidence(shared, pairs) + common_both
    if evidence < 2:
        return None
    if _evidence(both, pairs) + common_both < TITLE_EVIDENCE and evidence < 3 and weight < STRONG_WEIGHT:
        return None
    if a.source_id == b.source_id:
        weight /= 2
    if weight < THRESHOLD:
        return None
    terms = sorted(shared, key=lambda k: (-weights[k], k))
    return Tie(tuple(k.partition(":")[2] for k in terms if not k.startswith("b:")), weight)


@cache  # built once for both tests
def _labelled() -> tuple[EventSignature, ...]:
    return tuple(events.signature(s.article) for s in bench_events.build_stories(bench_events.build_event_set.load()))


@cache
def _synthetic(feeds: int = 2) -> tuple[EventSignature, ...]:
    seeds = range(1, feeds + 1)
    ctx = synthetic.context(seeds)
    return tuple(
        events.signature(done.article)
        for s in seeds
        for done in process_document(synthetic.synthetic_feed(s), source_id=f"site{s}", ctx=ctx)
    )


@pytest.mark.parametrize("corpus", [_labelled, _synthetic], ids=["labelled-events", "synthetic"])
def test_compared_signatures_decide_every_pair_as_the_rule_did(corpus: object) -> None:
    assert callable(corpus)
    signatures: tuple[EventSignature, ...] = corpus()
    compared = [events.compare(s) for s in signatures]
    tied = 0
    for a, ca in zip(signatures, compared, strict=True):
        for b, cb in zip(signatures, compared, strict=True):
            expected = _reference_same_event(a, b)
            assert events.tie(ca, cb) == expected, (a.story_id, b.story_id)
            assert events.same_event(a, b) == expected, (a.story_id, b.story_id)
            tied += expected is not None
    assert tied > len(signatures) // 4  # the comparison reached the rule's far end, not only its exits


@pytest.mark.parametrize("corpus", [_labelled, _synthetic], ids=["labelled-events", "synthetic"])
def test_a_stored_signature_is_compared_as_the_signature_it_encodes(corpus: object) -> None:
    """What a join reads back (`compared_signature` of the stored text) is what `compare` makes
    of the signature the story was given, and the second read is the remembered one."""
    assert callable(corpus)
    for sig in corpus():
        text = events.encode(sig)
        assert events.compared_signature(text) == events.compare(sig)
        assert events.compared_signature(text) is events.compared_signature(text)

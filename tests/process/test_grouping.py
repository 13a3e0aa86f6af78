"""Stories join events through the store (`process.grouping`): the labelled corpus gives the same
events in any arrival order and the same as the offline reference, a bridging story merges two
events into the older id, a replay changes nothing, and a lost race re-reads and joins."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from benchmarks import bench_events
from devtools.memory_dynamodb import memory_store
from newsroom.core.config import DEFAULT_EVENT_LIMITS
from newsroom.core.models import Article
from newsroom.process import events
from newsroom.process.grouping import join_event
from newsroom.store.dynamo import DynamoStore
from tests.process.test_events import KORVO, NOW, ZENTRIX_A, report


@pytest.fixture(scope="module")
def articles() -> list[Article]:
    stories = bench_events.build_stories(bench_events.build_event_set.load())
    return [s.article for s in stories]


def _partition(store: DynamoStore, ids: list[str]) -> list[list[str]]:
    joined = store.story_event_ids(ids)
    assert set(joined) == set(ids), "every stored story joined an event"
    live = store.get_events(sorted(set(joined.values())))
    groups: dict[str, list[str]] = {}
    for story, event in joined.items():
        groups.setdefault(live[event].event.id, []).append(story)
    return sorted(sorted(g) for g in groups.values())


def _run(arrivals: list[Article]) -> tuple[DynamoStore, list[list[str]]]:
    now = max(a.published for a in arrivals) + timedelta(hours=1)
    store = memory_store(clock=now.timestamp)
    for article in arrivals:
        store.create_article(article, guid=None)
        join_event(store, article, now=now)
    return store, _partition(store, [a.id for a in arrivals])


def test_the_stored_events_do_not_depend_on_arrival_order_and_equal_the_offline_grouping(
    articles: list[Article],
) -> None:
    unique = list({a.id: a for a in articles}.values())
    offline = sorted(sorted(c) for c in events.group(events.signature(a) for a in unique))
    rng = random.Random(17)
    for _ in range(3):
        order = unique[:]
        rng.shuffle(order)
        _, partition = _run(order)
        assert partition == offline
    assert any(len(group) > 2 for group in offline), "the corpus has events of several reports"


def _pair(articles: list[Article]) -> tuple[Article, Article]:
    """Two labelled reports that the rule ties."""
    sigs = {a.id: events.signature(a) for a in articles}
    for a in articles:
        for b in articles:
            if a.id < b.id and a.source_id != b.source_id and events.same_event(sigs[a.id], sigs[b.id]):
                return a, b
    raise AssertionError("no tied pair in the corpus")


def test_a_replayed_join_writes_nothing(articles: list[Article]) -> None:
    a, b = _pair(articles)
    store = memory_store()
    now = max(a.published, b.published)
    for article in (a, b):
        store.create_article(article, guid=None)
        join_event(store, article, now=now)
    before = store.get_event(a.id)
    again = join_event(store, b, now=now)
    assert again.replay
    assert store.get_event(a.id) == before
    assert before is not None and before.member_count == 2 and before.coverage == 2
    assert set(before.ties) and {m.story_id for m in before.members} == {a.id, b.id}


def test_a_bridging_story_merges_two_events_into_the_older_and_the_other_redirects() -> None:
    now = NOW + timedelta(hours=6)
    store = memory_store(clock=now.timestamp)
    bridge = report(
        "beta",
        "two-hacks",
        "Zentrix Exchange and Korvo Bridge Exploits: $12.5 Million and $40 Million Lost",
        "Zentrix lost $12.5 million from hot wallets; the Korvo bridge lost $40 million to forged messages.",
        hours=4,
    )
    assert events.same_event(events.signature(ZENTRIX_A), events.signature(KORVO)) is None
    assert events.same_event(events.signature(bridge), events.signature(ZENTRIX_A)) is not None
    assert events.same_event(events.signature(bridge), events.signature(KORVO)) is not None
    for article in (KORVO, ZENTRIX_A):  # Korvo's event is created first, Zentrix's is older news
        store.create_article(article, guid=None)
        join_event(store, article, now=now)
    assert store.get_event(KORVO.id).id != store.get_event(ZENTRIX_A.id).id  # type: ignore[union-attr]
    store.create_article(bridge, guid=None)
    joined = join_event(store, bridge, now=now)
    # The older event (the earlier first report: Zentrix's, published two hours before Korvo's)
    # keeps its id; Korvo's redirects to it, and both listings hold the merged event once.
    assert joined.event.id == ZENTRIX_A.id and joined.merged == (KORVO.id,)
    assert store.get_event(KORVO.id) == store.get_event(ZENTRIX_A.id) == joined.event
    assert joined.event.member_count == 3 and joined.event.coverage == 3
    assert joined.event.lead_story_id == ZENTRIX_A.id
    for listing in ("top", "latest"):
        page = store.list_events(listing, limit=10, cursor=None)
        assert [e.id for e in page.items] == [ZENTRIX_A.id]


def test_two_stories_of_one_event_racing_end_in_one_event(articles: list[Article]) -> None:
    a, b = _pair(articles)
    store = memory_store()
    now = max(a.published, b.published)
    for article in (a, b):
        store.create_article(article, guid=None)
    # b decides first, on an index without a; then a joins and writes; b's write must lose.
    read = store.read_event_index
    calls = {"n": 0}

    def read_then_let_a_in(keys: object) -> object:
        result = read(keys)  # type: ignore[arg-type]
        calls["n"] += 1
        if calls["n"] == 1:
            store.read_event_index = read  # type: ignore[method-assign]
            join_event(store, a, now=now)
        return result

    store.read_event_index = read_then_let_a_in  # type: ignore[method-assign]
    joined = join_event(store, b, now=now)
    assert calls["n"] == 1
    assert joined.event.member_count == 2
    assert _partition(store, [a.id, b.id]) == [sorted([a.id, b.id])]


def test_limits_match_the_rule() -> None:
    assert timedelta(hours=DEFAULT_EVENT_LIMITS.window_hours) == events.WINDOW
    assert DEFAULT_EVENT_LIMITS.lookup_keys == events.LOOKUP_KEYS

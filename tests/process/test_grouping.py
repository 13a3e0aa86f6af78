"""Stories join events through the store (`process.grouping`): the labelled corpus gives the same
events in any arrival order and the same as the offline reference, a bridging story merges two
events into the older id, a replay changes nothing, and a lost race re-reads and joins."""

from __future__ import annotations

import json
import random
import threading
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from benchmarks import bench_events
from devtools.faults import SimulatedCrash
from devtools.memory_dynamodb import memory_store
from newsroom.core.config import DEFAULT_EVENT_LIMITS
from newsroom.core.events import Event
from newsroom.core.models import Article, RawEntry
from newsroom.process import events
from newsroom.process.build import Outcome
from newsroom.process.grouping import MAX_MERGES, join_event, member_of, pending, plan_join
from newsroom.process.ingest import ingest
from newsroom.store.dynamo import DynamoStore
from newsroom.store.events import IndexEntry, KeyIndex, StoredEvent, StoryEvent
from newsroom.store.table import ConflictError
from tests.process.test_events import CTX, KORVO, NOW, ZENTRIX_A, ZENTRIX_B, report


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


def _bridge() -> Article:
    """A report of both the Zentrix hack and the Korvo bridge exploit: it ties with each."""
    return report(
        "beta",
        "two-hacks",
        "Zentrix Exchange and Korvo Bridge Exploits: $12.5 Million and $40 Million Lost",
        "Zentrix lost $12.5 million from hot wallets; the Korvo bridge lost $40 million to forged messages.",
        hours=4,
    )


def test_a_bridging_story_merges_two_events_into_the_older_and_the_other_redirects() -> None:
    now = NOW + timedelta(hours=6)
    store = memory_store(clock=now.timestamp)
    bridge = _bridge()
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
    # b decides first, on an index without a (as a stale read would show it); then a joins and
    # writes; b's write must lose, and b's second read must be strongly consistent.
    read = store.read_event_index
    reads: list[bool] = []

    def read_then_let_a_in(keys: Any, *, consistent: bool = True) -> Any:
        result = read(keys, consistent=consistent)
        reads.append(consistent)
        if len(reads) == 1:
            join_event(store, a, now=now)
        return result

    store.read_event_index = read_then_let_a_in  # type: ignore[method-assign]
    joined = join_event(store, b, now=now)
    # a's own read, inside b's first, is its first: eventually consistent, as b's first was.
    assert reads == [False, False, True]
    assert joined.event.member_count == 2
    assert _partition(store, [a.id, b.id]) == [sorted([a.id, b.id])]


def test_limits_match_the_rule() -> None:
    assert timedelta(hours=DEFAULT_EVENT_LIMITS.window_hours) == events.WINDOW
    assert DEFAULT_EVENT_LIMITS.lookup_keys == events.LOOKUP_KEYS


def test_a_sub_second_publication_leaves_one_top_entry_per_event() -> None:
    """Event times are whole seconds, as stored: the "top" entry a join deletes is the one the
    last join wrote (a sub-second time once made them differ, and both stayed listed)."""
    now = NOW + timedelta(hours=6)
    store = memory_store(clock=now.timestamp)
    first = replace(ZENTRIX_A, published=ZENTRIX_A.published + timedelta(microseconds=358_194))
    for article in (first, ZENTRIX_B):
        store.create_article(article, guid=None)
        join_event(store, article, now=now)
    for listing in ("top", "latest"):
        assert [e.id for e in store.list_events(listing, limit=10, cursor=None).items] == [first.id]


def test_a_story_stored_again_after_it_expired_joins_again() -> None:
    """Its old event item expired with it: the new copy joins anew, it is not a replay."""
    now = NOW + timedelta(hours=6)
    clock = {"t": now.timestamp()}
    store = memory_store(clock=lambda: clock["t"], retention=timedelta(days=30))
    limits = replace(DEFAULT_EVENT_LIMITS, retention_days=30)
    store.create_article(ZENTRIX_A, guid=None)
    join_event(store, ZENTRIX_A, now=now, limits=limits)
    later = now + timedelta(days=400)
    clock["t"] = later.timestamp()
    assert store.get_article(ZENTRIX_A.id) is None  # expired, TTL has not deleted it
    store.create_article(ZENTRIX_A, guid=None)
    assert store.get_article(ZENTRIX_A.id).event_id is None  # type: ignore[union-attr]
    again = join_event(store, ZENTRIX_A, now=later, limits=limits)
    assert not again.replay
    assert store.get_article(ZENTRIX_A.id).event_id == again.event.id  # type: ignore[union-attr]
    assert [e.id for e in store.list_events("latest", limit=10, cursor=None).items] == [again.event.id]


ZENTRIX_A_ENTRY = RawEntry(
    source_id="alpha",
    guid="alpha-zentrix-hack",
    link="https://alpha.example/zentrix-hack",
    title=ZENTRIX_A.title,
    summary_html=f"<p>{ZENTRIX_A.standfirst}</p>",
    published=NOW,
    fetched_at=NOW + timedelta(minutes=5),
)


def _between_lookup_items_and_transaction(store: DynamoStore, then: Any) -> None:
    """The next join's transaction runs `then()` first: its lookup items are written and its
    transaction, decided on what it read before them, is still to come."""
    transact = store._db.transact_write_items

    def first(**kw: Any) -> Any:
        store._db.transact_write_items = transact  # type: ignore[method-assign]
        then()
        return transact(**kw)

    store._db.transact_write_items = first  # type: ignore[method-assign]


def _crash_between_lookup_items_and_transaction(store: DynamoStore, article: Article, now: Any) -> None:
    """`article`'s join dies after writing its lookup items, before its transaction."""

    def crash() -> None:
        raise SimulatedCrash("between the lookup items and the transaction")

    _between_lookup_items_and_transaction(store, crash)
    with pytest.raises(SimulatedCrash):
        join_event(store, article, now=now)


def test_a_join_that_finds_a_join_in_progress_does_not_start_an_event_beside_it(articles: list[Article]) -> None:
    """a has written its lookup entries, its event not yet (a's plan saw no b), when b reads them:
    b must not start an event of its own, which a's transaction would then stand beside. b waits;
    a cannot finish meanwhile here, so b gives up for a retry (its message again), and then joins a."""
    a, b = _pair(articles)
    store = memory_store()
    now = max(a.published, b.published)
    for article in (a, b):
        store.create_article(article, guid=None)
    seen: list[object] = []

    def b_joins() -> None:
        try:
            seen.append(join_event(store, b, now=now))
        except ConflictError as exc:
            seen.append(exc)

    _between_lookup_items_and_transaction(store, b_joins)
    join_event(store, a, now=now)
    assert len(seen) == 1 and isinstance(seen[0], ConflictError), seen
    assert store.story_event_ids([b.id]) == {}
    join_event(store, b, now=now)
    assert _partition(store, [a.id, b.id]) == [sorted([a.id, b.id])]


def test_a_join_in_progress_is_waited_for_within_the_invocation(articles: list[Article]) -> None:
    """The same race with a finishing while b waits (two threads, as two processors): b joins a's
    event in the same invocation, without a retry."""
    a, b = _pair(articles)
    store = memory_store()
    now = max(a.published, b.published)
    for article in (a, b):
        store.create_article(article, guid=None)
    a_between, b_waiting = threading.Event(), threading.Event()
    signatures = store.story_signatures

    def noting(ids: Any) -> Any:
        found = signatures(ids)
        if a.id in ids and a.id not in found:
            b_waiting.set()
        return found

    store.story_signatures = noting  # type: ignore[method-assign]
    _between_lookup_items_and_transaction(store, lambda: (a_between.set(), b_waiting.wait(10)))
    writer = threading.Thread(target=join_event, args=(store, a), kwargs={"now": now})
    writer.start()
    assert a_between.wait(10)
    joined = join_event(store, b, now=now)
    writer.join(10)
    assert b_waiting.is_set() and joined.event.member_count == 2
    assert _partition(store, [a.id, b.id]) == [sorted([a.id, b.id])]


def test_a_crashed_joins_lookup_entries_are_passed_over_after_the_pending_window(articles: list[Article]) -> None:
    """A crash between a's lookup items and its transaction: b waits while a's entries are young
    enough to be a join in progress, then passes over them; a's message, again, joins b's event."""
    a, b = _pair(articles)
    store = memory_store()
    now = max(a.published, b.published)
    for article in (a, b):
        store.create_article(article, guid=None)

    _crash_between_lookup_items_and_transaction(store, a, now)
    keys = events.lookup_keys(events.signature(a))
    assert a.id in {e.story_id for index in store.read_event_index(keys).values() for e in index.entries}
    assert store.story_event_ids([a.id]) == {}
    with pytest.raises(ConflictError):
        join_event(store, b, now=now + timedelta(seconds=DEFAULT_EVENT_LIMITS.pending_seconds - 1))
    later = now + timedelta(seconds=DEFAULT_EVENT_LIMITS.pending_seconds + 1)
    assert join_event(store, b, now=later).event.member_count == 1
    assert join_event(store, a, now=later).event.member_count == 2  # its own entries passed over
    assert _partition(store, [a.id, b.id]) == [sorted([a.id, b.id])]


def test_a_late_story_whose_first_read_was_stale_still_meets_a_join_in_progress() -> None:
    """A late story (older than every lookup item's newest 12 entries, so its join would write
    each item as read) whose first, eventually consistent read of the items is stale misses a
    tying story's join in progress. Its items are written all the same, conditional on the
    versions read, so the stale read fails there, the consistent one finds the join in progress,
    and the two end in one event. Skipping the items as "unchanged" (found by the outside review)
    let it commit on the stale read: two events for two reports that tie."""
    late, other = ZENTRIX_A, ZENTRIX_B  # they tie; `late` was published 3 h before `other`
    now = NOW + timedelta(hours=6)
    store = memory_store(clock=now.timestamp)
    keys = sorted(set(events.lookup_keys(events.signature(late))) | set(events.lookup_keys(events.signature(other))))
    for key in keys:  # 12 reports under each key published between the two, none of them tying
        entries = [
            [
                f"{key}-{n:02d}".ljust(20, "x")[:20],
                f"ev-{n:02d}".ljust(20, "x"),
                int((NOW + timedelta(hours=1, minutes=n)).timestamp()),
            ]
            for n in reversed(range(12))
        ]
        store._db.put_item(
            TableName=store._table,
            Item={
                "PK": {"S": f"EVKEY#{key}"},
                "SK": {"S": "EVKEY"},
                "doc": {"S": json.dumps(entries)},
                "version": {"N": "1"},
                "expires_at": {"N": str(int(now.timestamp()) + 3600)},
            },
        )
    for article in (late, other):
        store.create_article(article, guid=None)
    lagging = store.read_event_index(keys)  # what a replica not yet updated returns
    read = store.read_event_index

    def maybe_stale(names: Any, *, consistent: bool = True) -> dict[str, KeyIndex]:
        found = read(names, consistent=consistent)
        return found if consistent else {k: lagging.get(k, KeyIndex(k, 0, ())) for k in found}

    store.read_event_index = maybe_stale  # type: ignore[method-assign]
    late_tried: list[BaseException | None] = []
    _between_lookup_items_and_transaction(store, lambda: late_tried.append(_joining(store, late, now)))
    join_event(store, other, now=now)
    assert late_tried and isinstance(late_tried[0], ConflictError)  # it waited, then gave up for a retry
    assert join_event(store, late, now=now).event.member_count == 2  # its message, again
    assert _partition(store, [late.id, other.id]) == [sorted([late.id, other.id])]


def test_a_retried_join_does_not_write_again_the_lookup_items_holding_its_entry() -> None:
    """A join whose transaction lost after its lookup items were written retries; the items
    already hold its entry as the retry would write it (times in whole seconds, as stored, though
    the clock and the publication time have microseconds), so it writes none of them again."""
    article = replace(ZENTRIX_A, published=ZENTRIX_A.published + timedelta(microseconds=250_000))
    now = NOW + timedelta(hours=6, microseconds=123_456)
    store = memory_store(clock=now.timestamp)
    store.create_article(article, guid=None)
    transact, put = store._transact, store._db.put_item
    lookup_writes: list[int] = []

    def losing_once(items: Any) -> None:
        store._transact = transact  # type: ignore[method-assign]
        lookup_writes.append(0)  # the retry's writes are counted from here
        raise ConflictError("another join changed the event first")

    def counting(**kwargs: Any) -> Any:
        if kwargs["Item"]["PK"]["S"].startswith("EVKEY#") and lookup_writes:
            lookup_writes[-1] += 1
        return put(**kwargs)

    store._transact = losing_once  # type: ignore[method-assign]
    store._db.put_item = counting  # type: ignore[method-assign]
    assert join_event(store, article, now=now).event.member_count == 1
    assert lookup_writes == [0]


def _joining(store: DynamoStore, article: Article, now: Any) -> BaseException | None:
    try:
        join_event(store, article, now=now)
    except ConflictError as exc:
        return exc
    return None


def test_a_story_tying_with_a_member_of_an_event_a_crashed_join_would_have_folded_joins_its_own_event() -> None:
    """A bridge's join crashes between its lookup items (which re-point Korvo's entries to the
    event it was to fold Korvo's into) and its transaction (which would have folded it). A later
    report that ties with Korvo alone joins Korvo's event, read from Korvo's own event item, not
    the event the re-pointed entry names, which never took Korvo in (outside review: with the
    entry's id first, it joined Zentrix's event)."""
    now = NOW + timedelta(hours=6)
    store = memory_store(clock=now.timestamp)
    bridge = _bridge()
    later = report(
        "alpha",
        "korvo-again",
        "Korvo Bridge Loses $40 Million to Forged Transfers",
        "The Korvo bridge lost $40 million after an attacker forged transfers.",
        hours=5,
    )
    assert events.same_event(events.signature(later), events.signature(KORVO)) is not None
    assert events.same_event(events.signature(later), events.signature(ZENTRIX_A)) is None
    for article in (KORVO, ZENTRIX_A):
        store.create_article(article, guid=None)
        join_event(store, article, now=now)
    store.create_article(bridge, guid=None)

    _crash_between_lookup_items_and_transaction(store, bridge, now)
    store.create_article(later, guid=None)
    joined = join_event(store, later, now=now + timedelta(seconds=DEFAULT_EVENT_LIMITS.pending_seconds + 1))
    assert store.get_event(KORVO.id) == joined.event != store.get_event(ZENTRIX_A.id)


def test_a_lookup_entry_written_inside_its_join_s_transaction_is_never_a_join_in_progress() -> None:
    """Entries written before joins left their transaction carry no time, and their story's event
    item was written with them: one found without it (expired) is passed over, never waited on."""
    now = NOW + timedelta(hours=6)
    legacy = IndexEntry("a" * 20, "a" * 20, NOW, written=None)
    young = IndexEntry("b" * 20, "b" * 20, NOW, written=now - timedelta(seconds=1))
    assert pending([legacy, young], {}, now=now) == (young.story_id,)


def test_a_story_stored_before_its_join_crashed_joins_when_redelivered() -> None:
    """A crash between the story's write and its join (here: events off for the first delivery)
    leaves a story with no event item; the redelivered message joins it (`ingest.joins_event`)."""
    now = NOW + timedelta(hours=6)
    store = memory_store(clock=now.timestamp)
    entry = ZENTRIX_A_ENTRY
    ingest(entry, store, replace(CTX, now=now, events=None))
    stored = store.get_article(ZENTRIX_A.id)
    assert stored is not None and stored.event_id is None
    again = ingest(entry, store, replace(CTX, now=now))
    stored = store.get_article(ZENTRIX_A.id)
    assert stored is not None and stored.event_id == ZENTRIX_A.id
    # It completed the story's creation, so it reports it created (the crashed delivery reported
    # nothing): `make soak`'s "one creation per story".
    assert again.outcome is Outcome.CREATED
    assert ingest(entry, store, replace(CTX, now=now)).outcome is Outcome.UNCHANGED


@pytest.mark.parametrize("short", [True, False], ids=["no-fingerprint", "rewritten"])
def test_a_correction_under_a_new_url_after_a_crash_updates_the_story_it_claimed(short: bool) -> None:
    """A crash right after a new story's transaction, then the same entry (its GUID) under a new
    URL, fetched before SQS redelivers the first: the GUID claim, written in the transaction,
    maps it to the story, which it corrects. Found by review (issue 18, 2026-12-03): with the
    claim written after the transaction to save a write unit, the correction became a second
    story (its text too short to fingerprint, or rewritten), counted twice, and the redelivered
    original then overwrote the correction; the claim went back into the transaction."""
    now = NOW + timedelta(hours=6)
    store = memory_store(clock=now.timestamp)
    ctx = replace(CTX, now=now)
    first_text = (
        "Zentrix drained."
        if short
        else (
            "Attackers took 12.5 million dollars from Zentrix hot wallets on Friday and the exchange "
            "paused withdrawals while it investigated the breach with outside security firms."
        )
    )
    later_text = (
        "Zentrix drained; refunds promised."
        if short
        else (
            "Completely rewritten: the exchange Zentrix now says losses reached 30 million and refunds "
            "are coming to every customer next week, regulators said."
        )
    )
    original = RawEntry(
        source_id="alpha",
        guid="g-1",
        link="https://alpha.example/zentrix-hack",
        title="Zentrix hacked",
        summary_html=f"<p>{first_text}</p>",
        published=NOW,
        fetched_at=NOW + timedelta(minutes=5),
    )
    correction = replace(
        original,
        link="https://alpha.example/zentrix-hack-updated",
        title="Zentrix hack: losses grow",
        summary_html=f"<p>{later_text}</p>",
        fetched_at=NOW + timedelta(minutes=20),
    )
    transact = store._transact
    died: list[bool] = []

    def transact_then_die(items: list[dict[str, object]]) -> None:
        transact(items)
        if not died:
            died.append(True)
            raise SimulatedCrash("killed right after the story's transaction")

    store._transact = transact_then_die  # type: ignore[method-assign]
    with pytest.raises(SimulatedCrash):
        ingest(original, store, ctx)
    store._transact = transact  # type: ignore[method-assign]

    corrected = ingest(correction, store, ctx)
    assert corrected.outcome is Outcome.UPDATED
    redelivered = ingest(original, store, ctx)
    assert redelivered.outcome is Outcome.UNCHANGED
    assert corrected.article.id == redelivered.article.id
    assert store.source_story_counts(["alpha"]) == {"alpha": 1}
    listed = store.list_articles("all", limit=10, cursor=None).items
    assert [(a.id, a.title) for a in listed] == [(corrected.article.id, "Zentrix hack: losses grow")]


def test_one_join_folds_in_at_most_max_merges_events_within_the_transaction_limit() -> None:
    """A story tying more events than one transaction can merge (100 actions) folds in the
    oldest MAX_MERGES; a later tie folds in the rest."""
    story = ZENTRIX_B
    sig = events.signature(story)
    keys = tuple(dict.fromkeys(events.lookup_keys(sig)))
    olds = [
        replace(ZENTRIX_A, id=f"{n:020x}", source_id=f"o{n}", canonical_url=f"https://o{n}.example/a")
        for n in range(30)
    ]
    entries = tuple(IndexEntry(a.id, a.id, a.published) for a in olds)
    indexes = {k: KeyIndex(k, 1, entries) for k in keys}
    signatures = {a.id: StoryEvent(a.id, events.encode(events.signature(a))) for a in olds}
    stored = {
        a.id: StoredEvent(
            Event(a.id, a.published + timedelta(seconds=n), a.published, a.id, (member_of(a),), 1, (a.source_id,)), 1
        )
        for n, a in enumerate(olds)
    }
    write = plan_join(story, sig, keys, indexes, signatures, stored, now=NOW, limits=DEFAULT_EVENT_LIMITS)
    assert len(write.merged) == MAX_MERGES and write.event.id == olds[0].id
    sent: list[int] = []
    recorder = memory_store()
    recorder._db.transact_write_items = lambda **kw: sent.append(len(kw["TransactItems"])) or {}  # type: ignore[method-assign]
    recorder._db.put_item = lambda **kw: {}  # type: ignore[method-assign]  # the lookup items, before it
    recorder.apply_join(write, listing_expires_at=int(NOW.timestamp()))
    assert sent and sent[0] <= 100

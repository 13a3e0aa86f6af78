"""The event items (`store.events`): listing entries that serve a page alone, merges followed
within the hop bound, and listing entries past their window skipped before TTL deletes them."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from devtools.counting import item_size, write_units
from devtools.memory_dynamodb import memory_store
from newsroom.core.config import DEFAULT_EVENT_LIMITS
from newsroom.core.events import MAX_LISTED_MEMBERS, Event, EventMember, event_from_doc, event_to_doc
from newsroom.store.documents import doc_attr, load_doc
from newsroom.store.dynamo import DynamoStore
from newsroom.store.events import (
    MAX_REDIRECT_HOPS,
    EventItems,
    IndexEntry,
    JoinWrite,
    KeyIndex,
    event_from_stored,
    event_summary,
)
from newsroom.store.table import ConflictError
from tests.store.test_stories import article

T0 = datetime(2026, 10, 3, 12, tzinfo=UTC)


def _event(event_id: str, members: int = 1, *, hours: float = 0) -> Event:
    people = tuple(
        EventMember(f"{event_id[:-2]}{n:02d}", f"outlet{n}", f"Outlet {n}", f"Report {n}", f"https://o{n}.example/", T0)
        for n in range(members)
    )
    moment = T0 + timedelta(hours=hours)
    return Event(
        id=event_id,
        created=moment,
        updated=moment,
        lead_story_id=people[0].story_id,
        members=people,
        member_count=members,
        outlets=tuple(p.source_id for p in people),
    )


def _write(store: DynamoStore, event: Event, *, listed_until: int) -> None:
    """A new event as a join writes it, with its lead's story stored first."""
    store.create_article(replace(article(1), id=event.lead_story_id), guid=None)
    store.apply_join(
        JoinWrite(event.lead_story_id, "[]", event, None, (), (), listed_until), listing_expires_at=listed_until
    )


def test_a_listing_entry_keeps_the_first_members_and_the_whole_counts() -> None:
    event = _event("a" * 20, members=MAX_LISTED_MEMBERS + 4)
    summary = event_summary(event)
    assert len(summary["members"]) == MAX_LISTED_MEMBERS
    assert summary["members"][0]["story_id"] == event.lead_story_id
    assert summary["member_count"] == MAX_LISTED_MEMBERS + 4 and len(summary["outlets"]) == MAX_LISTED_MEMBERS + 4


def test_a_listing_entry_past_its_window_is_skipped_before_ttl_deletes_it() -> None:
    now = T0 + timedelta(days=1)
    store = memory_store(clock=now.timestamp)
    _write(store, _event("a" * 20, hours=-2), listed_until=int((now + timedelta(days=7)).timestamp()))
    _write(store, _event("b" * 20, hours=-1), listed_until=int((now - timedelta(seconds=1)).timestamp()))
    for listing in ("top", "latest"):
        assert [e.id for e in store.list_events(listing, limit=10, cursor=None).items] == ["a" * 20]


def test_event_pages_step_over_lapsed_entries_and_the_last_page_carries_no_cursor() -> None:
    """A full page that ends the listing carries no cursor (DynamoDB's LastEvaluatedKey at Limit
    promises nothing), and lapsed entries TTL has not deleted do not shorten a page."""
    now = T0 + timedelta(days=1)
    store = memory_store(clock=now.timestamp)
    listed, lapsed = int((now + timedelta(days=7)).timestamp()), int((now - timedelta(seconds=1)).timestamp())
    live = [f"{letter * 18}00" for letter in "abcd"]
    for n, event_id in enumerate(live):
        _write(store, _event(event_id, hours=-2 * n), listed_until=listed)
        _write(store, _event(f"{'wxyz'[n] * 18}00", hours=-2 * n - 1), listed_until=lapsed)
    first = store.list_events("latest", limit=2, cursor=None)
    assert [e.id for e in first.items] == live[:2] and first.next_cursor is not None
    second = store.list_events("latest", limit=2, cursor=first.next_cursor)
    assert [e.id for e in second.items] == live[2:]
    assert second.next_cursor is None


def test_merges_are_followed_up_to_the_hop_bound() -> None:
    store = memory_store(clock=T0.timestamp)
    ids = [f"{c * 18}00" for c in "cdefghijklmnop"[: MAX_REDIRECT_HOPS + 2]]
    for event_id in ids:
        _write(store, _event(event_id), listed_until=int(T0.timestamp()) + 3600)
    # Each event merged into the next: ids[0] -> ids[1] -> ... -> ids[-1].
    for here, there in itertools.pairwise(ids):
        stored = store.get_events([here], consistent=True)[here]
        folded = replace(stored.event, merged_into=there)
        store._db.put_item(  # a redirect, as `apply_join` leaves a merged event
            TableName=store._table,
            Item={
                "PK": {"S": f"EVENT#{here}"},
                "SK": {"S": "EVENT"},
                "doc": {"S": json.dumps(event_to_doc(folded))},
                "version": {"N": str(stored.version + 1)},
            },
        )
    found = store.get_events(ids)
    assert found[ids[-2]].event.id == ids[-1]  # one hop
    assert found[ids[-1 - MAX_REDIRECT_HOPS]].event.id == ids[-1]  # the bound, still followed
    assert ids[0] not in found  # a chain longer than the bound is not followed to its end


def test_a_full_lookup_item_is_one_write_unit() -> None:
    """Twelve entries (the per-key bound, each with the time it was written) by DynamoDB's item
    sizing stay within 1 KB: a join writes each lookup key for one write unit, however busy the key."""
    entries = tuple(
        IndexEntry(f"{n:020x}", f"{n + 1:020x}", T0 + timedelta(minutes=n), T0 + timedelta(days=400))
        for n in range(DEFAULT_EVENT_LIMITS.per_key)
    )
    after = KeyIndex("w:zentrix-exchange", 0, entries)
    put = EventItems._index_put(memory_store(), KeyIndex(after.key, 7, ()), after, int(T0.timestamp()))
    assert item_size(put["Put"]["Item"]) <= 1024


def test_event_documents_are_stored_compressed_and_plain_json_ones_are_still_read() -> None:
    """Issue 18: an event of many members is rewritten by every story that joins it, and its
    listing entries carry its first members; both are compressed (`documents`). Events stored
    before, as plain JSON, are still read, followed and listed."""
    store = memory_store(clock=T0.timestamp)
    listed_until = int(T0.timestamp()) + 3600
    big = _event("q" * 18 + "00", members=30)
    _write(store, big, listed_until=listed_until)
    stored = store._db.get_item(TableName=store._table, Key={"PK": {"S": f"EVENT#{big.id}"}, "SK": {"S": "EVENT"}})
    event_item = stored["Item"]
    plain = {**event_item, "doc": {"S": json.dumps(event_to_doc(big), separators=(",", ":"))}}
    assert "B" in event_item["doc"] and write_units(event_item) < write_units(plain)
    listed = store._db.scan(TableName=store._table)["Items"]
    entries = [i for i in listed if i["PK"]["S"].startswith("EVLIST#")]
    assert len(entries) == 2 and all("B" in i["doc"] and write_units(i) == 1 for i in entries)
    assert store.get_events([big.id])[big.id].event == big

    old = _event("r" * 18 + "00", hours=1)
    _write(store, old, listed_until=listed_until)
    for item in store._db.scan(TableName=store._table)["Items"]:  # `old` as stored before: plain JSON
        if item["PK"]["S"] == f"EVENT#{old.id}":
            item["doc"] = {"S": json.dumps(event_to_doc(old))}
        elif item["PK"]["S"].startswith("EVLIST#") and item["SK"]["S"].endswith(old.id):
            item["doc"] = {"S": json.dumps(event_summary(old))}
        else:
            continue
        store._db.put_item(TableName=store._table, Item=item)
    assert store.get_events([old.id])[old.id].event == old
    latest = store.list_events("latest", limit=10, cursor=None).items
    assert [e.id for e in latest] == [old.id, big.id]
    assert latest[0] == old and latest[1].member_count == 30


def test_an_event_read_again_is_the_remembered_one_and_a_changed_one_is_read_anew() -> None:
    """`get_events` decodes an event item's document once (`event_from_stored`): the same value gives
    the same immutable event, and a join that changes the event gives its new text, read anew."""
    store = memory_store()
    event = _event("a" * 20, members=3)
    _write(store, event, listed_until=int(T0.timestamp()) + 86_400)
    first = store.get_events([event.id])[event.id]
    assert first.event == event
    assert store.get_events([event.id])[event.id].event is first.event
    grown = replace(
        event,
        members=(*event.members, replace(event.members[0], story_id="a" * 18 + "09", title="Later")),
        member_count=4,
    )
    store.apply_join(
        JoinWrite("a" * 18 + "09", "[]", grown, first, (), (), int(T0.timestamp()) + 86_400),
        listing_expires_at=int(T0.timestamp()) + 86_400,
    )
    again = store.get_events([event.id])[event.id]
    assert (again.event, again.version) == (grown, first.version + 1)


def test_an_event_text_decodes_as_the_document_it_holds() -> None:
    for members in (1, 3, 40):
        event = replace(_event("b" * 20, members=members), ties=("hack", "$3.8m"), merged_into=None)
        text = json.dumps(event_to_doc(event), ensure_ascii=False, separators=(",", ":"))
        assert event_from_stored(text) == event_from_doc(json.loads(text)) == event  # as stored before
        assert event_from_stored(doc_attr(event_to_doc(event))["B"]) == event  # compressed


def test_a_join_writes_the_event_and_its_listing_entries_from_one_document() -> None:
    """The event item holds `event_to_doc` of the event and each listing entry `event_summary` of
    it, written out from the one document `apply_join` builds."""
    sent: list[dict[str, object]] = []

    class Recording:
        def transact_write_items(self, **params: object) -> dict[str, object]:
            sent.append(params)
            return {}

    event = _event("c" * 20, members=MAX_LISTED_MEMBERS + 5)
    store = DynamoStore(Recording(), "t", b"secret")
    store.apply_join(JoinWrite(event.lead_story_id, "[]", event, None, (), (), 1), listing_expires_at=1)
    (params,) = sent
    puts = [action["Put"]["Item"] for action in params["TransactItems"]]  # type: ignore[attr-defined]
    docs = {item["PK"]["S"].split("#")[0]: load_doc(item["doc"]) for item in puts if "doc" in item}
    assert docs["EVENT"] == event_to_doc(event)
    listed = [load_doc(item["doc"]) for item in puts if item["PK"]["S"].startswith("EVLIST#")]
    assert listed == [event_summary(event)] * 2


def test_two_joins_sharing_lookup_keys_meet_at_the_first_and_the_loser_writes_none() -> None:
    """Lookup items are written one PutItem each, outside the join's transaction, in the order of
    their keys: a join that loses the first key it shares with another has written none of the
    shared ones, so the winner never finds the loser's entries in its way while the loser waits
    for it (`process.grouping.pending`). In the order each join listed them, both would have won
    a key and lost another, each then waiting for the other."""
    store = memory_store()
    keys = ("w:alpha", "w:bravo", "w:charlie")
    first, second = _event("a" * 20), _event("b" * 20)

    def join(event: Event, order: tuple[str, ...]) -> JoinWrite:
        entry = IndexEntry(event.id, event.id, T0, T0)
        indexes = tuple((KeyIndex(k, 0, ()), KeyIndex(k, 0, (entry,))) for k in order)
        return JoinWrite(event.id, "[]", event, None, (), indexes, int(T0.timestamp()) + 3600)

    put = store._db.put_item
    lost: list[ConflictError] = []

    def second_joins_after_the_first_put(**kw: object) -> object:
        store._db.put_item = put  # type: ignore[method-assign]
        result = put(**kw)
        try:
            store.apply_join(join(second, keys), listing_expires_at=int(T0.timestamp()))
        except ConflictError as exc:
            lost.append(exc)
        return result

    store._db.put_item = second_joins_after_the_first_put  # type: ignore[method-assign]
    store.apply_join(join(first, tuple(reversed(keys))), listing_expires_at=int(T0.timestamp()))
    assert len(lost) == 1
    index = store.read_event_index(keys)
    assert {e.story_id for k in keys for e in index[k].entries} == {first.id}
    assert store.story_event_ids([first.id, second.id]) == {first.id: first.id}


def test_a_lookup_entry_written_before_its_time_was_kept_reads_as_written_with_its_join() -> None:
    """Entries written when the lookup items were in the join's transaction carry no time: their
    story's event item was written with them, so they are never a join in progress."""
    store = memory_store()
    store._db.put_item(
        TableName=store._table,
        Item={
            "PK": {"S": "EVKEY#w:alpha"},
            "SK": {"S": "EVKEY"},
            "doc": {"S": json.dumps([["a" * 20, "a" * 20, int(T0.timestamp())]])},
            "version": {"N": "1"},
            "expires_at": {"N": str(int(T0.timestamp()) + 3600)},
        },
    )
    (entry,) = store.read_event_index(["w:alpha"])["w:alpha"].entries
    assert entry == IndexEntry("a" * 20, "a" * 20, T0, None)

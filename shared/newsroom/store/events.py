"""Events (issue 17): the event items, the lookup index that finds a new story's candidates, the
"top" and "latest" listings, and each story's event.

| item             | PK                 | SK                               | holds                             |
|------------------|--------------------|----------------------------------|-----------------------------------|
| event            | `EVENT#<id>`       | `EVENT`                          | members, outlets, ties, `version` |
| lookup key       | `EVKEY#<key>`      | `EVKEY`                          | recent stories with that key      |
| event listing    | `EVLIST#top`       | `<score>#<id>`                   | the event's summary document      |
|                  | `EVLIST#latest`    | `<updated ISO>#<id>`             |                                   |
| story's event    | `ART#<id>`         | `EVENT`                          | `event_id`, `sig`; written once   |

The event's and the listings' documents are compressed JSON (`documents`; plain JSON stored
before is still read); a lookup item's compact entries are not (twelve stay under 1 KB).

Finding candidates costs a fixed number of calls whatever the table holds: one BatchGetItem of
the story's lookup keys (at most `EventLimits.lookup_keys`), one of the candidate stories' event
items (their signatures; at most `EventLimits.max_candidates`, the newest), one of the events
they name, and at most `MAX_REDIRECT_HOPS` more for events merged since. A lookup item keeps at most
`EventLimits.per_key` entries (story, event, time), so no key is an unbounded read, and the
processor never makes a very common key ("bitcoin", "SEC") a lookup key at all.

A join is two writes (issue 18: its lookup items left the transaction, where each counted twice).
First its lookup items, one conditional PutItem each in the order of their keys, each at the
version read: two processors joining stories of one event at once collide on the first key they
share, and the loser, which has written none of the keys after it, reads again. Then one
transaction: the events it changes, conditional on the versions read, and the story's event item
(its signature), conditional on its absence, which makes a replay a no-op. Between the two, the
story's lookup entries are there without its signature: an entry carries the time it was written,
and a join that finds such an entry younger than `EventLimits.pending_seconds` (a processor's
timeout and more) waits for it (`process.grouping`), since the two stories may tie and neither
would otherwise see the other; an older one is a join that crashed, and is passed over.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from newsroom.core.events import MAX_LISTED_MEMBERS, Event, event_from_doc, event_to_doc, top_score
from newsroom.core.models import Page, iso
from newsroom.store.batches import batch_get
from newsroom.store.cursor import CursorCodec
from newsroom.store.documents import doc_attr, load_doc
from newsroom.store.keys import string_attr
from newsroom.store.table import MAX_LISTING_QUERIES, ConflictError, Table

# An event merged into one that was itself merged later: each hop is one more BatchGetItem.
# Merges are rare (a story bridging two events), and a chain longer than this is read as
# ending where the hops stop.
MAX_REDIRECT_HOPS = 8
EVENT_LISTINGS = ("top", "latest")
# Event documents a processor remembers decoded (`event_from_stored`): up to 40 members, ~12 KB
# of text and about as much decoded, so a few megabytes at most.
EVENT_TEXT_CACHE = 128


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One story under a lookup key. Its signature is in the story's event item, read once for
    all candidates (`story_signatures`): kept here, it made a busy key's item (12 signatures,
    about 6 KB) cost 6 write units twice over on every join under that key."""

    story_id: str
    event_id: str
    published: datetime
    # When the join wrote it (the processor's clock); None in entries written before joins left
    # their lookup items out of the transaction, whose story's event item was written with them.
    written: datetime | None = None


@dataclass(frozen=True, slots=True)
class StoryEvent:
    """A story's event item: the event it joined and its signature (`process.events.encode`)."""

    event_id: str
    signature: str


@dataclass(frozen=True, slots=True)
class KeyIndex:
    key: str
    version: int  # 0: no item yet
    entries: tuple[IndexEntry, ...]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    event: Event
    version: int


@dataclass(frozen=True, slots=True)
class JoinWrite:
    """What one story's join changes, with the versions it was decided on."""

    story_id: str
    signature: str  # the story's, kept in its event item for the stories that come after it
    event: Event  # the event the story is now in, as it will be stored
    previous: StoredEvent | None  # that event as read (None: the story starts it)
    merged: tuple[StoredEvent, ...]  # events folded into it (each keeps only its redirect)
    indexes: tuple[tuple[KeyIndex, KeyIndex], ...]  # (as read, as it will be stored)
    expires_at: int  # when the lookup items lapse (the matching window after their newest entry)
    kept_until: int = 0  # when the event and the story's event item expire (TTL); 0: never


def _entry_to_doc(entry: IndexEntry) -> list[Any]:
    # Compact (times as epoch seconds): twelve entries stay under 1 KB, one write unit for the
    # lookup item (DynamoDB: 1 WCU per 1 KB written).
    doc: list[Any] = [entry.story_id, entry.event_id, int(entry.published.timestamp())]
    if entry.written is not None:
        doc.append(int(entry.written.timestamp()))
    return doc


def _entry_from_doc(doc: list[Any]) -> IndexEntry:
    written = datetime.fromtimestamp(int(doc[3]), UTC) if len(doc) > 3 else None
    return IndexEntry(str(doc[0]), str(doc[1]), datetime.fromtimestamp(int(doc[2]), UTC), written)


@lru_cache(maxsize=EVENT_TEXT_CACHE)
def event_from_stored(stored: bytes | str) -> Event:
    """An event item's document read back (compressed bytes, or the JSON text stored before
    documents were compressed), remembered for the latest `EVENT_TEXT_CACHE` values: a join
    reads the events of all its candidates, and most of them are as the last join that read
    them left them. A pure function of the stored value (a changed event is another value), and
    an `Event` is immutable, so the one remembered is never stale."""
    return event_from_doc(load_doc({"B": stored} if isinstance(stored, bytes) else {"S": stored}))


def _stored(attr: dict[str, Any]) -> bytes | str:
    return bytes(attr["B"]) if "B" in attr else str(attr["S"])


def _event_key(event_id: str) -> dict[str, dict[str, str]]:
    return {"PK": string_attr(f"EVENT#{event_id}"), "SK": string_attr("EVENT")}


def _expiry(kept_until: int) -> dict[str, dict[str, str]]:
    return {"expires_at": {"N": str(kept_until)}} if kept_until else {}


def _story_event_key(story_id: str) -> dict[str, dict[str, str]]:
    return {"PK": string_attr(f"ART#{story_id}"), "SK": string_attr("EVENT")}


def _index_key(key: str) -> dict[str, dict[str, str]]:
    return {"PK": string_attr(f"EVKEY#{key}"), "SK": string_attr("EVKEY")}


def listing_sort_key(listing: str, event: Event) -> str:
    if listing == "top":
        return f"{top_score(event):014.6f}#{event.id}"
    return f"{iso(event.updated)}#{event.id}"


def event_summary(event: Event) -> dict[str, Any]:
    """What a listing entry holds: the event with its first `MAX_LISTED_MEMBERS` members (the
    lead first), so a page of events is one Query however many members they have, and a listing
    write stays small."""
    return _summary_of(event_to_doc(event))


def _summary_of(doc: dict[str, Any]) -> dict[str, Any]:
    """`event_summary` of the event whose document (`event_to_doc`) is `doc`, which is left as it is."""
    return {**doc, "members": doc["members"][:MAX_LISTED_MEMBERS]}


class EventItems(Table):
    _cursors: CursorCodec

    # -- reads -------------------------------------------------------------------------------

    def read_event_index(self, keys: Sequence[str], *, consistent: bool = True) -> dict[str, KeyIndex]:
        """Each lookup key's item (version 0 and no entries when it has none). A join's first read
        may be eventually consistent (half the read units): its writes are conditional on the
        versions read, so an item read stale fails its write and is read again, consistently."""
        found = {key: KeyIndex(key, 0, ()) for key in dict.fromkeys(keys)}
        for item in batch_get(self._db, self._table, [_index_key(k) for k in found], consistent=consistent):
            key = item["PK"]["S"].removeprefix("EVKEY#")
            # Read whatever its expiry: TTL only keeps the table small here. Entries too old to
            # tie are refused by the pairwise rule's own window, by publication time, which an
            # item's expiry (the processor's clock) cannot know for a backfilled story.
            entries = tuple(_entry_from_doc(d) for d in json.loads(item["doc"]["S"]))
            found[key] = KeyIndex(key, int(item["version"]["N"]), entries)
        return found

    def get_events(self, event_ids: Sequence[str], *, consistent: bool = False) -> dict[str, StoredEvent]:
        """The live event each id ends at, following merges (at most `MAX_REDIRECT_HOPS` hops):
        id asked → the event it is now part of. Ids with no event are left out."""
        resolved: dict[str, StoredEvent] = {}
        pending = {i: i for i in dict.fromkeys(event_ids)}  # asked id -> id to read next
        for _hop in range(1 + MAX_REDIRECT_HOPS):
            if not pending:
                break
            wanted = list(dict.fromkeys(pending.values()))
            items = batch_get(self._db, self._table, [_event_key(i) for i in wanted], consistent=consistent)
            now = self._clock()
            items = [item for item in items if not self._expired(item, now)]
            read = {
                item["PK"]["S"].removeprefix("EVENT#"): StoredEvent(
                    event_from_stored(_stored(item["doc"])), int(item["version"]["N"])
                )
                for item in items
            }
            following: dict[str, str] = {}
            for asked, current in pending.items():
                stored = read.get(current)
                if stored is None:
                    continue
                if stored.event.merged_into and stored.event.merged_into != current:
                    following[asked] = stored.event.merged_into
                else:
                    resolved[asked] = stored
            pending = following
        return resolved

    def get_event(self, event_id: str) -> Event | None:
        stored = self.get_events([event_id]).get(event_id)
        return stored.event if stored else None

    def story_event_ids(self, story_ids: Sequence[str]) -> dict[str, str]:
        """story id → the event it joined (as joined; `get_events` resolves merges), from the
        stories' small event items: one BatchGetItem per 100 stories."""
        keys = [_story_event_key(i) for i in dict.fromkeys(story_ids)]
        items = batch_get(self._db, self._table, keys, projection="event_id, expires_at")
        now = self._clock()
        return {
            item["PK"]["S"].removeprefix("ART#"): item["event_id"]["S"]
            for item in items
            if not self._expired(item, now)
        }

    def story_signatures(self, story_ids: Sequence[str]) -> dict[str, StoryEvent]:
        """The event items of candidate stories, strongly consistent (a story a racing processor
        just joined is seen): one BatchGetItem per 100 stories."""
        keys = [_story_event_key(i) for i in dict.fromkeys(story_ids)]
        items = batch_get(self._db, self._table, keys, consistent=True)
        now = self._clock()
        return {
            item["PK"]["S"].removeprefix("ART#"): StoryEvent(item["event_id"]["S"], item["sig"]["S"])
            for item in items
            if "sig" in item and not self._expired(item, now)
        }

    def list_events(self, listing: str, *, limit: int, cursor: str | None) -> Page[Event]:
        """One page of `top` or `latest`, highest first: one Query (more only past expired entries:
        `Table._live_page`). Entries lapse (TTL) once the event has had no new member for the
        listing window; until TTL deletes them they are skipped."""
        if listing not in EVENT_LISTINGS:
            raise ValueError(f"no event listing {listing!r}")
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": string_attr(f"EVLIST#{listing}")},
            "ScanIndexForward": False,
        }
        scope = f"events|{listing}"
        if cursor:
            query["ExclusiveStartKey"] = {
                "PK": string_attr(f"EVLIST#{listing}"),
                "SK": string_attr(self._cursors.decode(scope, cursor)),
            }
        live, after = self._live_page(query, limit=limit, max_queries=MAX_LISTING_QUERIES)
        events = tuple(event_from_doc(load_doc(item["doc"])) for item in live)
        return Page(items=events, next_cursor=self._cursors.encode(scope, after) if after else None)

    # -- the join ----------------------------------------------------------------------------

    def apply_join(self, write: JoinWrite, *, listing_expires_at: int) -> None:
        """Write one join: its lookup items, then its transaction (see the module's docstring);
        raises ConflictError when anything it read changed."""
        self._write_lookup_items(write)
        items: list[dict[str, Any]] = [self._story_event_put(write, write.kept_until)]
        # The event's document once, for its item and its listing entries (37 members' times
        # written out twice was a tenth of building the transaction).
        doc = event_to_doc(write.event)
        items.append(self._event_put(write.event, write.previous, write.kept_until, doc=doc))
        for merged in write.merged:
            folded = replace(merged.event, merged_into=write.event.id)
            items.append(self._event_put(folded, merged, write.kept_until))
        old = [write.previous.event] if write.previous else []
        old.extend(m.event for m in write.merged)
        new_keys = {(name, listing_sort_key(name, write.event)) for name in EVENT_LISTINGS}
        for event in old:
            for name in EVENT_LISTINGS:
                sk = listing_sort_key(name, event)
                if (name, sk) not in new_keys:
                    items.append({"Delete": {"TableName": self._table, "Key": _listing_key(name, sk)}})
        summary = doc_attr(_summary_of(doc))  # compressed, as a story's (`documents`)
        for name, sk in sorted(new_keys):
            item = {**_listing_key(name, sk), "doc": summary, "expires_at": {"N": str(listing_expires_at)}}
            items.append({"Put": {"TableName": self._table, "Item": item}})
        self._transact(items)

    def _story_event_put(self, write: JoinWrite, kept_until: int) -> dict[str, Any]:
        """The story's event and signature, in an item of its own beside the story (`ART#<id>`,
        `EVENT`): about one write unit, where updating the story item itself would cost its whole
        size (often 10 KB and more) twice over in a transaction. A story joins once: a replayed
        join fails its condition and changes nothing."""
        item = {
            **_story_event_key(write.story_id),
            "event_id": string_attr(write.event.id),
            "sig": string_attr(write.signature),
            **_expiry(kept_until),
        }
        return self._put_as_read(item, read_version=0)

    def _event_put(
        self, event: Event, previous: StoredEvent | None, kept_until: int, *, doc: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A new event takes its first story's id; one read at a version must still be at it.
        `doc`: the event's document, when the caller has it."""
        read_version = previous.version if previous else 0
        document = event_to_doc(event) if doc is None else doc
        item = {
            **_event_key(event.id),
            # Compressed (`documents`): an event of 40 members is about 8 KB of JSON, rewritten by
            # every story that joins it.
            "doc": doc_attr(document),
            "version": {"N": str(read_version + 1)},
            **_expiry(kept_until),
        }
        return self._put_as_read(item, read_version)

    def _write_lookup_items(self, write: JoinWrite) -> None:
        """One conditional PutItem a lookup item (1 write unit, where a transaction counts 2), in
        the order of their keys: of two joins that share keys, the first to write the first shared
        key wins, and the other stops there, so neither waits for the other's entries in a key it
        has written (`process.grouping.join_event`). An item that would be written as read with
        this story's entry in it is not written again: the entry carries the second of its
        message's processing time (`ctx.now`), so only an attempt for the same message wrote it
        as this one would (a retry, or a duplicate delivery within that second; a redelivery
        comes a visibility timeout later), and whoever wrote to it since read that entry, so the
        two still see each other.
        One that would be written as read without it (a late story, older than the item's newest
        entries) is written all the same: its version check is what catches a stale first read
        (`read_event_index`), and a join that wrote nothing would commit on what it read."""
        for before, after in sorted(write.indexes, key=lambda pair: pair[1].key):
            if after.entries == before.entries and any(e.story_id == write.story_id for e in before.entries):
                continue
            self._put_or_conflict(self._index_put(before, after, write.expires_at)["Put"], f"lookup key {after.key!r}")

    def _index_put(self, before: KeyIndex, after: KeyIndex, expires_at: int) -> dict[str, Any]:
        item = {
            **_index_key(after.key),
            "doc": string_attr(json.dumps([_entry_to_doc(e) for e in after.entries], separators=(",", ":"))),
            "version": {"N": str(before.version + 1)},
            "expires_at": {"N": str(expires_at)},
        }
        return self._put_as_read(item, before.version, expired_is_absent=False)

    def _put_as_read(
        self, item: dict[str, Any], read_version: int, *, expired_is_absent: bool = True
    ) -> dict[str, Any]:
        """A transaction Put conditional on the item being as the join read it: at `read_version`,
        or (0) absent. By default an item past its expiry counts as absent, as a story item does
        in `create_article`: TTL deletes within days, and a story stored again after it expired
        starts its event item, and an event of its id, afresh. Not for lookup items: their expiry
        is the processor's clock plus the window, and two joins racing on an expired one must
        still collide there."""
        if read_version:
            condition, values = "version = :v", {":v": {"N": str(read_version)}}
        elif expired_is_absent:
            condition = "attribute_not_exists(PK) OR expires_at <= :now"
            values = {":now": {"N": str(int(self._clock()))}}
        else:
            condition, values = "attribute_not_exists(PK)", {}
        put: dict[str, Any] = {"TableName": self._table, "Item": item, "ConditionExpression": condition}
        if values:
            put["ExpressionAttributeValues"] = values
        return {"Put": put}


def _listing_key(listing: str, sort_key: str) -> dict[str, dict[str, str]]:
    return {"PK": string_attr(f"EVLIST#{listing}"), "SK": string_attr(sort_key)}


__all__ = ["ConflictError", "EventItems", "IndexEntry", "JoinWrite", "KeyIndex", "StoredEvent", "StoryEvent"]

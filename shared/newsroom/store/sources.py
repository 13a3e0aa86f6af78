"""Sources: each one's fetch state, the source registry, its seed marker and the dispatcher's
clock (see `keys` for the key design).

The states are one partition (`STATES`), read whole by the dispatcher (`all_source_states`).
States written before that layout (`SOURCE#<id>` / `STATE`) are read for a source with none in
`STATES`, never written: the fetcher's next write of a state puts it in `STATES`, and
`devtools.migrate_states` copies the rest, then (`--delete-legacy`) deletes the old items; a
source with no state anywhere (never polled) still costs that fallback read."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from newsroom.core.config import source_from_json, source_to_json
from newsroom.core.models import Source, SourceState, iso, parse_iso
from newsroom.store.batches import StoreIncomplete, batch_get
from newsroom.store.keys import SOURCE_STATE_PREFIX, SOURCE_STATES_PARTITION, string_attr
from newsroom.store.table import Table


class SourceItems(Table):
    # -- source state --------------------------------------------------------------------------

    def get_source_states(self, source_ids: Sequence[str]) -> dict[str, SourceState]:
        """The stored state of each source that has one: one BatchGetItem per 100 sources (and,
        for sources with none in `STATES`, one of their legacy items: `keys`). A state DynamoDB
        left unread raises `StoreIncomplete` (missing: those source ids; partial: the states
        that were read), because an absent state means "a new source" to every caller."""
        unique = list(dict.fromkeys(source_ids))
        try:
            items = batch_get(self._db, self._table, [state_key(i) for i in unique])
        except StoreIncomplete as exc:
            unread = [source_of_state_key(name) for name in exc.missing]
            states = _decoded(exc.partial.values())
            raise self._with_legacy(unique, states, unread, exc.operation) from exc
        states = _decoded(items)
        failure = self._with_legacy(unique, states, [], "BatchGetItem")
        if failure.missing:
            raise failure
        return states

    def all_source_states(self, source_ids: Sequence[str]) -> dict[str, SourceState]:
        """`get_source_states` for every source, as the dispatcher asks each tick: one paginated
        Query of the `STATES` partition, billed by the states' total size (eventually
        consistent: half a read unit per 4 KB), where a BatchGetItem bills each state as a
        whole 4 KB read ("Read consumption for Query",
        https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html).
        States of sources not in `source_ids` (removed from the registry) are left out. A Query
        has no partial result: throttled past botocore's retries, it raises."""
        wanted = dict.fromkeys(source_ids)
        states: dict[str, SourceState] = {}
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": string_attr(SOURCE_STATES_PARTITION)},
        }
        while True:
            resp = self._db.query(**query)
            for item in resp.get("Items", []):
                if item["SK"]["S"] in wanted:
                    state = state_from_item(item)
                    states[state.source_id] = state
            last = resp.get("LastEvaluatedKey")
            if not last:
                break
            query["ExclusiveStartKey"] = last
        failure = self._with_legacy(list(wanted), states, [], "Query")
        if failure.missing:
            raise failure
        return states

    def _with_legacy(
        self, source_ids: Sequence[str], states: dict[str, SourceState], unread: list[str], operation: str
    ) -> StoreIncomplete:
        """Add to `states` the legacy item (`SOURCE#<id>` / `STATE`) of each source that has no
        state in `STATES` and was not left unread. Returns the failure to raise when anything
        stays unread (`missing` empty: nothing to raise)."""
        legacy = [i for i in source_ids if i not in states and i not in unread]
        if legacy:
            try:
                states.update(self._per_source(legacy, "STATE", SOURCE_STATE_PREFIX, state_from_item, _source_id))
            except StoreIncomplete as exc:
                states.update(exc.partial)
                unread = [*unread, *exc.missing]
                operation = exc.operation
        return StoreIncomplete(operation, unread, dict(states))

    def put_source_state(self, state: SourceState) -> None:
        self._db.put_item(TableName=self._table, Item=_state_to_item(state))

    def put_seen(self, source_id: str, seen: bytes) -> None:
        """Replace only the seen digests of a source's state (the WebSub callback), creating a
        fresh state when the source was never polled: the fetcher's document is left alone. If
        the fetcher's next write carries older digests, entries are sent again and the processor
        drops them as repeats; nothing is lost either way. A source whose state is still in its
        legacy item gets that state, with these digests, in `STATES`."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key=state_key(source_id),
                UpdateExpression="SET seen = :seen",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":seen": {"B": seen}},
            )
            return
        except self._db.exceptions.ConditionalCheckFailedException:
            pass
        legacy = self._per_source([source_id], "STATE", SOURCE_STATE_PREFIX, state_from_item, _source_id)
        base = legacy.get(source_id) or SourceState(source_id)
        try:
            self._db.put_item(
                TableName=self._table,
                Item=_state_to_item(replace(base, seen=seen)),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            self.put_seen(source_id, seen)  # the fetcher wrote the state in between: update it

    # The dispatcher's clock: when its last tick ended. The next tick considers the polls that
    # fell due since then, so ticks partition time whatever EventBridge's jitter (see
    # `sources.schedule.select_due`). One small item: one read and one write per tick.

    def get_dispatch_clock(self) -> datetime | None:
        resp = self._db.get_item(
            TableName=self._table, Key={"PK": string_attr("DISPATCH"), "SK": string_attr("CLOCK")}, ConsistentRead=True
        )
        item = resp.get("Item")
        return parse_iso(item["at"]["S"]) if item else None

    def put_dispatch_clock(self, moment: datetime) -> None:
        """Move the clock to `moment`, never backwards (an overlapping, older tick loses)."""
        try:
            self._db.put_item(
                TableName=self._table,
                Item={"PK": string_attr("DISPATCH"), "SK": string_attr("CLOCK"), "at": string_attr(iso(moment))},
                ConditionExpression="attribute_not_exists(PK) OR #at < :at",
                ExpressionAttributeNames={"#at": "at"},
                ExpressionAttributeValues={":at": string_attr(iso(moment))},
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return  # a later tick already moved it

    # -- source registry ---------------------------------------------------------------------
    # One partition `SOURCES` (SK = source id) holds every source, so the whole registry is one
    # paginated Query (5,000 sources of ~0.5 KB = 3 pages), never a Scan. `origin` says who wrote
    # the item: "file" (seeded from sources.json) or "admin" (the admin command); seeding never
    # overwrites an admin edit.

    def list_sources(self) -> list[Source]:
        sources: list[Source] = []
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": string_attr("SOURCES")},
        }
        while True:
            resp = self._db.query(**query)
            sources.extend(source_from_json(json.loads(item["doc"]["S"])) for item in resp.get("Items", []))
            last = resp.get("LastEvaluatedKey")
            if not last:
                return sources
            query["ExclusiveStartKey"] = last

    def get_source(self, source_id: str) -> Source | None:
        resp = self._db.get_item(
            TableName=self._table, Key={"PK": string_attr("SOURCES"), "SK": string_attr(source_id)}
        )
        item = resp.get("Item")
        return source_from_json(json.loads(item["doc"]["S"])) if item else None

    def put_source(self, source: Source, *, origin: str = "admin") -> None:
        self._db.put_item(TableName=self._table, Item=_source_item(source, origin))

    def delete_source(self, source_id: str) -> None:
        """Remove a source from the registry (the admin command's `remove`); its state, stories
        and subscription stay (the hub's unsubscribe verification needs the subscription)."""
        self._db.delete_item(TableName=self._table, Key={"PK": string_attr("SOURCES"), "SK": string_attr(source_id)})

    def seed_sources(self, sources: Sequence[Source]) -> int:
        """Write the repo file's sources into the registry, unless already seeded from this very
        file (a digest item makes the usual call one GetItem). Returns how many were written."""
        digest = hashlib.sha256(json.dumps([source_to_json(s) for s in sources], sort_keys=True).encode()).hexdigest()
        marker = {"PK": string_attr("SOURCES#SEED"), "SK": string_attr("SEED")}
        seen = self._db.get_item(TableName=self._table, Key=marker).get("Item")
        if seen and seen.get("digest", {}).get("S") == digest:
            return 0
        written = 0
        for source in sources:
            try:
                self._db.put_item(
                    TableName=self._table,
                    Item=_source_item(source, "file"),
                    ConditionExpression="attribute_not_exists(PK) OR origin = :file",
                    ExpressionAttributeValues={":file": string_attr("file")},
                )
                written += 1
            except self._db.exceptions.ConditionalCheckFailedException:
                pass  # an operator changed this source; the file does not override them
        self._db.put_item(TableName=self._table, Item={**marker, "digest": string_attr(digest)})
        return written


def _source_item(source: Source, origin: str) -> dict[str, Any]:
    return {
        "PK": string_attr("SOURCES"),
        "SK": string_attr(source.id),
        "doc": string_attr(json.dumps(source_to_json(source), ensure_ascii=False, sort_keys=True)),
        "origin": string_attr(origin),
    }


def _state_to_item(state: SourceState) -> dict[str, Any]:
    doc = {
        "source_id": state.source_id,
        "etag": state.etag,
        "last_modified": state.last_modified,
        "last_attempt": iso(state.last_attempt) if state.last_attempt else None,
        "last_success": iso(state.last_success) if state.last_success else None,
        "last_error": state.last_error,
        "consecutive_failures": state.consecutive_failures,
        "next_poll": iso(state.next_poll) if state.next_poll else None,
        "last_error_at": iso(state.last_error_at) if state.last_error_at else None,
        "last_status": state.last_status,
        "feed_url": state.feed_url,
        "feed_url_for": state.feed_url_for,
        "disabled": state.disabled,
        "disabled_reason": state.disabled_reason,
        "poll_interval_s": state.poll_interval_s,
        "body_hash": state.body_hash,
        "entries_per_week": state.entries_per_week,
    }
    # Compact, and without the fields that are unset (`state_from_item` reads an absent one as
    # unset, as it reads states written with them): ~0.4 KB where it was ~0.5, so a state with
    # the digests a churned feed keeps (~60, see `fetch.seen`) stays one write unit (DynamoDB
    # bills a write per started KB) and the dispatcher's Query reads less (issue 18).
    compact = {key: value for key, value in doc.items() if value is not None}
    item: dict[str, Any] = {
        **state_key(state.source_id),
        "doc": string_attr(json.dumps(compact, separators=(",", ":"))),
    }
    if state.seen:
        # Raw bytes (8 per entry), not base64 in the JSON: a third smaller. The doc + 8 B × up
        # to 300 digests keeps the item under 4 KB: a GetItem or BatchGetItem of it is half a read
        # unit eventually consistent ("DynamoDB read and write operations":
        # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html).
        item["seen"] = {"B": state.seen}
    return item


def state_from_item(item: dict[str, Any]) -> SourceState:
    doc = json.loads(item["doc"]["S"])

    def when(key: str) -> datetime | None:
        return parse_iso(doc[key]) if doc.get(key) else None

    return SourceState(
        source_id=doc["source_id"],
        etag=doc.get("etag"),
        last_modified=doc.get("last_modified"),
        last_attempt=when("last_attempt"),
        last_success=when("last_success"),
        last_error=doc.get("last_error"),
        consecutive_failures=int(doc.get("consecutive_failures", 0)),
        next_poll=when("next_poll"),
        last_error_at=when("last_error_at"),
        last_status=int(doc["last_status"]) if doc.get("last_status") is not None else None,
        feed_url=doc.get("feed_url"),
        feed_url_for=doc.get("feed_url_for"),
        disabled=bool(doc.get("disabled", False)),
        disabled_reason=doc.get("disabled_reason"),
        poll_interval_s=int(doc["poll_interval_s"]) if doc.get("poll_interval_s") is not None else None,
        body_hash=doc.get("body_hash"),
        entries_per_week=float(doc["entries_per_week"]) if doc.get("entries_per_week") is not None else None,
        seen=bytes(item["seen"]["B"]) if "seen" in item else b"",
    )


def _source_id(state: SourceState) -> str:
    return state.source_id


def state_key(source_id: str) -> dict[str, dict[str, str]]:
    """A source's state item's key: one partition for every source (`keys`)."""
    return {"PK": string_attr(SOURCE_STATES_PARTITION), "SK": string_attr(source_id)}


def source_of_state_key(name: str) -> str:
    """The source id in a state item's key name ("PK|SK", as `StoreIncomplete` names items)."""
    return name.removeprefix(f"{SOURCE_STATES_PARTITION}|")


def _decoded(items: Iterable[dict[str, Any]]) -> dict[str, SourceState]:
    return {state.source_id: state for state in map(state_from_item, items)}

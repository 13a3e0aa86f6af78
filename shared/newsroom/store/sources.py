"""Sources: each one's fetch state, the source registry, its seed marker and the dispatcher's
clock (see `keys` for the key design)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from newsroom.core.config import source_from_json, source_to_json
from newsroom.core.models import Source, SourceState, iso, parse_iso
from newsroom.store.keys import SOURCE_STATE_PREFIX, string_attr
from newsroom.store.table import Table


class SourceItems(Table):
    # -- source state --------------------------------------------------------------------------

    def get_source_states(self, source_ids: Sequence[str]) -> dict[str, SourceState]:
        """The stored state of each source that has one. A state DynamoDB left unread raises
        `StoreIncomplete` (missing: those source ids; partial: the states that were read),
        because an absent state means "a new source" to every caller."""
        return self._per_source(source_ids, "STATE", SOURCE_STATE_PREFIX, state_from_item, _source_id)

    def put_source_state(self, state: SourceState) -> None:
        self._db.put_item(TableName=self._table, Item=_state_to_item(state))

    def put_seen(self, source_id: str, seen: bytes) -> None:
        """Replace only the seen digests of a source's state (the WebSub callback), creating a
        fresh state when the source was never polled: the fetcher's document is left alone. If
        the fetcher's next write carries older digests, entries are sent again and the processor
        drops them as repeats; nothing is lost either way."""
        key = {"PK": string_attr(f"{SOURCE_STATE_PREFIX}{source_id}"), "SK": string_attr("STATE")}
        try:
            self._db.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="SET seen = :seen",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":seen": {"B": seen}},
            )
            return
        except self._db.exceptions.ConditionalCheckFailedException:
            pass
        try:
            self._db.put_item(
                TableName=self._table,
                Item=_state_to_item(SourceState(source_id, seen=seen)),
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
    item: dict[str, Any] = {
        "PK": string_attr(f"SOURCE#{state.source_id}"),
        "SK": string_attr("STATE"),
        "doc": string_attr(json.dumps(doc)),
    }
    if state.seen:
        # Raw bytes (8 per entry), not base64 in the JSON: a third smaller, and DynamoDB bills
        # a write per started KB. ~0.5 KB of doc + 8 B × up to 300 digests keeps the item under
        # 4 KB, so the dispatcher's eventually consistent read of it stays half a read unit ("DynamoDB
        # read and write operations": https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html).
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

"""What every item family's part of the store shares: the client, the table and the clock.

Each family module (`stories`, `fingerprints`, `sources`, `prices`, `rejects`) is a mixin over
`Table`, as lemon24/reader builds its storage from per-domain parts; `dynamo.DynamoStore`
composes them and sets these attributes once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from newsroom.core.retry import backoff_delays
from newsroom.store.batches import StoreIncomplete, batch_get, batch_write, key_name
from newsroom.store.keys import string_attr

T = TypeVar("T")

# TransactWriteItems "groups up to 100 action requests" (DynamoDB API Reference, TransactWriteItems:
# https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html).
MAX_TRANSACT_ITEMS = 100
# Queries one listing page may take to step over expired entries TTL has not deleted yet (TTL
# deletes within a few days of expiry); a page that needs more comes back short, with a cursor.
MAX_LISTING_QUERIES = 5
# Cancellation reason codes that mean "throttled, try again" ("None": that item was fine), as the
# TransactWriteItems reference lists them under TransactionCanceledException (same page as above).
_THROTTLED_CANCELLATION = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "None", None})


class ConflictError(RuntimeError):
    """An optimistic write lost a race; the caller re-reads and decides again."""


class Table:
    _db: Any  # a boto3 DynamoDB client (low-level, to keep items and costs explicit)
    _table: str
    _clock: Callable[[], float]  # epoch seconds: expiry checks and conditions (tests move it)

    @staticmethod
    def _expired(item: dict[str, Any], now: float) -> bool:
        # TTL deletes expired items within a few days, and until then reads return them ("Using
        # time to live (TTL) in DynamoDB": https://docs.aws.amazon.com/amazondynamodb/latest/
        # developerguide/TTL.html), so every read skips them itself.
        expires = item.get("expires_at")
        return expires is not None and int(expires["N"]) <= now

    @classmethod
    def _hidden(cls, item: dict[str, Any], now: float) -> bool:
        """Expired, or a listing entry's tombstone (`stories`): what no listing page shows."""
        return "gone" in item or cls._expired(item, now)

    def _live_page(
        self, query: dict[str, Any], *, limit: int, max_queries: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` unexpired items of a Query (`query` without Limit), and the sort key
        to continue after, or None when nothing follows.

        One item more than the page is asked for, so a page that ends the partition carries no
        cursor: DynamoDB returns a LastEvaluatedKey whenever it stops at `Limit`, even with
        nothing left ("If LastEvaluatedKey is not empty, it does not necessarily mean that there
        is more data in the result set",
        https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html), and a
        cursor to an empty page is what clients were handed. Expired items that TTL has not
        deleted yet, and listing tombstones (`_hidden`), are skipped and the Query reads on past
        them, a page's worth at a time, at most `max_queries` Queries; a page cut short by that
        bound or by Query's 1 MB (not topped up) continues where it stopped, so no live item is
        ever passed over.
        """
        if limit < 1:
            raise ValueError("a page holds at least one item")
        wanted = limit + 1
        query = {**query, "Limit": wanted}
        now = self._clock()
        live: list[dict[str, Any]] = []
        last: dict[str, Any] | None = None
        for _ in range(max_queries):
            resp = self._db.query(**query)
            items = resp.get("Items", [])
            live.extend(item for item in items if not self._hidden(item, now))
            last = resp.get("LastEvaluatedKey")
            # Cut short at 1 MB (fewer items than asked): served as it is, its cursor goes on.
            if last is None or len(live) >= wanted or len(items) < query["Limit"]:
                break
            query["ExclusiveStartKey"] = last
            # A whole page's worth again, not just what is missing: past a full page, asking for
            # the one entry more item by item spent a Query on every expired entry in a row.
            query["Limit"] = wanted
        if len(live) > limit:  # the one more: a next page exists and starts after the last shown
            del live[limit:]
            return live, live[-1]["SK"]["S"]
        return live, last["SK"]["S"] if last else None

    def _batch_write(self, requests: Iterable[dict[str, Any]]) -> None:
        batch_write(self._db, self._table, list(requests))

    def _source_items(self, source_ids: Sequence[str], sort_key: str, prefix: str) -> list[dict[str, Any]]:
        """The per-source items (state or story count) of `source_ids`: one BatchGetItem per 100."""
        # BatchGetItem refuses a request that names one key twice ("Provided list of item keys
        # contains duplicates"), which its API reference does not say: https://github.com/boto/boto3/issues/4131
        keys = [{"PK": string_attr(f"{prefix}{i}"), "SK": string_attr(sort_key)} for i in dict.fromkeys(source_ids)]
        return batch_get(self._db, self._table, keys)

    def _per_source(
        self,
        source_ids: Sequence[str],
        sort_key: str,
        prefix: str,
        decode: Callable[[dict[str, Any]], T],
        source_of: Callable[[T], str],
    ) -> dict[str, T]:
        """The decoded per-source item of each source that has one. An item DynamoDB left unread
        raises `StoreIncomplete` naming the source ids (partial: what was read, decoded), because
        an absent item means "nothing stored yet" to every caller."""
        try:
            items = self._source_items(source_ids, sort_key, prefix)
        except StoreIncomplete as exc:
            read = (decode(item) for item in exc.partial.values())
            raise StoreIncomplete(
                exc.operation,
                [name.split("|", 1)[0].removeprefix(prefix) for name in exc.missing],
                {source_of(value): value for value in read},
            ) from exc
        values = (decode(item) for item in items)
        return {source_of(value): value for value in values}

    def _put_or_conflict(self, put: dict[str, Any], what: str) -> None:
        """One conditional PutItem whose failed condition means another writer got there first
        (the writes issue 18 moved out of transactions: lookup items, fingerprint claims)."""
        try:
            self._db.put_item(**put)
        except self._db.exceptions.ConditionalCheckFailedException as exc:
            raise ConflictError(f"{what} changed underneath us") from exc

    def _transact(self, items: list[dict[str, Any]]) -> None:
        if len(items) > MAX_TRANSACT_ITEMS:
            raise ValueError(f"a story touches {len(items)} items, over DynamoDB's transaction limit")
        for _attempt in backoff_delays():
            try:
                self._db.transact_write_items(TransactItems=items)
                return
            except self._db.exceptions.TransactionCanceledException as exc:
                reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
                if "ConditionalCheckFailed" in reasons or "TransactionConflict" in reasons:
                    raise ConflictError(f"story changed underneath us: {reasons}") from exc
                # botocore retries a throttled call, but a transaction cancelled because one of
                # its items was throttled comes back as a cancellation: retry it here, with backoff.
                if not _THROTTLED_CANCELLATION.issuperset(reasons) or not set(reasons) - {"None", None}:
                    raise
        raise StoreIncomplete("TransactWriteItems", [_transact_item_name(item) for item in items])


def _transact_item_name(item: dict[str, Any]) -> str:
    action = next(iter(item.values()))
    return key_name(action.get("Item") or action["Key"])

"""The one module that knows the DynamoDB key design.

Single table, no GSI needed; every request-path read is a GetItem, BatchGetItem or Query.

| item            | PK                          | SK                         | holds                                |
|-----------------|-----------------------------|----------------------------|--------------------------------------|
| story           | `ART#<id>`                  | `ART`                      | whole article document, `version`    |
| listing entry   | `LIST#<listing>`            | `<published>#<id>`         | summary document (no body)           |
| GUID claim      | `GUID#<source>#<sha(guid)>` | `GUID`                     | the story id the entry belongs to    |
| source state    | `SOURCE#<id>`               | `STATE`                    | validators, health                   |
| latest price    | `PRICES`                    | `<SYM>/<QUOTE>`            | the current price of each pair       |
| price history   | `PRICEHIST#<SYM>/<QUOTE>`   | `<fetched ISO>`            | 24 h of prices (TTL `expires_at`)    |

Listings are `all`, `cat#<category>`, `coin#<ticker>` and `src#<source id>`: one small entry per
listing a story belongs to, so a page of any filter is one Query on one partition, newest
first, with no FilterExpression. The story id is derived from the original's canonical URL, so
an original and its syndicated copies meet on one item whichever arrives first, and one
story stays one feed item with one id.

A story, its listing entries and its GUID claim change together in one transaction, with the
story's `version` as an optimistic lock, so a crash or a race never leaves a half-written story.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from newsroom.codec import article_from_doc, article_to_doc, price_from_doc, price_to_doc
from newsroom.models import Article, Page, Price, SourceState, iso, parse_iso

PRICE_HISTORY_TTL = timedelta(hours=26)
MAX_TRANSACT_ITEMS = 100


class CursorError(ValueError):
    """A pagination cursor that was not issued by us for this listing."""


class ConflictError(RuntimeError):
    """An optimistic write lost a race; the caller re-reads and decides again."""


@dataclass(frozen=True, slots=True)
class StoredArticle:
    article: Article
    version: int


def listing_keys(article: Article) -> tuple[str, ...]:
    keys = ["all", f"cat#{article.category.value.lower()}", f"src#{article.source_id}"]
    keys.extend(f"coin#{coin.lower()}" for coin in article.coins)
    return tuple(keys)


def sort_key(article: Article) -> str:
    return f"{iso(article.published)}#{article.id}"


def guid_key(source_id: str, guid: str) -> str:
    return f"GUID#{source_id}#{hashlib.sha256(guid.encode()).hexdigest()[:32]}"


class Store(Protocol):
    def get_article(self, article_id: str) -> StoredArticle | None: ...

    def get_articles(self, article_ids: Sequence[str]) -> list[Article]: ...

    def story_for_guid(self, source_id: str, guid: str) -> str | None: ...

    def create_article(self, article: Article, *, guid: tuple[str, str] | None) -> None: ...

    def replace_article(self, previous: StoredArticle, article: Article, *, guid: tuple[str, str] | None) -> None: ...

    def claim_guid(self, source_id: str, guid: str, article_id: str) -> None: ...

    def list_articles(self, listing: str, *, limit: int, cursor: str | None) -> Page[Article]: ...

    def get_source_states(self, source_ids: Sequence[str]) -> dict[str, SourceState]: ...

    def put_source_state(self, state: SourceState) -> None: ...

    def put_prices(self, prices: Sequence[Price]) -> None: ...

    def get_prices(self) -> list[Price]: ...


def _s(value: str) -> dict[str, str]:
    return {"S": value}


class CursorCodec:
    """Opaque, tamper-evident cursors: the last key of a page, HMAC-signed with the stack's key."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:16]

    def encode(self, listing: str, last_sort_key: str) -> str:
        payload = json.dumps({"l": listing, "k": last_sort_key}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(self._sign(payload) + payload).decode().rstrip("=")

    def decode(self, listing: str, cursor: str) -> str:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except ValueError as exc:
            raise CursorError("cursor is not valid base64url") from exc
        signature, payload = raw[:16], raw[16:]
        if len(signature) < 16 or not hmac.compare_digest(signature, self._sign(payload)):
            raise CursorError("cursor was not issued by this API or has been altered")
        data = json.loads(payload)
        if data.get("l") != listing:
            raise CursorError("cursor belongs to a different filter; start again without it")
        return str(data["k"])


class DynamoStore:
    """`Store` over a boto3 DynamoDB client (low-level, to keep items and costs explicit)."""

    def __init__(self, client: Any, table_name: str, cursor_secret: bytes) -> None:
        self._db = client
        self._table = table_name
        self._cursors = CursorCodec(cursor_secret)

    # -- stories -----------------------------------------------------------------------------

    def get_article(self, article_id: str) -> StoredArticle | None:
        resp = self._db.get_item(
            TableName=self._table,
            Key={"PK": _s(f"ART#{article_id}"), "SK": _s("ART")},
            ConsistentRead=True,
        )
        item = resp.get("Item")
        if not item:
            return None
        return StoredArticle(article_from_doc(json.loads(item["doc"]["S"])), int(item["version"]["N"]))

    def get_articles(self, article_ids: Sequence[str]) -> list[Article]:
        """Stories by id, in the order asked, skipping ids that are gone (one BatchGetItem per 100)."""
        found: dict[str, Article] = {}
        unique = list(dict.fromkeys(article_ids))
        for start in range(0, len(unique), 100):
            keys: list[dict[str, Any]] = [{"PK": _s(f"ART#{i}"), "SK": _s("ART")} for i in unique[start : start + 100]]
            request: dict[str, Any] = {self._table: {"Keys": keys, "ProjectionExpression": "doc"}}
            for attempt in range(8):
                resp = self._db.batch_get_item(RequestItems=request)
                for item in resp.get("Responses", {}).get(self._table, []):
                    article = article_from_doc(json.loads(item["doc"]["S"]))
                    found[article.id] = article
                request = resp.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))
        return [found[i] for i in article_ids if i in found]

    def story_for_guid(self, source_id: str, guid: str) -> str | None:
        resp = self._db.get_item(
            TableName=self._table,
            Key={"PK": _s(guid_key(source_id, guid)), "SK": _s("GUID")},
            ConsistentRead=True,
        )
        item = resp.get("Item")
        return item["article_id"]["S"] if item else None

    def _guid_put(self, source_id: str, guid: str, article_id: str) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table,
                "Item": {
                    "PK": _s(guid_key(source_id, guid)),
                    "SK": _s("GUID"),
                    "article_id": _s(article_id),
                },
            }
        }

    def _story_item(self, article: Article, version: int) -> dict[str, Any]:
        return {
            "PK": _s(f"ART#{article.id}"),
            "SK": _s("ART"),
            "doc": _s(json.dumps(article_to_doc(article), ensure_ascii=False, separators=(",", ":"))),
            "version": {"N": str(version)},
        }

    def _listing_puts(self, article: Article) -> list[dict[str, Any]]:
        summary = json.dumps(article_to_doc(article, with_body=False), ensure_ascii=False, separators=(",", ":"))
        return [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        "PK": _s(f"LIST#{listing}"),
                        "SK": _s(sort_key(article)),
                        "id": _s(article.id),
                        "doc": _s(summary),
                    },
                }
            }
            for listing in listing_keys(article)
        ]

    def _transact(self, items: list[dict[str, Any]]) -> None:
        if len(items) > MAX_TRANSACT_ITEMS:
            raise ValueError(f"a story touches {len(items)} items, over DynamoDB's transaction limit")
        try:
            self._db.transact_write_items(TransactItems=items)
        except self._db.exceptions.TransactionCanceledException as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if "ConditionalCheckFailed" in reasons or "TransactionConflict" in reasons:
                raise ConflictError(f"story changed underneath us: {reasons}") from exc
            raise

    def create_article(self, article: Article, *, guid: tuple[str, str] | None) -> None:
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": self._story_item(article, 1),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            *self._listing_puts(article),
        ]
        if guid is not None:
            items.append(self._guid_put(guid[0], guid[1], article.id))
        self._transact(items)

    def replace_article(self, previous: StoredArticle, article: Article, *, guid: tuple[str, str] | None) -> None:
        if previous.article.id != article.id:
            raise ValueError("replace_article keeps the story id")
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": self._story_item(article, previous.version + 1),
                    "ConditionExpression": "version = :v",
                    "ExpressionAttributeValues": {":v": {"N": str(previous.version)}},
                }
            },
            *self._listing_puts(article),
        ]
        old_keys = {(listing, sort_key(previous.article)) for listing in listing_keys(previous.article)}
        new_keys = {(listing, sort_key(article)) for listing in listing_keys(article)}
        for listing, sk in sorted(old_keys - new_keys):
            items.append({"Delete": {"TableName": self._table, "Key": {"PK": _s(f"LIST#{listing}"), "SK": _s(sk)}}})
        if guid is not None:
            items.append(self._guid_put(guid[0], guid[1], article.id))
        self._transact(items)

    def claim_guid(self, source_id: str, guid: str, article_id: str) -> None:
        self._db.put_item(**self._guid_put(source_id, guid, article_id)["Put"])

    def list_articles(self, listing: str, *, limit: int, cursor: str | None) -> Page[Article]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": _s(f"LIST#{listing}")},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            query["ExclusiveStartKey"] = {
                "PK": _s(f"LIST#{listing}"),
                "SK": _s(self._cursors.decode(listing, cursor)),
            }
        resp = self._db.query(**query)
        items = resp.get("Items", [])
        articles = tuple(article_from_doc(json.loads(item["doc"]["S"])) for item in items)
        last = resp.get("LastEvaluatedKey")
        next_cursor = self._cursors.encode(listing, last["SK"]["S"]) if last and articles else None
        return Page(items=articles, next_cursor=next_cursor)

    # -- sources -----------------------------------------------------------------------------

    def get_source_states(self, source_ids: Sequence[str]) -> dict[str, SourceState]:
        states: dict[str, SourceState] = {}
        unique = list(dict.fromkeys(source_ids))
        for start in range(0, len(unique), 100):
            request: dict[str, Any] = {
                self._table: {
                    "Keys": [{"PK": _s(f"SOURCE#{i}"), "SK": _s("STATE")} for i in unique[start : start + 100]]
                }
            }
            for attempt in range(8):
                resp = self._db.batch_get_item(RequestItems=request)
                for item in resp.get("Responses", {}).get(self._table, []):
                    state = _state_from_item(item)
                    states[state.source_id] = state
                request = resp.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))
        return states

    def put_source_state(self, state: SourceState) -> None:
        self._db.put_item(TableName=self._table, Item=_state_to_item(state))

    # -- prices ------------------------------------------------------------------------------

    def put_prices(self, prices: Sequence[Price]) -> None:
        requests: list[dict[str, Any]] = []
        for price in prices:
            doc = _s(json.dumps(price_to_doc(price), separators=(",", ":")))
            requests.append({"PutRequest": {"Item": {"PK": _s("PRICES"), "SK": _s(price.pair), "doc": doc}}})
            expires = int((price.fetched_at + PRICE_HISTORY_TTL).timestamp())
            requests.append(
                {
                    "PutRequest": {
                        "Item": {
                            "PK": _s(f"PRICEHIST#{price.pair}"),
                            "SK": _s(iso(price.fetched_at)),
                            "doc": doc,
                            "expires_at": {"N": str(expires)},
                        }
                    }
                }
            )
        self._batch_write(requests)

    def get_prices(self) -> list[Price]:
        resp = self._db.query(
            TableName=self._table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": _s("PRICES")},
        )
        return [price_from_doc(json.loads(item["doc"]["S"])) for item in resp.get("Items", [])]

    def _batch_write(self, requests: Iterable[dict[str, Any]]) -> None:
        pending = list(requests)
        while pending:
            chunk, pending = pending[:25], pending[25:]
            unprocessed: dict[str, Any] = {self._table: chunk}
            for attempt in range(8):
                resp = self._db.batch_write_item(RequestItems=unprocessed)
                unprocessed = resp.get("UnprocessedItems") or {}
                if not unprocessed:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))
            else:
                raise RuntimeError("DynamoDB kept items unprocessed after retries")


def _state_to_item(state: SourceState) -> dict[str, Any]:
    doc = {
        "source_id": state.source_id,
        "etag": state.etag,
        "last_modified": state.last_modified,
        "last_attempt": iso(state.last_attempt) if state.last_attempt else None,
        "last_success": iso(state.last_success) if state.last_success else None,
        "last_error": state.last_error,
        "consecutive_failures": state.consecutive_failures,
    }
    return {"PK": _s(f"SOURCE#{state.source_id}"), "SK": _s("STATE"), "doc": _s(json.dumps(doc))}


def _state_from_item(item: dict[str, Any]) -> SourceState:
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
    )

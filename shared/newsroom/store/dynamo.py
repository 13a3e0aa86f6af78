"""The one module that knows the DynamoDB key design.

Single table, no GSI needed; every request-path read is a GetItem, BatchGetItem or Query.

| item            | PK                          | SK                         | holds                                |
|-----------------|-----------------------------|----------------------------|--------------------------------------|
| story           | `ART#<id>`                  | `ART`                      | whole article document, `version`    |
| listing entry   | `LIST#<listing>`            | `<published>#<id>`         | summary document (no body)           |
| GUID claim      | `GUID#<source>#<sha(guid)>` | `GUID`                     | the story id the entry belongs to    |
| source state    | `SOURCE#<id>`               | `STATE`                    | validators, health, next poll        |
| story count     | `COUNT#<id>`                | `STORIES`                  | stories credited to the source       |
| source registry | `SOURCES`                   | `<id>`                     | the source's settings, `origin`      |
| seed marker     | `SOURCES#SEED`              | `SEED`                     | digest of the last seeded file       |
| latest price    | `PRICES`                    | `<SYM>/<QUOTE>`            | the current price of each pair       |
| price history   | `PRICEHIST#<SYM>/<QUOTE>`   | `<fetched ISO>`            | 24 h of prices (TTL `expires_at`)    |
| reject          | `REJECT#<SQS message id>`   | `REJECT`                   | why that message failed (TTL 15 d)   |

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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from newsroom.core.codec import article_from_doc, article_to_doc, price_from_doc, price_to_doc
from newsroom.core.config import source_from_json, source_to_json
from newsroom.core.models import (
    Article,
    FingerprintClaims,
    Page,
    Price,
    ProviderHealth,
    Source,
    SourceState,
    StoredArticle,
    iso,
    parse_iso,
    utc,
)
from newsroom.core.retry import backoff_delays
from newsroom.store.batches import StoreIncomplete, batch_get, batch_write, key_name

PRICE_HISTORY_TTL = timedelta(hours=26)
PROVIDER_PREFIX = "PROVIDER#"  # provider health items, beside the prices in the PRICES partition
DEFAULT_RETENTION = timedelta(days=365)  # ARTICLE_RETENTION_DAYS
MAX_TRANSACT_ITEMS = 100
MAX_SORT_KEY_BYTES = 1024
# Queries one listing page may take to step over expired entries TTL has not deleted yet (TTL
# deletes within a few days of expiry); a page that needs more comes back short, with a cursor.
MAX_LISTING_QUERIES = 5
# Cancellation reason codes that mean "throttled, try again" ("None": that item was fine).
_THROTTLED_CANCELLATION = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "None", None})


# -- item families and who writes them ------------------------------------------------------------
#
# Each function's IAM role may touch only the partitions of the families it reads and writes:
# template.yaml grants them as `dynamodb:LeadingKeys` patterns (IAM `StringLike`), and
# tests/unit/test_iam_policies.py checks the two agree. A family is known by its partition key
# alone, so two writers never share a partition: the story count lives under `COUNT#`, apart from
# the fetcher's `SOURCE#` state.
SOURCE_STATE_PREFIX = "SOURCE#"
SOURCE_COUNT_PREFIX = "COUNT#"
ITEM_FAMILIES: dict[str, str] = {  # family -> the IAM StringLike pattern of its partition keys
    "story": "ART#*",
    "listing": "LIST#*",
    "guid-claim": "GUID#*",
    "fingerprint": "FP#*",
    "source-state": SOURCE_STATE_PREFIX + "*",
    "story-count": SOURCE_COUNT_PREFIX + "*",
    "registry": "SOURCES",
    "seed-marker": "SOURCES#SEED",
    "dispatch-clock": "DISPATCH",
    "prices": "PRICES",  # latest prices and provider health
    "price-history": "PRICEHIST#*",
    "reject": "REJECT#*",
}
WRITES: dict[str, frozenset[str]] = {  # role -> the families it writes
    "dispatcher": frozenset({"registry", "seed-marker", "dispatch-clock"}),
    "fetcher": frozenset({"source-state"}),
    "processor": frozenset({"story", "listing", "guid-claim", "fingerprint", "story-count", "reject"}),
    "prices": frozenset({"prices", "price-history"}),
    "api": frozenset(),
}
READS: dict[str, frozenset[str]] = {  # role -> the families it reads
    "dispatcher": frozenset({"registry", "seed-marker", "dispatch-clock", "source-state"}),
    "fetcher": frozenset({"source-state", "guid-claim"}),
    "processor": frozenset({"story", "guid-claim", "fingerprint", "registry"}),
    "prices": frozenset({"prices", "price-history"}),
    "api": frozenset({"story", "listing", "source-state", "story-count", "registry", "prices"}),
}


class CursorError(ValueError):
    """A pagination cursor that was not issued by us for this listing."""


class ConflictError(RuntimeError):
    """An optimistic write lost a race; the caller re-reads and decides again."""


# Rejects outlive the dead-letter queue's 14-day retention by a day, then expire (TTL).
REJECT_TTL = timedelta(days=15)
REJECT_REASON_CHARS = 1000


@dataclass(frozen=True, slots=True)
class Reject:
    """Why a queue message failed processing, keyed by its SQS message id (`REJECT#<id>`)."""

    message_id: str
    reason: str
    error_type: str
    permanent: bool  # replaying it unchanged cannot succeed (malformed, unknown source, ...)
    receive_count: int
    failed_at: datetime
    source_id: str | None = None
    link: str | None = None
    body_sha256: str = ""


class RejectLog(Protocol):
    def put_reject(self, reject: Reject) -> None: ...

    def get_reject(self, message_id: str) -> Reject | None: ...

    def delete_reject(self, message_id: str) -> None: ...


def listing_keys(article: Article) -> tuple[str, ...]:
    keys = ["all", f"cat#{article.category.value.lower()}", f"src#{article.source_id}"]
    keys.extend(f"coin#{coin.lower()}" for coin in article.coins)
    return tuple(keys)


def sort_key(article: Article) -> str:
    return f"{iso(article.published)}#{article.id}"


def guid_key(source_id: str, guid: str) -> str:
    return f"GUID#{source_id}#{hashlib.sha256(guid.encode()).hexdigest()[:32]}"


# -- fingerprint index (near-duplicate candidates; see `fingerprint` and `dedupe`) ------------
#
# | item              | PK               | SK   | holds                                         |
# |-------------------|------------------|------|-----------------------------------------------|
# | fingerprint claim | `FP#m#<16 hex>`  | `FP` | story id holding that sketch value, TTL       |
# | URL alias         | `FP#u#<url id>`  | `FP` | story id a merged copy's own URL id belongs to |
#
# One item per key (the first story to claim it while unexpired), so finding candidates is one
# BatchGetItem of a fixed number of keys, whatever the table holds. Claims are written in the
# story's own transaction, conditional on the key being free, expired or already this story's:
# two processors racing on one story collide there, and the loser re-reads and merges.


def fingerprint_item_key(key: str) -> dict[str, dict[str, str]]:
    return {"PK": {"S": f"FP#{key}"}, "SK": {"S": "FP"}}


class Store(Protocol):
    def get_article(self, article_id: str) -> StoredArticle | None: ...

    def find_fingerprints(self, keys: Sequence[str], *, now: datetime) -> dict[str, str]: ...

    def get_articles(self, article_ids: Sequence[str]) -> list[Article]: ...

    def story_for_guid(self, source_id: str, guid: str) -> str | None: ...

    def create_article(
        self, article: Article, *, guid: tuple[str, str] | None, claims: FingerprintClaims | None = None
    ) -> None: ...

    def replace_article(
        self,
        previous: StoredArticle,
        article: Article,
        *,
        guid: tuple[str, str] | None,
        claims: FingerprintClaims | None = None,
    ) -> None: ...

    def claim_guid(self, source_id: str, guid: str, article_id: str) -> None: ...

    def list_articles(
        self, listing: str, *, limit: int, cursor: str | None, since: datetime | None = None
    ) -> Page[Article]: ...

    def get_source_states(self, source_ids: Sequence[str]) -> dict[str, SourceState]: ...

    def put_source_state(self, state: SourceState) -> None: ...

    def get_dispatch_clock(self) -> datetime | None: ...

    def put_dispatch_clock(self, moment: datetime) -> None: ...

    def put_prices(self, prices: Sequence[Price]) -> None: ...

    def get_prices(self) -> list[Price]: ...

    def get_price_board(self) -> tuple[list[Price], dict[str, ProviderHealth]]: ...

    def put_provider_health(self, health: Sequence[ProviderHealth]) -> None: ...

    def price_near(self, pair: str, moment: datetime, tolerance: timedelta) -> Price | None: ...

    def list_sources(self) -> list[Source]: ...

    def get_source(self, source_id: str) -> Source | None: ...

    def put_source(self, source: Source, *, origin: str = "admin") -> None: ...

    def seed_sources(self, sources: Sequence[Source]) -> int: ...

    def source_story_counts(self, source_ids: Sequence[str]) -> dict[str, int]: ...

    def count_source_articles(self, source_id: str) -> int: ...


def _s(value: str) -> dict[str, str]:
    return {"S": value}


class CursorCodec:
    """Opaque, tamper-evident cursors: the last key of a page, HMAC-signed with the stack's key."""

    def __init__(self, secret: bytes | Callable[[], bytes]) -> None:
        # A callable is asked on first use: the key may live in Secrets Manager, and only a
        # request that pages should pay for reading it.
        self._secret = secret

    def _sign(self, payload: bytes) -> bytes:
        if callable(self._secret):
            self._secret = self._secret()
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
        # Signed is not well-formed: a key that leaked or was reused, or a cursor of an older
        # release, can sign any payload. Its shape is checked before anything reads it.
        try:
            data = json.loads(payload)
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError alike
            raise CursorError("cursor payload is not JSON") from exc
        if not isinstance(data, dict) or not isinstance(data.get("l"), str) or not isinstance(data.get("k"), str):
            raise CursorError("cursor payload is not a page position")
        if data["l"] != listing:
            raise CursorError("cursor belongs to a different filter; start again without it")
        key: str = data["k"]
        # A sort key value is 1 to 1,024 bytes ("Constraints in Amazon DynamoDB", partition and
        # sort keys: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html),
        # and an ExclusiveStartKey DynamoDB refuses would be a 500. A lone surrogate is no UTF-8.
        try:
            size = len(key.encode("utf-8"))
        except UnicodeEncodeError:
            size = 0
        if not 0 < size <= MAX_SORT_KEY_BYTES:
            raise CursorError("cursor payload is not a page position")
        return key


class DynamoStore:
    """`Store` over a boto3 DynamoDB client (low-level, to keep items and costs explicit)."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        cursor_secret: bytes | Callable[[], bytes],
        *,
        retention: timedelta = DEFAULT_RETENTION,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = client
        self._clock = clock  # epoch seconds: expiry checks and conditions (tests move it)
        self._table = table_name
        self._cursors = CursorCodec(cursor_secret)
        self._retention = retention

    def _expires_at(self, article: Article, *, at_least: int = 0) -> int:
        """When a story and its listing entries expire: `retention` after the later of its
        publication and when we first saw it, so an archive entry published years ago is kept
        as long as a fresh one. Never earlier than `at_least` (see `create_article` and
        `replace_article`). Expiry is not publication order: `list_articles` skips expired
        entries wherever they sort."""
        start = max(article.published, article.first_seen)
        return max(int((start + self._retention).timestamp()), at_least)

    def _creation_expiry(self, article: Article, now: float) -> int:
        """A new story's expiry. First seen longer than `retention` ago (a message replayed that
        late, a backfill given old fetch times), it would be stored already expired: unseen by
        every read, and "created" again, counted again, by each redelivery. It is kept
        `retention` from now instead."""
        expires = self._expires_at(article)
        return expires if expires > now else int(now + self._retention.total_seconds())

    @staticmethod
    def _expired(item: dict[str, Any], now: float) -> bool:
        # DynamoDB's TTL deletes expired items within a day or two; until then reads skip them.
        expires = item.get("expires_at")
        return expires is not None and int(expires["N"]) <= now

    # -- stories -----------------------------------------------------------------------------

    def get_article(self, article_id: str) -> StoredArticle | None:
        resp = self._db.get_item(
            TableName=self._table,
            Key={"PK": _s(f"ART#{article_id}"), "SK": _s("ART")},
            ConsistentRead=True,
        )
        item = resp.get("Item")
        if not item or self._expired(item, self._clock()):
            return None
        expires = int(item["expires_at"]["N"]) if "expires_at" in item else None
        return StoredArticle(article_from_doc(json.loads(item["doc"]["S"])), int(item["version"]["N"]), expires)

    def get_articles(self, article_ids: Sequence[str]) -> list[Article]:
        """Stories by id, in the order asked, skipping ids that are gone (one BatchGetItem per 100)."""
        keys = [{"PK": _s(f"ART#{i}"), "SK": _s("ART")} for i in article_ids]
        # A story DynamoDB left unread raises StoreIncomplete: "gone" and "not read" differ.
        items = batch_get(self._db, self._table, keys, projection="doc, expires_at")
        now = self._clock()
        found: dict[str, Article] = {}
        for item in items:
            if not self._expired(item, now):
                article = article_from_doc(json.loads(item["doc"]["S"]))
                found[article.id] = article
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

    def _story_item(self, article: Article, version: int, expires: int) -> dict[str, Any]:
        return {
            "PK": _s(f"ART#{article.id}"),
            "SK": _s("ART"),
            "doc": _s(json.dumps(article_to_doc(article), ensure_ascii=False, separators=(",", ":"))),
            "version": {"N": str(version)},
            "expires_at": {"N": str(expires)},
        }

    def _listing_puts(self, article: Article, expires: int) -> list[dict[str, Any]]:
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
                        "expires_at": {"N": str(expires)},
                    },
                }
            }
            for listing in listing_keys(article)
        ]

    def _story_count_update(self, source_id: str, delta: int) -> dict[str, Any]:
        """The source's story count, changed in the same transaction as the story it counts: the
        transaction is conditional on the story's absence (create) or version (replace), so a
        replayed or redelivered entry, which loses that condition, can never change a count."""
        return {
            "Update": {
                "TableName": self._table,
                "Key": {"PK": _s(f"{SOURCE_COUNT_PREFIX}{source_id}"), "SK": _s("STORIES")},
                "UpdateExpression": "ADD stories :delta",
                "ExpressionAttributeValues": {":delta": {"N": str(delta)}},
            }
        }

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

    def create_article(
        self, article: Article, *, guid: tuple[str, str] | None, claims: FingerprintClaims | None = None
    ) -> None:
        now = self._clock()
        expires = self._creation_expiry(article, now)
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": self._story_item(article, 1, expires),
                    # An expired story that TTL has not deleted yet counts as absent.
                    "ConditionExpression": "attribute_not_exists(PK) OR expires_at <= :now",
                    "ExpressionAttributeValues": {":now": {"N": str(int(now))}},
                }
            },
            *self._listing_puts(article, expires),
            self._story_count_update(article.source_id, 1),
        ]
        if guid is not None:
            items.append(self._guid_put(guid[0], guid[1], article.id))
        items.extend(self._claim_puts(article.id, claims))
        self._transact(items)

    def replace_article(
        self,
        previous: StoredArticle,
        article: Article,
        *,
        guid: tuple[str, str] | None,
        claims: FingerprintClaims | None = None,
    ) -> None:
        if previous.article.id != article.id:
            raise ValueError("replace_article keeps the story id")
        # The story keeps the expiry it was created with (or a later one), so one a creation
        # kept from being stored already expired does not expire on its first correction.
        expires = self._expires_at(article, at_least=previous.expires_at or 0)
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": self._story_item(article, previous.version + 1, expires),
                    "ConditionExpression": "version = :v",
                    "ExpressionAttributeValues": {":v": {"N": str(previous.version)}},
                }
            },
            *self._listing_puts(article, expires),
        ]
        old_keys = {(listing, sort_key(previous.article)) for listing in listing_keys(previous.article)}
        new_keys = {(listing, sort_key(article)) for listing in listing_keys(article)}
        for listing, sk in sorted(old_keys - new_keys):
            items.append({"Delete": {"TableName": self._table, "Key": {"PK": _s(f"LIST#{listing}"), "SK": _s(sk)}}})
        if previous.article.source_id != article.source_id:
            # The story moved to its original: the credit (and its count) moves with it.
            items.append(self._story_count_update(previous.article.source_id, -1))
            items.append(self._story_count_update(article.source_id, 1))
        if guid is not None:
            items.append(self._guid_put(guid[0], guid[1], article.id))
        items.extend(self._claim_puts(article.id, claims))
        self._transact(items)

    def claim_guid(self, source_id: str, guid: str, article_id: str) -> None:
        self._db.put_item(**self._guid_put(source_id, guid, article_id)["Put"])

    def list_articles(
        self, listing: str, *, limit: int, cursor: str | None, since: datetime | None = None
    ) -> Page[Article]:
        """One page of a listing, newest first: one Query, with `since` as a key condition.

        SKs are `<published ISO>#<id>`, so "published at or after `since`" is `SK >= <since ISO>`
        (no FilterExpression). A cursor is bound to its listing and `since`, because DynamoDB
        refuses a start key outside the key condition.

        Expiry does not follow publication (an archive entry first seen today outlives last
        month's news), so entries past their expiry that TTL has not deleted yet may sort
        anywhere: they are skipped and the Query reads on past them, asking only for as many
        entries as the page still lacks, until the page is full or the listing ends, at most
        `MAX_LISTING_QUERIES` Queries. A page cut short by that bound or by Query's 1 MB (not
        topped up) carries a cursor that continues where it stopped, so no live entry is ever
        passed over.
        """
        # isoformat, not iso(): strftime writes year 999 as "999", which sorts after "2026".
        lower = utc(since).isoformat(timespec="seconds").replace("+00:00", "Z") if since else None
        scope = listing if lower is None else f"{listing}|since={lower}"
        values: dict[str, Any] = {":pk": _s(f"LIST#{listing}")}
        condition = "PK = :pk"
        if lower is not None:
            values[":since"] = _s(lower)
            condition += " AND SK >= :since"
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            query["ExclusiveStartKey"] = {
                "PK": _s(f"LIST#{listing}"),
                "SK": _s(self._cursors.decode(scope, cursor)),
            }
        now = self._clock()
        live: list[dict[str, Any]] = []
        last: dict[str, Any] | None = None
        for _ in range(MAX_LISTING_QUERIES):
            resp = self._db.query(**query)
            items = resp.get("Items", [])
            live.extend(item for item in items if not self._expired(item, now))
            last = resp.get("LastEvaluatedKey")
            # Cut short at 1 MB (fewer items than asked): served as it is, its cursor goes on.
            if last is None or len(live) >= limit or len(items) < query["Limit"]:
                break
            query["ExclusiveStartKey"] = last
            query["Limit"] = limit - len(live)
        articles = tuple(article_from_doc(json.loads(item["doc"]["S"])) for item in live)
        next_cursor = self._cursors.encode(scope, last["SK"]["S"]) if last else None
        return Page(items=articles, next_cursor=next_cursor)

    # -- sources -----------------------------------------------------------------------------

    def get_source_states(self, source_ids: Sequence[str]) -> dict[str, SourceState]:
        """The stored state of each source that has one. A state DynamoDB left unread raises
        `StoreIncomplete` (missing: those source ids; partial: the states that were read),
        because an absent state means "a new source" to every caller."""
        try:
            items = self._source_items(source_ids, "STATE", SOURCE_STATE_PREFIX)
        except StoreIncomplete as exc:
            read = (_state_from_item(item) for item in exc.partial.values())
            raise StoreIncomplete(
                exc.operation,
                [name.split("|", 1)[0].removeprefix(SOURCE_STATE_PREFIX) for name in exc.missing],
                {state.source_id: state for state in read},
            ) from exc
        states = (_state_from_item(item) for item in items)
        return {state.source_id: state for state in states}

    def source_story_counts(self, source_ids: Sequence[str]) -> dict[str, int]:
        """Stories credited to each source (0 for none), kept by the story writes themselves (see
        `_story_count_update`): one BatchGetItem per 100 sources, whatever their story counts."""
        counts = dict.fromkeys(source_ids, 0)
        for item in self._source_items(source_ids, "STORIES", SOURCE_COUNT_PREFIX):
            counts[item["PK"]["S"].removeprefix(SOURCE_COUNT_PREFIX)] = int(item.get("stories", {}).get("N", "0"))
        return counts

    def _source_items(self, source_ids: Sequence[str], sort_key: str, prefix: str) -> list[dict[str, Any]]:
        # BatchGetItem refuses a request that names one key twice.
        keys = [{"PK": _s(f"{prefix}{i}"), "SK": _s(sort_key)} for i in dict.fromkeys(source_ids)]
        return batch_get(self._db, self._table, keys)

    def put_source_state(self, state: SourceState) -> None:
        self._db.put_item(TableName=self._table, Item=_state_to_item(state))

    # The dispatcher's clock: when its last tick ended. The next tick considers the polls that
    # fell due since then, so ticks partition time whatever EventBridge's jitter (see
    # `fanout.select_due`). One small item: one read and one write per tick.

    def get_dispatch_clock(self) -> datetime | None:
        resp = self._db.get_item(
            TableName=self._table, Key={"PK": _s("DISPATCH"), "SK": _s("CLOCK")}, ConsistentRead=True
        )
        item = resp.get("Item")
        return parse_iso(item["at"]["S"]) if item else None

    def put_dispatch_clock(self, moment: datetime) -> None:
        """Move the clock to `moment`, never backwards (an overlapping, older tick loses)."""
        try:
            self._db.put_item(
                TableName=self._table,
                Item={"PK": _s("DISPATCH"), "SK": _s("CLOCK"), "at": _s(iso(moment))},
                ConditionExpression="attribute_not_exists(PK) OR #at < :at",
                ExpressionAttributeNames={"#at": "at"},
                ExpressionAttributeValues={":at": _s(iso(moment))},
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
            "ExpressionAttributeValues": {":pk": _s("SOURCES")},
        }
        while True:
            resp = self._db.query(**query)
            sources.extend(source_from_json(json.loads(item["doc"]["S"])) for item in resp.get("Items", []))
            last = resp.get("LastEvaluatedKey")
            if not last:
                return sources
            query["ExclusiveStartKey"] = last

    def get_source(self, source_id: str) -> Source | None:
        resp = self._db.get_item(TableName=self._table, Key={"PK": _s("SOURCES"), "SK": _s(source_id)})
        item = resp.get("Item")
        return source_from_json(json.loads(item["doc"]["S"])) if item else None

    def put_source(self, source: Source, *, origin: str = "admin") -> None:
        self._db.put_item(TableName=self._table, Item=_source_item(source, origin))

    def seed_sources(self, sources: Sequence[Source]) -> int:
        """Write the repo file's sources into the registry, unless already seeded from this very
        file (a digest item makes the usual call one GetItem). Returns how many were written."""
        digest = hashlib.sha256(json.dumps([source_to_json(s) for s in sources], sort_keys=True).encode()).hexdigest()
        marker = {"PK": _s("SOURCES#SEED"), "SK": _s("SEED")}
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
                    ExpressionAttributeValues={":file": _s("file")},
                )
                written += 1
            except self._db.exceptions.ConditionalCheckFailedException:
                pass  # an operator changed this source; the file does not override them
        self._db.put_item(TableName=self._table, Item={**marker, "digest": _s(digest)})
        return written

    def count_source_articles(self, source_id: str) -> int:
        """Stories listed under a source now, counted from its listing: a COUNT Query over
        `LIST#src#<id>`, paginated, skipping entries past their expiry that TTL has not deleted
        yet. An audit of `source_story_counts` (equal until stories expire), not for the request
        path: it reads the whole partition, ~600 read units for a year of 10 stories a day."""
        total = 0
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk",
            "FilterExpression": "attribute_not_exists(expires_at) OR expires_at > :now",
            "ExpressionAttributeValues": {
                ":pk": _s(f"LIST#src#{source_id}"),
                ":now": {"N": str(int(self._clock()))},
            },
            "Select": "COUNT",
        }
        while True:
            resp = self._db.query(**query)
            total += int(resp.get("Count", 0))
            last = resp.get("LastEvaluatedKey")
            if not last:
                return total
            query["ExclusiveStartKey"] = last

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
        return self.get_price_board()[0]

    def get_price_board(self) -> tuple[list[Price], dict[str, ProviderHealth]]:
        """The latest price of each pair and each provider's health: one Query of the `PRICES`
        partition (SK = pair, or `PROVIDER#<name>`)."""
        resp = self._db.query(
            TableName=self._table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": _s("PRICES")},
        )
        prices: list[Price] = []
        providers: dict[str, ProviderHealth] = {}
        for item in resp.get("Items", []):
            doc = json.loads(item["doc"]["S"])
            if item["SK"]["S"].startswith(PROVIDER_PREFIX):
                health = _provider_from_doc(doc)
                providers[health.provider] = health
            else:
                prices.append(price_from_doc(doc))
        return prices, providers

    def put_provider_health(self, health: Sequence[ProviderHealth]) -> None:
        self._batch_write(
            {
                "PutRequest": {
                    "Item": {
                        "PK": _s("PRICES"),
                        "SK": _s(f"{PROVIDER_PREFIX}{h.provider}"),
                        "doc": _s(json.dumps(_provider_to_doc(h), separators=(",", ":"))),
                    }
                }
            }
            for h in health
        )

    def price_near(self, pair: str, moment: datetime, tolerance: timedelta) -> Price | None:
        """The stored price of `pair` closest after `moment - tolerance` and no later than
        `moment + tolerance` (one Query, at most one item): "the price 24 h ago" for a provider
        that gives no 24 h change. History items expire after `PRICE_HISTORY_TTL`."""
        resp = self._db.query(
            TableName=self._table,
            KeyConditionExpression="PK = :pk AND SK BETWEEN :lo AND :hi",
            ExpressionAttributeValues={
                ":pk": _s(f"PRICEHIST#{pair}"),
                ":lo": _s(iso(moment - tolerance)),
                ":hi": _s(iso(moment + tolerance)),
            },
            Limit=1,
        )
        items = resp.get("Items", [])
        return price_from_doc(json.loads(items[0]["doc"]["S"])) if items else None

    def _batch_write(self, requests: Iterable[dict[str, Any]]) -> None:
        batch_write(self._db, self._table, list(requests))

    # -- rejects: why a queue message failed (SQS cannot carry the reason to the DLQ) ---------

    def put_reject(self, reject: Reject) -> None:
        """Record (or overwrite with the latest attempt) why message `reject.message_id` failed."""
        doc = {
            "message_id": reject.message_id,
            "reason": reject.reason[:REJECT_REASON_CHARS],
            "error_type": reject.error_type,
            "permanent": reject.permanent,
            "receive_count": reject.receive_count,
            "failed_at": iso(reject.failed_at),
            "source_id": reject.source_id,
            "link": reject.link,
            "body_sha256": reject.body_sha256,
        }
        expires = int((reject.failed_at + REJECT_TTL).timestamp())
        self._db.put_item(
            TableName=self._table,
            Item={
                "PK": _s(f"REJECT#{reject.message_id}"),
                "SK": _s("REJECT"),
                "doc": _s(json.dumps(doc, ensure_ascii=False, separators=(",", ":"))),
                "expires_at": {"N": str(expires)},
            },
        )

    def get_reject(self, message_id: str) -> Reject | None:
        resp = self._db.get_item(
            TableName=self._table,
            Key={"PK": _s(f"REJECT#{message_id}"), "SK": _s("REJECT")},
            ConsistentRead=True,
        )
        item = resp.get("Item")
        if not item:
            return None
        doc = json.loads(item["doc"]["S"])
        return Reject(
            message_id=doc["message_id"],
            reason=doc["reason"],
            error_type=doc["error_type"],
            permanent=bool(doc.get("permanent")),
            receive_count=int(doc.get("receive_count", 0)),
            failed_at=parse_iso(doc["failed_at"]),
            source_id=doc.get("source_id"),
            link=doc.get("link"),
            body_sha256=doc.get("body_sha256", ""),
        )

    def delete_reject(self, message_id: str) -> None:
        self._db.delete_item(TableName=self._table, Key={"PK": _s(f"REJECT#{message_id}"), "SK": _s("REJECT")})

    # -- fingerprint index (near-duplicate candidates) ---------------------------------------

    def find_fingerprints(self, keys: Sequence[str], *, now: datetime) -> dict[str, str]:
        """key → story id for each key claimed and unexpired (TTL deletion is lazy: expired
        items may still be read, so `expires_at` is compared here). One BatchGetItem per 100 keys."""
        moment = int(now.timestamp())
        # Strongly consistent: a claim written a moment ago by a racing processor is seen. A key
        # left unread raises StoreIncomplete: read as "unclaimed" it would miss a duplicate.
        items = batch_get(
            self._db,
            self._table,
            [fingerprint_item_key(key) for key in keys],
            projection="story_id, expires_at",
            consistent=True,
        )
        return {
            item["PK"]["S"].removeprefix("FP#"): item["story_id"]["S"]
            for item in items
            if int(item["expires_at"]["N"]) > moment
        }

    def _claim_puts(self, story_id: str, claims: FingerprintClaims | None) -> list[dict[str, Any]]:
        if claims is None:
            return []
        return [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        **fingerprint_item_key(key),
                        "story_id": _s(story_id),
                        "expires_at": {"N": str(claims.expires_at)},
                    },
                    "ConditionExpression": "attribute_not_exists(PK) OR expires_at <= :now OR story_id = :id",
                    "ExpressionAttributeValues": {
                        ":now": {"N": str(int(claims.now.timestamp()))},
                        ":id": _s(story_id),
                    },
                }
            }
            for key in dict.fromkeys(claims.keys)
        ]


def _transact_item_name(item: dict[str, Any]) -> str:
    action = next(iter(item.values()))
    return key_name(action.get("Item") or action["Key"])


def _source_item(source: Source, origin: str) -> dict[str, Any]:
    return {
        "PK": _s("SOURCES"),
        "SK": _s(source.id),
        "doc": _s(json.dumps(source_to_json(source), ensure_ascii=False, sort_keys=True)),
        "origin": _s(origin),
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
    }
    item: dict[str, Any] = {"PK": _s(f"SOURCE#{state.source_id}"), "SK": _s("STATE"), "doc": _s(json.dumps(doc))}
    if state.seen:
        # Raw bytes (8 per entry), not base64 in the JSON: a third smaller, and DynamoDB bills
        # a write per started KB. ~0.5 KB of doc + 8 B × up to 300 digests keeps the item under
        # 4 KB, so the dispatcher's eventually consistent read of it stays half a read unit.
        item["seen"] = {"B": state.seen}
    return item


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
        next_poll=when("next_poll"),
        last_error_at=when("last_error_at"),
        last_status=int(doc["last_status"]) if doc.get("last_status") is not None else None,
        feed_url=doc.get("feed_url"),
        feed_url_for=doc.get("feed_url_for"),
        disabled=bool(doc.get("disabled", False)),
        disabled_reason=doc.get("disabled_reason"),
        poll_interval_s=int(doc["poll_interval_s"]) if doc.get("poll_interval_s") is not None else None,
        body_hash=doc.get("body_hash"),
        seen=bytes(item["seen"]["B"]) if "seen" in item else b"",
    )


def _provider_to_doc(health: ProviderHealth) -> dict[str, Any]:
    def when(moment: datetime | None) -> str | None:
        return iso(moment) if moment else None

    return {
        "provider": health.provider,
        "last_attempt": iso(health.last_attempt),
        "last_success": when(health.last_success),
        "last_error": health.last_error,
        "last_error_at": when(health.last_error_at),
        "consecutive_failures": health.consecutive_failures,
    }


def _provider_from_doc(doc: dict[str, Any]) -> ProviderHealth:
    def when(key: str) -> datetime | None:
        value = doc.get(key)
        return parse_iso(value) if value else None

    return ProviderHealth(
        provider=str(doc["provider"]),
        last_attempt=parse_iso(doc["last_attempt"]),
        last_success=when("last_success"),
        last_error=doc.get("last_error"),
        last_error_at=when("last_error_at"),
        consecutive_failures=int(doc.get("consecutive_failures") or 0),
    )

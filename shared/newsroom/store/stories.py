"""Stories and what changes with them: the story item, its listing entries, its GUID claim and
its source's story count (see `keys` for the key design).

A story, its GUID claim and its source's count change together in one transaction (its
fingerprint claims are written just before it: `fingerprints`), with the story's `version` as an
optimistic lock, so a crash or a race never leaves a half-claimed story or a miscounted one. A
new story's listing entries follow the transaction (issue 18), one conditional PutItem each
(BatchWriteItem takes no condition): they are derived from the story alone, so a retry rewrites
them the same, and in a transaction every item costs twice (DynamoDB: two write units per KB for
a transactional write, "Capacity unit consumption for transactions",
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-capacity-handling).
A crash between the two leaves a story that is not yet listed and has not joined its event;
the redelivered message finds it so and lists it before the join (`list_story`, called by
`process.ingest`), the join being what marks a story complete. A replaced story's entries stay
in its transaction: a replace removes entries as well as writing them.

Written apart, a new story's entries could land after a replace that committed in between (the
writer paused: a throttled write's retries, a frozen Lambda): a correction that moved the
publication time, a promotion that moved the story to its original's source. So every listing
entry carries the version of the story it shows, the entries written apart are conditional on
holding no newer version (`attribute_not_exists(PK) OR expires_at <= :now OR version <= :v`: an
expired entry counts as absent), and a replace leaves a tombstone (`gone`, its version) where it
removes an entry instead of deleting it, for `TOMBSTONE_SECONDS`: the late write of an older
version finds it and is refused. Reads skip tombstones as they skip expired entries
(`Table._live_page`). A tombstone costs what the delete did (one small item in the transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from newsroom.core.codec import article_from_doc, article_to_doc
from newsroom.core.models import Article, Page, StoredArticle, utc
from newsroom.store.batches import batch_get
from newsroom.store.cursor import CursorCodec
from newsroom.store.documents import doc_attr, load_doc
from newsroom.store.keys import SOURCE_COUNT_PREFIX, guid_key, listing_keys, sort_key, string_attr
from newsroom.store.table import MAX_LISTING_QUERIES, Table

DEFAULT_RETENTION = timedelta(days=365)  # ARTICLE_RETENTION_DAYS
# How long a listing tombstone refuses a late write (see the module's docstring).
TOMBSTONE_SECONDS = 86_400


class StoryItems(Table):
    _cursors: CursorCodec
    _retention: timedelta

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

    # -- stories -----------------------------------------------------------------------------

    def get_article(self, article_id: str) -> StoredArticle | None:
        """The story and the event it joined: one strongly consistent Query of its partition,
        which holds the story item (`ART`) and, once it joined, its small event item (`EVENT`,
        see `events`); read units as for the story item alone."""
        resp = self._db.query(
            TableName=self._table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": string_attr(f"ART#{article_id}")},
            ConsistentRead=True,
        )
        by_sort_key = {item["SK"]["S"]: item for item in resp.get("Items", [])}
        item = by_sort_key.get("ART")
        if not item or self._expired(item, self._clock()):
            return None
        expires = int(item["expires_at"]["N"]) if "expires_at" in item else None
        joined = by_sort_key.get("EVENT")
        event_id = joined["event_id"]["S"] if joined and not self._expired(joined, self._clock()) else None
        article = article_from_doc(load_doc(item["doc"]))
        return StoredArticle(article, int(item["version"]["N"]), expires, event_id)

    def get_articles(self, article_ids: Sequence[str]) -> list[Article]:
        """Stories by id, in the order asked, skipping ids that are gone (one BatchGetItem per 100)."""
        keys = [{"PK": string_attr(f"ART#{i}"), "SK": string_attr("ART")} for i in article_ids]
        # A story DynamoDB left unread raises StoreIncomplete: "gone" and "not read" differ.
        items = batch_get(self._db, self._table, keys, projection="doc, expires_at")
        now = self._clock()
        found: dict[str, Article] = {}
        for item in items:
            if not self._expired(item, now):
                article = article_from_doc(load_doc(item["doc"]))
                found[article.id] = article
        return [found[i] for i in article_ids if i in found]

    def story_for_guid(self, source_id: str, guid: str) -> str | None:
        resp = self._db.get_item(
            TableName=self._table,
            Key={"PK": string_attr(guid_key(source_id, guid)), "SK": string_attr("GUID")},
            ConsistentRead=True,
        )
        item = resp.get("Item")
        return item["article_id"]["S"] if item else None

    def _guid_put(self, source_id: str, guid: str, article_id: str) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table,
                "Item": {
                    "PK": string_attr(guid_key(source_id, guid)),
                    "SK": string_attr("GUID"),
                    "article_id": string_attr(article_id),
                },
            }
        }

    def _story_item(self, article: Article, version: int, expires: int) -> dict[str, Any]:
        return {
            "PK": string_attr(f"ART#{article.id}"),
            "SK": string_attr("ART"),
            "doc": doc_attr(article_to_doc(article)),  # compressed: see `documents`
            "version": {"N": str(version)},
            "expires_at": {"N": str(expires)},
        }

    def list_story(self, article_id: str) -> bool:
        """Write the listing entries of the stored story `article_id` (idempotent: the same
        entries every time, derived from the story item as stored, expiry included). False when
        there is no such story. One strongly consistent read (`get_article`) and a conditional
        PutItem per entry; for the story a crash left unlisted (see the module's docstring), not
        the request path."""
        stored = self.get_article(article_id)
        if stored is None:
            return False
        expires = stored.expires_at if stored.expires_at is not None else self._expires_at(stored.article)
        self._write_listings(stored.article, expires, stored.version)
        return True

    def _write_listings(self, article: Article, expires: int, version: int) -> None:
        """The listing entries of `article` at `version`, one conditional PutItem each
        (BatchWriteItem takes no condition): an entry already at a newer version, or the
        tombstone a newer version left, refuses the write, which is then not needed."""
        now = int(self._clock())
        for put in self._listing_puts(article, expires, version):
            try:
                self._db.put_item(
                    **put["Put"],
                    # An expired entry or tombstone counts as absent, as an expired story does in
                    # `create_article`: a story stored again after it expired starts at version 1
                    # over entries of its old life that TTL has not deleted yet.
                    ConditionExpression="attribute_not_exists(PK) OR expires_at <= :now OR version <= :v",
                    ExpressionAttributeValues={":v": {"N": str(version)}, ":now": {"N": str(now)}},
                )
            except self._db.exceptions.ConditionalCheckFailedException:
                continue

    def _listing_puts(self, article: Article, expires: int, version: int) -> list[dict[str, Any]]:
        # What a listing page shows of a story, compressed (see `documents`): about 0.7 KB, one
        # write unit, where the plain JSON (about 1.3 KB) took two in every listing.
        summary = doc_attr(article_to_doc(article, with_body=False))
        return [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        "PK": string_attr(f"LIST#{listing}"),
                        "SK": string_attr(sort_key(article)),
                        "id": string_attr(article.id),
                        "doc": summary,
                        "version": {"N": str(version)},
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
                "Key": {"PK": string_attr(f"{SOURCE_COUNT_PREFIX}{source_id}"), "SK": string_attr("STORIES")},
                "UpdateExpression": "ADD stories :delta",
                "ExpressionAttributeValues": {":delta": {"N": str(delta)}},
            }
        }

    def create_article(self, article: Article, *, guid: tuple[str, str] | None) -> None:
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
            self._story_count_update(article.source_id, 1),
        ]
        if guid is not None:
            items.append(self._guid_put(guid[0], guid[1], article.id))
        self._transact(items)
        self._write_listings(article, expires, 1)

    def replace_article(
        self,
        previous: StoredArticle,
        article: Article,
        *,
        guid: tuple[str, str] | None,
    ) -> None:
        if previous.article.id != article.id:
            raise ValueError("replace_article keeps the story id")
        # The story keeps the expiry it was created with (or a later one), so one a creation
        # kept from being stored already expired does not expire on its first correction.
        expires = self._expires_at(article, at_least=previous.expires_at or 0)
        version = previous.version + 1
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": self._story_item(article, version, expires),
                    "ConditionExpression": "version = :v",
                    "ExpressionAttributeValues": {":v": {"N": str(previous.version)}},
                }
            },
        ]
        if not _same_listing(previous, article, expires):
            items.extend(self._listing_puts(article, expires, version))
        old_keys = {(listing, sort_key(previous.article)) for listing in listing_keys(previous.article)}
        new_keys = {(listing, sort_key(article)) for listing in listing_keys(article)}
        for listing, sk in sorted(old_keys - new_keys):
            # A tombstone, not a delete: a new story's entry written late (see the module's
            # docstring) must find this version here and be refused. The late write comes from a
            # processor invocation (30 s at most), so a day is ample; reads skip the tombstone
            # until TTL removes it.
            tombstone = {
                "PK": string_attr(f"LIST#{listing}"),
                "SK": string_attr(sk),
                "id": string_attr(article.id),
                "gone": {"BOOL": True},
                "version": {"N": str(version)},
                "expires_at": {"N": str(min(expires, int(self._clock()) + TOMBSTONE_SECONDS))},
            }
            items.append({"Put": {"TableName": self._table, "Item": tombstone}})
        if previous.article.source_id != article.source_id:
            # The story moved to its original: the credit (and its count) moves with it.
            items.append(self._story_count_update(previous.article.source_id, -1))
            items.append(self._story_count_update(article.source_id, 1))
        if guid is not None:
            items.append(self._guid_put(guid[0], guid[1], article.id))
        self._transact(items)

    def claim_guid(self, source_id: str, guid: str, article_id: str) -> None:
        self._db.put_item(**self._guid_put(source_id, guid, article_id)["Put"])

    def list_articles(
        self, listing: str, *, limit: int, cursor: str | None, since: datetime | None = None
    ) -> Page[Article]:
        """One page of a listing, newest first, from one Query (more only past expired entries:
        `Table._live_page`), with `since` as a key condition.

        SKs are `<published ISO>#<id>`, so "published at or after `since`" is `SK >= <since ISO>`
        (no FilterExpression). A cursor is bound to its listing and `since`, because DynamoDB
        refuses a start key outside the key condition. Expiry does not follow publication (an
        archive entry first seen today outlives last month's news), so expired entries may sort
        anywhere in a listing.
        """
        # isoformat, not iso(): strftime writes year 999 as "999", which sorts after "2026".
        lower = utc(since).isoformat(timespec="seconds").replace("+00:00", "Z") if since else None
        scope = listing if lower is None else f"{listing}|since={lower}"
        values: dict[str, Any] = {":pk": string_attr(f"LIST#{listing}")}
        condition = "PK = :pk"
        if lower is not None:
            values[":since"] = string_attr(lower)
            condition += " AND SK >= :since"
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
        }
        if cursor:
            query["ExclusiveStartKey"] = {
                "PK": string_attr(f"LIST#{listing}"),
                "SK": string_attr(self._cursors.decode(scope, cursor)),
            }
        live, after = self._live_page(query, limit=limit, max_queries=MAX_LISTING_QUERIES)
        articles = tuple(article_from_doc(load_doc(item["doc"])) for item in live)
        return Page(items=articles, next_cursor=self._cursors.encode(scope, after) if after else None)

    # -- story counts ------------------------------------------------------------------------

    def source_story_counts(self, source_ids: Sequence[str]) -> dict[str, int]:
        """Stories credited to each source (0 for none), kept by the story writes themselves (see
        `_story_count_update`): one BatchGetItem per 100 sources, whatever their story counts."""
        counts = dict.fromkeys(source_ids, 0)
        for item in self._source_items(source_ids, "STORIES", SOURCE_COUNT_PREFIX):
            counts[item["PK"]["S"].removeprefix(SOURCE_COUNT_PREFIX)] = int(item.get("stories", {}).get("N", "0"))
        return counts

    def count_source_articles(self, source_id: str) -> int:
        """Stories listed under a source now, counted from its listing: a COUNT Query over
        `LIST#src#<id>`, paginated, skipping entries past their expiry that TTL has not deleted
        yet. An audit of `source_story_counts` (equal until stories expire), not for the request
        path: it reads the whole partition, ~600 read units for a year of 10 stories a day."""
        total = 0
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk",
            "FilterExpression": (
                "attribute_not_exists(gone) AND (attribute_not_exists(expires_at) OR expires_at > :now)"
            ),
            "ExpressionAttributeValues": {
                ":pk": string_attr(f"LIST#src#{source_id}"),
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


def _same_listing(previous: StoredArticle, article: Article, expires: int) -> bool:
    """The listing entries of `article` would be those of `previous`, byte for byte: same summary
    (which names the listings: category, source, coins), same sort key, same expiry. A copy
    attached to a story changes only what the listing entries do not hold (`copies`), so its
    replace writes none of them, 7 write units or so saved. The entries of `previous` are in the
    table: the write that stored its version wrote them (or found them so, the same way), and
    this one is conditional on that version. The one exception, a new story a crash left
    unlisted, has no event yet, and `process.ingest` lists it (`list_story`) before its join,
    after this replace."""
    return (
        previous.expires_at == expires
        and sort_key(previous.article) == sort_key(article)
        and article_to_doc(previous.article, with_body=False) == article_to_doc(article, with_body=False)
    )

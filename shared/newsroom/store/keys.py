"""The DynamoDB key design: one table, the item families in it, and who may touch which.

Single table, no GSI needed; every request-path read is a GetItem, BatchGetItem or Query.

| item            | PK                          | SK                         | holds                                |
|-----------------|-----------------------------|----------------------------|--------------------------------------|
| story           | `ART#<id>`                  | `ART`                      | article document (zlib), `version`   |
| listing entry   | `LIST#<listing>`            | `<published>#<id>`         | summary (zlib), `version`; tombstone |
| GUID claim      | `GUID#<source>#<sha(guid)>` | `GUID`                     | the story id the entry belongs to    |
| fingerprint     | `FP#m#<hex>`, `FP#u#<id>`   | `FP`                       | story id holding that key (TTL)      |
| source state    | `STATES`                    | `<id>`                     | validators, health, next poll        |
| (legacy) state  | `SOURCE#<id>`               | `STATE`                    | read until `devtools.migrate_states` |
| story count     | `COUNT#<id>`                | `STORIES`                  | stories credited to the source       |
| source registry | `SOURCES`                   | `<id>`                     | the source's settings, `origin`      |
| seed marker     | `SOURCES#SEED`              | `SEED`                     | digest of the last seeded file       |
| dispatch clock  | `DISPATCH`                  | `CLOCK`                    | when the last dispatch tick ended    |
| latest price    | `PRICES`                    | `<SYM>/<QUOTE>`            | the current price of each pair       |
| provider health | `PRICES`                    | `PROVIDER#<name>`          | how each price provider answered     |
| price history   | `PRICEHIST#<SYM>/<QUOTE>`   | `<fetched ISO>`            | 24 h of prices (TTL `expires_at`)    |
| reject          | `REJECT#<SQS message id>`   | `REJECT`                   | why that message failed (TTL 15 d)   |
| subscription    | `WEBSUB#<source id>`        | `SUB`                      | hub, topic, token, state, lease      |
| hub secret      | `WEBSUBKEY#<source id>`     | `KEY`                      | the subscription's `hub.secret`      |
| event           | `EVENT#<id>`                | `EVENT`                    | members, outlets, ties (`events`)    |
| event lookup    | `EVKEY#<key>`               | `EVKEY`                    | recent signatures with that key, TTL |
| event listing   | `EVLIST#top`, `EVLIST#latest` | `<score or time>#<id>`   | the event's summary, TTL             |
| cursor key      | `CURSORKEY`                 | `KEY`                      | the key that signs cursors (`cursor`)|

Listings are `all`, `cat#<category>`, `coin#<ticker>` and `src#<source id>`: one small entry per
listing a story belongs to, so a page of any filter is one Query on one partition, newest
first, with no FilterExpression. The story id is derived from the original's canonical URL, so
an original and its syndicated copies meet on one item whichever arrives first, and one
story stays one feed item with one id.

Each family's items are read and written by its own module (`stories`, `fingerprints`,
`sources`, `prices`, `rejects`); `dynamo.DynamoStore` composes them. Documents marked (zlib) are
compressed JSON in a Binary attribute (`documents`), read in either form.
"""

from __future__ import annotations

import hashlib

from newsroom.core.models import Article, iso

# -- item families and who writes them ------------------------------------------------------------
#
# Each function's IAM role may touch only the partitions of the families it reads and writes:
# template.yaml grants them as `dynamodb:LeadingKeys` patterns (IAM `StringLike`), and
# tests/template/test_iam_policies.py checks the two agree. A family is known by its partition key
# alone, so two writers never share a partition: the story count lives under `COUNT#`, apart from
# the fetcher's source states.
#
# Every source's state is in one partition, `STATES` (SK: the source id), so the dispatcher reads
# them all with one paginated Query, billed by their total size (a state is ~0.5-1 KB), where a
# BatchGetItem bills each item as a whole 4 KB read (issue 18). They were one partition each,
# `SOURCE#<id>` / `STATE`; those items are still read, for a source with no state in `STATES`,
# until `devtools.migrate_states` has moved them, and never written.
SOURCE_STATES_PARTITION = "STATES"
SOURCE_STATE_PREFIX = "SOURCE#"  # the legacy state items' partition prefix
SOURCE_COUNT_PREFIX = "COUNT#"
SUBSCRIPTION_PREFIX = "WEBSUB#"  # WebSub subscriptions (the API reads them for /sources)
HUB_SECRET_PREFIX = "WEBSUBKEY#"  # noqa: S105  # a key prefix, not a secret: secrets live under it
PROVIDER_PREFIX = "PROVIDER#"  # provider health items, beside the prices in the PRICES partition
CURSOR_KEY_PARTITION = "CURSORKEY"  # the API's cursor key (`cursor.stored_cursor_key`)
ITEM_FAMILIES: dict[str, str] = {  # family -> the IAM StringLike pattern of its partition keys
    "story": "ART#*",
    "listing": "LIST#*",
    "guid-claim": "GUID#*",
    "fingerprint": "FP#*",
    "source-state": SOURCE_STATES_PARTITION,
    "legacy-source-state": SOURCE_STATE_PREFIX + "*",
    "story-count": SOURCE_COUNT_PREFIX + "*",
    "registry": "SOURCES",
    "seed-marker": "SOURCES#SEED",
    "dispatch-clock": "DISPATCH",
    "prices": "PRICES",  # latest prices and provider health
    "price-history": "PRICEHIST#*",
    "reject": "REJECT#*",
    "subscription": SUBSCRIPTION_PREFIX + "*",
    "hub-secret": HUB_SECRET_PREFIX + "*",
    "event": "EVENT#*",
    "event-key": "EVKEY#*",
    "event-listing": "EVLIST#*",
    "cursor-key": CURSOR_KEY_PARTITION,
}
WRITES: dict[str, frozenset[str]] = {  # role -> the families it writes
    "dispatcher": frozenset({"registry", "seed-marker", "dispatch-clock"}),
    "fetcher": frozenset({"source-state", "subscription", "hub-secret"}),
    "processor": frozenset(
        {
            "story",
            "listing",
            "guid-claim",
            "fingerprint",
            "story-count",
            "reject",
            "event",
            "event-key",
            "event-listing",
        }
    ),
    "prices": frozenset({"prices", "price-history"}),
    # The API creates the cursor key on the first request that pages (`cursor.stored_cursor_key`).
    "api": frozenset({"cursor-key"}),
    # The WebSub callback: a delivery's entries are filtered by, and remembered in, the source's
    # seen digests (its `seen` attribute alone), and the subscription records verification and
    # deliveries.
    "callback": frozenset({"source-state", "subscription"}),
}
READS: dict[str, frozenset[str]] = {  # role -> the families it reads
    "dispatcher": frozenset({"registry", "seed-marker", "dispatch-clock", "source-state", "legacy-source-state"}),
    "fetcher": frozenset({"source-state", "legacy-source-state", "guid-claim", "subscription", "hub-secret"}),
    "processor": frozenset({"story", "guid-claim", "fingerprint", "registry", "event", "event-key"}),
    "prices": frozenset({"prices", "price-history"}),
    "api": frozenset(
        {
            "story",
            "listing",
            "source-state",
            "legacy-source-state",
            "story-count",
            "registry",
            "prices",
            "subscription",
            "event",
            "event-listing",
            "cursor-key",
        }
    ),
    "callback": frozenset({"source-state", "legacy-source-state", "subscription", "hub-secret", "registry"}),
}


def string_attr(value: str) -> dict[str, str]:
    """A DynamoDB string attribute value, as the low-level client takes it."""
    return {"S": value}


def listing_keys(article: Article) -> tuple[str, ...]:
    keys = ["all", f"cat#{article.category.value.lower()}", f"src#{article.source_id}"]
    keys.extend(f"coin#{coin.lower()}" for coin in article.coins)
    return tuple(keys)


def sort_key(article: Article) -> str:
    return f"{iso(article.published)}#{article.id}"


def guid_key(source_id: str, guid: str) -> str:
    return f"GUID#{source_id}#{hashlib.sha256(guid.encode()).hexdigest()[:32]}"


def fingerprint_item_key(key: str) -> dict[str, dict[str, str]]:
    return {"PK": string_attr(f"FP#{key}"), "SK": string_attr("FP")}

"""The fingerprint index: near-duplicate candidates (see `process.fingerprint` and `process.dedupe`).

| item              | PK               | SK   | holds                                          |
|-------------------|------------------|------|------------------------------------------------|
| fingerprint claim | `FP#m#<16 hex>`  | `FP` | story id holding that sketch value, TTL        |
| URL alias         | `FP#u#<url id>`  | `FP` | story id a merged copy's own URL id belongs to |

One item per key (the first story to claim it while unexpired), so finding candidates is one
BatchGetItem of a fixed number of keys, whatever the table holds. Claims are written in the
story's own transaction (`claim_puts`, used by `stories`), conditional on the key being free,
expired or already this story's: two processors racing on one story collide there, and the loser
re-reads and merges.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from newsroom.core.models import FingerprintClaims
from newsroom.store.batches import batch_get
from newsroom.store.keys import fingerprint_item_key, string_attr
from newsroom.store.table import Table


class FingerprintItems(Table):
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


def claim_puts(table: str, story_id: str, claims: FingerprintClaims | None) -> list[dict[str, Any]]:
    """The TransactWriteItems actions that claim `claims.keys` for `story_id`."""
    if claims is None:
        return []
    return [
        {
            "Put": {
                "TableName": table,
                "Item": {
                    **fingerprint_item_key(key),
                    "story_id": string_attr(story_id),
                    "expires_at": {"N": str(claims.expires_at)},
                },
                "ConditionExpression": "attribute_not_exists(PK) OR expires_at <= :now OR story_id = :id",
                "ExpressionAttributeValues": {
                    ":now": {"N": str(int(claims.now.timestamp()))},
                    ":id": string_attr(story_id),
                },
            }
        }
        for key in dict.fromkeys(claims.keys)
    ]

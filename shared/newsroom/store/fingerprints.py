"""The fingerprint index: near-duplicate candidates (see `process.fingerprint` and `process.dedupe`).

| item              | PK               | SK   | holds                                          |
|-------------------|------------------|------|------------------------------------------------|
| fingerprint claim | `FP#m#<16 hex>`  | `FP` | story id holding that sketch value, TTL        |
| URL alias         | `FP#u#<url id>`  | `FP` | story id a merged copy's own URL id belongs to |

One item per key (the first story to claim it while unexpired), so finding candidates is one
BatchGetItem of a fixed number of keys, whatever the table holds.

Claims are written just before the story's transaction, one conditional PutItem each in the
order of their keys (`claim_fingerprints`: 1 write unit a claim, where in the transaction each
cost 2; DynamoDB, "Capacity unit consumption for transactions",
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-capacity-handling),
conditional on the key being free, expired or already this story's: two processors storing
copies of one text collide on the first key they share, and the loser, which has written none of
the keys after it, reads again. It may then find a claim whose story is not stored yet: a write
in progress, or one that crashed. A claim carries the time it was written, and the next story to
claim that key claims it over the other (`process.dedupe.find_cluster`), conditional on it still
being that claim and older than `config.CLAIM_PENDING_SECONDS`: a write in progress fails that
condition, and the copy backs off and reads again until the story is there; a crashed one is
taken over. A crashed write's own redelivery writes its claims again, with the time of that
attempt, before its story: so of it and a story taking its claims over, one fails its condition,
and the two still meet. The keys a loser wrote before the one it lost at name its own story id;
when it merges into the story it lost to, they are claimed for that story (`writer`, and
`process.ingest` when the merge writes nothing else).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from newsroom.core.config import CLAIM_PENDING_SECONDS
from newsroom.core.models import FingerprintClaims, HeldClaim
from newsroom.store.batches import batch_get
from newsroom.store.keys import fingerprint_item_key, string_attr
from newsroom.store.table import Table


class FingerprintItems(Table):
    def find_fingerprints(self, keys: Sequence[str], *, now: datetime) -> dict[str, HeldClaim]:
        """key → its claim, for each key claimed and unexpired (TTL deletion is lazy: expired
        items may still be read, so `expires_at` is compared here). One BatchGetItem per 100 keys."""
        moment = int(now.timestamp())
        # Strongly consistent: a claim written a moment ago by a racing processor is seen. A key
        # left unread raises StoreIncomplete: read as "unclaimed" it would miss a duplicate.
        items = batch_get(
            self._db,
            self._table,
            [fingerprint_item_key(key) for key in keys],
            projection="story_id, expires_at, written",
            consistent=True,
        )
        return {
            item["PK"]["S"].removeprefix("FP#"): HeldClaim(
                item["story_id"]["S"],
                datetime.fromtimestamp(int(item["written"]["N"]), UTC) if "written" in item else None,
            )
            for item in items
            if int(item["expires_at"]["N"]) > moment
        }

    def claim_fingerprints(self, story_id: str, claims: FingerprintClaims | None) -> None:
        """Claim `claims.keys` for `story_id`, one conditional PutItem each in the order of their
        keys (see the module's docstring); raises ConflictError at the first key another story
        holds, having written none after it."""
        for put in claim_puts(self._table, story_id, claims):
            self._put_or_conflict(put, f"fingerprint key {put['Item']['PK']['S']!r}")


def claim_puts(table: str, story_id: str, claims: FingerprintClaims | None) -> list[dict[str, Any]]:
    """The PutItem requests that claim `claims.keys` for `story_id`, in the order of their keys."""
    if claims is None:
        return []
    now = int(claims.now.timestamp())
    stale = int((claims.now - timedelta(seconds=CLAIM_PENDING_SECONDS)).timestamp())
    taking_over = dict(claims.taking_over)
    puts = []
    for key in sorted(set(claims.keys)):
        condition = "attribute_not_exists(PK) OR expires_at <= :now OR story_id = :id"
        values = {":now": {"N": str(now)}, ":id": string_attr(story_id)}
        if claims.writer is not None and claims.writer != story_id:
            condition += " OR story_id = :writer"  # this entry's own claim, from an attempt that lost
            values[":writer"] = string_attr(claims.writer)
        if key in taking_over:
            # Still the crashed write's claim, and still old: its redelivery, had it come since,
            # would have written it again with a new time (see the module's docstring).
            condition += " OR (story_id = :held AND (attribute_not_exists(written) OR written <= :stale))"
            values[":held"] = string_attr(taking_over[key])
            values[":stale"] = {"N": str(stale)}
        item = {
            **fingerprint_item_key(key),
            "story_id": string_attr(story_id),
            "expires_at": {"N": str(claims.expires_at)},
            "written": {"N": str(now)},
        }
        puts.append(
            {"TableName": table, "Item": item, "ConditionExpression": condition, "ExpressionAttributeValues": values}
        )
    return puts

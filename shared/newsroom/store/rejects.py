"""Rejects: why a queue message failed, keyed by its SQS message id (SQS cannot carry the reason
to the dead-letter queue)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from newsroom.core.models import iso, parse_iso
from newsroom.store.keys import string_attr
from newsroom.store.table import Table

# Rejects outlive the dead-letter queue's 14-day retention (the most SQS keeps a message: "Amazon
# SQS message quotas", https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html)
# by a day, then expire (TTL).
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


class RejectItems(Table):
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
                "PK": string_attr(f"REJECT#{reject.message_id}"),
                "SK": string_attr("REJECT"),
                "doc": string_attr(json.dumps(doc, ensure_ascii=False, separators=(",", ":"))),
                "expires_at": {"N": str(expires)},
            },
        )

    def get_reject(self, message_id: str) -> Reject | None:
        resp = self._db.get_item(
            TableName=self._table,
            Key={"PK": string_attr(f"REJECT#{message_id}"), "SK": string_attr("REJECT")},
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
        self._db.delete_item(
            TableName=self._table, Key={"PK": string_attr(f"REJECT#{message_id}"), "SK": string_attr("REJECT")}
        )

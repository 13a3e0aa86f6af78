"""Entries too big for a queue message travel as a claim check: the entry in S3, a pointer on SQS.

Rules:

- An entry message over `MAX_MESSAGE_BYTES` is written to the entry bucket under a key made of
  its source and the SHA-256 of its bytes, and the queue carries a pointer: bucket, key, size,
  digest, plus the entry's `source_id` and `link` so a failure is still described by source and
  link (`service.describe_failure`). The key is content-addressed, so a retried send writes the
  same object and a redelivered pointer reads the same bytes.
- The threshold is 240 KB, not SQS's 1 MiB: a batch of ten full-size messages would pass
  Lambda's 6 MB invocation payload, and SQS bills every 64 KB of a message as one request, so
  a 1 MiB message costs as much as the S3 PUT and GET that replace it. Almost every entry is a
  few KB; only pathological ones (a feed that inlines a whole e-book) take this path.
- The processor reads the object back and checks its size and digest; an object that is gone
  (the bucket's lifecycle rule expires them after the longest a message can live, 14 days in
  the dead-letter queue) or altered is a permanent failure (`MessageError`), anything else
  (S3 throttling, a network error) is retried like any other transient fault.
- Without a bucket configured (unit tests, a stack without one) an oversize entry is cut to
  fit, with a warning: it still arrives, with less of its body.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from newsroom.core.codec import MESSAGE_VERSION, MessageError

MAX_MESSAGE_BYTES = 240_000
KEY_PREFIX = "entries/"


@dataclass(frozen=True, slots=True)
class ClaimCheck:
    bucket: str
    key: str
    size: int  # bytes of the stored entry message (UTF-8)
    sha256: str


def object_key(source_id: str, digest: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in source_id)[:64] or "_"
    return f"{KEY_PREFIX}{safe}/{digest}.json"


def claim_for(bucket: str, source_id: str, payload: bytes) -> ClaimCheck:
    digest = hashlib.sha256(payload).hexdigest()
    return ClaimCheck(bucket=bucket, key=object_key(source_id, digest), size=len(payload), sha256=digest)


def pointer_message(claim: ClaimCheck, *, source_id: str, link: str) -> str:
    return json.dumps(
        {
            "v": MESSAGE_VERSION,
            "claim": {"bucket": claim.bucket, "key": claim.key, "bytes": claim.size, "sha256": claim.sha256},
            "source_id": source_id,
            "link": link,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def claim_in(body: str) -> ClaimCheck | None:
    """The claim check a message carries, or None for a message that carries its entry itself."""
    if '"claim"' not in body:  # the common case costs a substring search, not a JSON parse
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None  # not JSON: `entry_from_message` reports it
    if not isinstance(data, dict) or "claim" not in data:
        return None
    claim = data["claim"]
    try:
        return ClaimCheck(
            bucket=str(claim["bucket"]), key=str(claim["key"]), size=int(claim["bytes"]), sha256=str(claim["sha256"])
        )
    except (TypeError, KeyError, ValueError) as exc:
        raise MessageError(f"malformed claim check: {exc}") from exc


def verified(claim: ClaimCheck, payload: bytes) -> str:
    """The stored entry message, once its size and digest match the pointer's."""
    if len(payload) != claim.size or hashlib.sha256(payload).hexdigest() != claim.sha256:
        raise MessageError(f"s3://{claim.bucket}/{claim.key} does not match its claim check (size or digest)")
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MessageError(f"s3://{claim.bucket}/{claim.key} is not UTF-8") from exc


class EntryBucket:
    """The S3 side: store an oversize entry message, read one back."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self.bucket = bucket

    def check_in(self, message: str, *, source_id: str, link: str) -> str:
        """Store `message` and return the pointer to queue instead."""
        payload = message.encode("utf-8")
        claim = claim_for(self.bucket, source_id, payload)
        self._s3.put_object(
            Bucket=claim.bucket,
            Key=claim.key,
            Body=payload,
            ContentType="application/json; charset=utf-8",
            ChecksumAlgorithm="SHA256",
        )
        return pointer_message(claim, source_id=source_id, link=link)

    def redeem(self, claim: ClaimCheck) -> str:
        from botocore.exceptions import ClientError

        try:
            response = self._s3.get_object(Bucket=claim.bucket, Key=claim.key)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("NoSuchKey", "404", "NoSuchBucket"):
                gone = f"s3://{claim.bucket}/{claim.key} is gone ({code}); the entry cannot be read"
                raise MessageError(gone) from exc
            raise
        return verified(claim, response["Body"].read())

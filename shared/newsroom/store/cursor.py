"""Pagination cursors: the last key of a page, opaque to clients and tamper-evident, and the key
that signs them, kept in the table (`stored_cursor_key`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable

from newsroom.store.keys import CURSOR_KEY_PARTITION, string_attr
from newsroom.store.table import Table

MAX_SORT_KEY_BYTES = 1024
CURSOR_KEY_BYTES = 32  # HMAC-SHA256's block is 64 bytes; 32 random bytes are its full strength
_CURSOR_KEY_ITEM = {"PK": string_attr(CURSOR_KEY_PARTITION), "SK": string_attr("KEY")}


class CursorKeyItems(Table):
    def stored_cursor_key(self) -> bytes:
        """The key that signs cursors, from its table item; the first caller ever creates it (32
        random bytes, a PutItem conditional on the item's absence, so environments racing to
        create it all end with the one that landed). One strongly consistent GetItem once it
        exists; a `DynamoStore` given no key reads it so, on the first cursor it signs or checks.

        Kept in the table rather than in Secrets Manager (issue 18: $0.40 a month, a fifth of the
        idle stack): it signs page positions, nothing more, and of the functions only the API's
        role may read or write its partition (template.yaml; tests/template/test_iam_policies.py),
        as the hub secrets are kept. The price: whoever may read the table (ReadOnlyAccess, an
        export, a backup) may read the key. Rotating it is deleting the item and recycling the
        API's environments (each keeps the key it read); cursors handed out before are refused."""
        found = self._read_cursor_key()
        if found is not None:
            return found
        key = secrets.token_bytes(CURSOR_KEY_BYTES)
        try:
            self._db.put_item(
                TableName=self._table,
                Item={**_CURSOR_KEY_ITEM, "key": {"B": key}},
                ConditionExpression="attribute_not_exists(PK)",
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            # Another environment created it between our read and our write: theirs is the key.
            theirs = self._read_cursor_key()
            if theirs is None:
                raise RuntimeError("the cursor key item was refused as present, then read as absent") from None
            return theirs
        return key

    def _read_cursor_key(self) -> bytes | None:
        item = self._db.get_item(TableName=self._table, Key=_CURSOR_KEY_ITEM, ConsistentRead=True).get("Item")
        return bytes(item["key"]["B"]) if item else None


class CursorError(ValueError):
    """A pagination cursor that was not issued by us for this listing."""


class CursorCodec:
    """Opaque, tamper-evident cursors: the last key of a page, HMAC-signed with the stack's key."""

    def __init__(self, secret: bytes | Callable[[], bytes]) -> None:
        # A callable is asked on first use: the key may live in the table
        # (`stored_cursor_key`), and only a request that pages should pay for reading it.
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

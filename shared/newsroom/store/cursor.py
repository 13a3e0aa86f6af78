"""Pagination cursors: the last key of a page, opaque to clients and tamper-evident."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable

MAX_SORT_KEY_BYTES = 1024


class CursorError(ValueError):
    """A pagination cursor that was not issued by us for this listing."""


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

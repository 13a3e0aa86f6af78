"""`DynamoStore`: the store over one DynamoDB table, composed from one part per item family.

`keys` holds the key design; each family's items are read and written by its own module:
`stories` (stories, listings, GUID claims, story counts), `fingerprints`, `sources` (state,
registry, dispatch clock), `prices`, `rejects` and `subscriptions`. Callers ask for the role they need
(`roles.ProcessorStore`, `roles.ApiStore`, ...); `DynamoStore` satisfies them all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from newsroom.store.cursor import CursorCodec, CursorKeyItems
from newsroom.store.events import EventItems
from newsroom.store.fingerprints import FingerprintItems
from newsroom.store.prices import PriceItems
from newsroom.store.rejects import RejectItems
from newsroom.store.sources import SourceItems
from newsroom.store.stories import DEFAULT_RETENTION, StoryItems
from newsroom.store.subscriptions import SubscriptionItems


class DynamoStore(
    StoryItems, EventItems, FingerprintItems, SubscriptionItems, SourceItems, PriceItems, RejectItems, CursorKeyItems
):
    """Every role (`roles.Store`) and the reject log over a boto3 DynamoDB client (low-level, to
    keep items and costs explicit)."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        cursor_secret: bytes | Callable[[], bytes] | None,
        *,
        retention: timedelta = DEFAULT_RETENTION,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = client
        self._clock = clock  # epoch seconds: expiry checks and conditions (tests move it)
        self._table = table_name
        # No key given: the table's (`stored_cursor_key`), read on the first cursor.
        self._cursors = CursorCodec(self.stored_cursor_key if cursor_secret is None else cursor_secret)
        self._retention = retention

    def cursor_codec(self) -> CursorCodec:
        """The codec every listing's cursors are signed with; `/sources` signs its own with it."""
        return self._cursors

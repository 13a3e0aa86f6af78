"""What the fetcher does for WebSub after each poll of a source (`fetch.apply`'s push hook):
discover the hub in a newly read document, subscribe, renew or retry as `subscriber.next_step`
decides, and say until when the source counts as pushed, so the poll steps back to the safety
net (`schedule.pushed_until`, `schedule.pushed_next_poll`).

The subscriptions are read with the source states, in the fetcher's one BatchGetItem per batch
(`PushStep.states`, which `fetch.apply.fetch_all` calls instead of `get_source_states`), not by a
GetItem per poll: with WebSub configured every poll runs this step, and a strongly consistent
GetItem was one more read unit a poll than the state itself (`make cost`). That read is eventually
consistent, like the state's: the previous poll's subscription write is minutes old. A poll
without that read (`poll_one` alone) falls back to the GetItem.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime

from newsroom.core.config import DEFAULT_WEBSUB_LIMITS, WebSubLimits
from newsroom.core.models import Source, SourceState
from newsroom.fetch.addresses import Resolver, resolve_host
from newsroom.fetch.contract import FetchPolicy
from newsroom.fetch.poll import Reading
from newsroom.sources.schedule import pushed_until
from newsroom.store.roles import SubscriberStore
from newsroom.store.subscriptions import Subscription
from newsroom.websub.discovery import discover
from newsroom.websub.subscriber import carry_out, next_step

__all__ = ["PushStep"]

logger = logging.getLogger(__name__)

_UNREAD = object()


class PushStep:
    """The fetcher's push hook (`fetch.apply.PushHook`): `states` reads a batch's source states
    and subscriptions at once; calling it after a poll asks the hub what `next_step` decides and
    says until when the source counts as pushed."""

    def __init__(
        self,
        store: SubscriberStore,
        callback_base: str,
        policy: FetchPolicy,
        *,
        limits: WebSubLimits = DEFAULT_WEBSUB_LIMITS,
        resolver: Resolver = resolve_host,
    ) -> None:
        self._store, self._callback_base, self._policy = store, callback_base, policy
        self._limits, self._resolver = limits, resolver
        self._lock = threading.Lock()
        self._read: dict[str, Subscription | None] = {}

    def states(self, source_ids: Sequence[str]) -> dict[str, SourceState]:
        """`get_source_states`, with the subscriptions read in the same BatchGetItem and kept for
        this batch's polls (each used once). Raises `StoreIncomplete` as `get_source_states` does."""
        states, subs = self._store.get_source_states_and_subscriptions(source_ids)
        with self._lock:
            self._read = {source_id: subs.get(source_id) for source_id in source_ids}
        return states

    def _existing(self, source_id: str) -> Subscription | None:
        with self._lock:
            read = self._read.pop(source_id, _UNREAD)
        if read is _UNREAD:
            return self._store.get_subscription(source_id)
        return read if isinstance(read, Subscription) else None

    def __call__(self, source: Source, reading: Reading, now: datetime) -> datetime | None:
        existing = self._existing(source.id)
        result = reading.result
        # Only a newly parsed document is searched for a hub: a 304 or the same body says nothing new.
        found = (
            discover(result.body, result.headers, result.url, limits=self._limits)
            if result and reading.parsed
            else None
        )
        if found is not None and found.refused:
            logger.info("source %s: hub links refused: %s", source.id, [(r.href[:80], r.reason) for r in found.refused])
        step = next_step(source, source.id, found, existing, now, self._limits)
        if step is not None:
            logger.info("source %s: websub %s (%s) at %s", source.id, step.mode, step.why, step.sub.hub)
            existing = carry_out(step, self._store, self._callback_base, self._policy, resolver=self._resolver)
        return pushed_until(existing, now, self._limits)

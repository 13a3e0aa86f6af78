"""What the fetcher does for WebSub after each poll of a source (`fetch.apply`'s push hook):
discover the hub in a newly read document, subscribe, renew or retry as `subscriber.next_step`
decides, and say until when the source counts as pushed, so the poll steps back to the safety
net (`schedule.pushed_until`, `schedule.pushed_next_poll`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from newsroom.core.config import DEFAULT_WEBSUB_LIMITS, WebSubLimits
from newsroom.core.models import Source
from newsroom.fetch.addresses import Resolver, resolve_host
from newsroom.fetch.contract import FetchPolicy
from newsroom.fetch.poll import Reading
from newsroom.sources.schedule import pushed_until
from newsroom.store.roles import SubscriberStore
from newsroom.websub.discovery import discover
from newsroom.websub.subscriber import carry_out, next_step

__all__ = ["PushHook", "make_push_hook"]

logger = logging.getLogger(__name__)


PushHook = Callable[[Source, Reading, datetime], datetime | None]


def make_push_hook(
    store: SubscriberStore,
    callback_base: str,
    policy: FetchPolicy,
    *,
    limits: WebSubLimits = DEFAULT_WEBSUB_LIMITS,
    resolver: Resolver = resolve_host,
) -> PushHook:
    def hook(source: Source, reading: Reading, now: datetime) -> datetime | None:
        existing = store.get_subscription(source.id)
        result = reading.result
        # Only a newly parsed document is searched for a hub: a 304 or the same body says nothing new.
        found = discover(result.body, result.headers, result.url, limits=limits) if result and reading.parsed else None
        if found is not None and found.refused:
            logger.info("source %s: hub links refused: %s", source.id, [(r.href[:80], r.reason) for r in found.refused])
        step = next_step(source, source.id, found, existing, now, limits)
        if step is not None:
            logger.info("source %s: websub %s (%s) at %s", source.id, step.mode, step.why, step.sub.hub)
            existing = carry_out(step, store, callback_base, policy, resolver=resolver)
        return pushed_until(existing, now, limits)

    return hook

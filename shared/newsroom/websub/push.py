"""What the fetcher does for WebSub after each poll of a source (`fetch.apply`'s push hook):
discover the hub in a newly read document, subscribe, renew or retry as `subscriber.next_step`
decides, and say until when the source counts as pushed, so the poll steps back to the safety
net (`schedule.pushed_next_poll`).

A source counts as pushed while its subscription is active, its lease has not ended, and its
hub spoke (verified or delivered) within `WebSubLimits.silent_after_seconds`; a failed renewal
leaves the subscription "denied", so polling resumes its normal rhythm at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from newsroom.core.config import DEFAULT_WEBSUB_LIMITS, WebSubLimits
from newsroom.core.models import Source
from newsroom.fetch.addresses import Resolver, resolve_host
from newsroom.fetch.contract import FetchPolicy
from newsroom.fetch.poll import Reading
from newsroom.store.roles import SubscriberStore
from newsroom.store.subscriptions import Subscription
from newsroom.websub.discovery import discover
from newsroom.websub.subscriber import carry_out, next_step

__all__ = ["make_push_hook", "pushed_until"]

logger = logging.getLogger(__name__)


def pushed_until(
    sub: Subscription | None, now: datetime, limits: WebSubLimits = DEFAULT_WEBSUB_LIMITS
) -> datetime | None:
    """Until when `sub` may stand in for polling (None: it may not now)."""
    if sub is None or sub.state != "active" or sub.lease_expires is None:
        return None
    heard = max(t for t in (sub.last_delivery, sub.verified_at, sub.requested_at) if t is not None)
    until = min(sub.lease_expires, heard + timedelta(seconds=limits.silent_after_seconds))
    return until if until > now else None


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

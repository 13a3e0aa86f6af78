"""Asking hubs: subscribe when a feed names a hub, renew before the lease ends, unsubscribe when a
source is disabled or removed. `next_step` decides without I/O; `carry_out` performs it.

WebSub section 5.1 (Subscriber Sends Subscription Request): a form-encoded POST to the hub with
`hub.callback`, `hub.mode`, `hub.topic`, and optionally `hub.lease_seconds` and `hub.secret`
("MUST be less than 200 bytes in length"; ours: `WebSubLimits.secret_bytes` random bytes from
`secrets`, as hex). The hub answers 202 Accepted, then verifies our intent with a GET to the
callback (5.3), so the subscription and its secret are written *before* the POST. Renewal is a
new subscribe request with the same callback and secret (5.1: a subscriber "MAY" re-request a
subscription before the lease expires). A hub's refusal (4xx/5xx) records the error and the
source keeps its normal polling.

The callback URL is `<base>/websub/<source id>/<token>`, the token 32 random bytes (url-safe):
unguessable, so a forged verification or delivery reaches no subscription.

A source disabled or removed by an operator is never polled again, so its subscription is ended
by `end_subscription` (the admin command's `disable` and `remove`), not by the fetcher.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from newsroom.core.config import DEFAULT_WEBSUB_LIMITS, WebSubLimits
from newsroom.core.models import Source
from newsroom.fetch.addresses import Resolver, resolve_host
from newsroom.fetch.contract import FetchError, FetchPolicy
from newsroom.fetch.http import http_post_form
from newsroom.store.roles import SubscriberStore
from newsroom.store.subscriptions import Subscription
from newsroom.websub.discovery import Discovery, vet_hub

__all__ = ["Ending", "Step", "callback_url", "carry_out", "end_subscription", "new_subscription", "next_step"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Step:
    mode: str  # "subscribe" or "unsubscribe"
    sub: Subscription  # as it stands once the request is sent (written before the POST)
    why: str  # "new", "renew", "retry", "hub-changed", "disabled", "removed"
    secret: str | None = None  # a new secret to store (new subscriptions only)


def callback_url(base: str, sub: Subscription) -> str:
    return f"{base.rstrip('/')}/websub/{quote(sub.source_id, safe='')}/{sub.token}"


def new_subscription(
    source_id: str, hub: str, topic: str, now: datetime, limits: WebSubLimits
) -> tuple[Subscription, str]:
    sub = Subscription(
        source_id=source_id,
        hub=hub,
        topic=topic,
        token=secrets.token_urlsafe(32),
        state="subscribing",
        requested_at=now,
        requested_lease_seconds=limits.lease_seconds,
    )
    return sub, secrets.token_hex(limits.secret_bytes)


def next_step(
    source: Source | None,
    source_id: str,
    found: Discovery | None,
    existing: Subscription | None,
    now: datetime,
    limits: WebSubLimits = DEFAULT_WEBSUB_LIMITS,
) -> Step | None:
    """What to ask a hub about `source_id` now, if anything. `source` None: removed from the
    registry; `found` None: the feed was not read this time (a 304, or an error)."""
    live = existing is not None and existing.state in ("subscribing", "active")
    if source is None or not source.enabled:
        if existing is not None and live:
            why = "removed" if source is None else "disabled"
            return Step("unsubscribe", replace(existing, state="unsubscribing", requested_at=now), why)
        return None
    if existing is not None and live:
        if found is not None and found.pushed and existing.hub not in found.hubs:
            sub, secret = new_subscription(source_id, found.hubs[0], found.topic, now, limits)
            return Step("subscribe", sub, "hub-changed", secret)
        pending_for = now - existing.requested_at
        if existing.state == "subscribing" and pending_for < timedelta(seconds=limits.pending_timeout_seconds):
            return None
        if existing.state == "subscribing":
            return Step("subscribe", replace(existing, requested_at=now), "retry")
        left = (existing.lease_expires or now) - now
        if left <= timedelta(seconds=limits.renew_before_seconds):
            return Step("subscribe", replace(existing, requested_at=now), "renew")
        return None
    if found is None or not found.pushed:
        return None
    # A hub that refused us is asked again only once the pending window has passed.
    refused_lately = (
        now - existing.requested_at < timedelta(seconds=limits.pending_timeout_seconds) if existing else False
    )
    if existing is not None and existing.state == "denied" and existing.hub == found.hubs[0] and refused_lately:
        return None
    sub, secret = new_subscription(source_id, found.hubs[0], found.topic, now, limits)
    return Step("subscribe", sub, "new", secret)


Post = Callable[..., Any]


def carry_out(
    step: Step,
    store: SubscriberStore,
    callback_base: str,
    policy: FetchPolicy,
    *,
    post: Post = http_post_form,
    resolver: Resolver = resolve_host,
) -> Subscription:
    """Write the subscription (and a new secret), then ask the hub; a refused or unreachable hub
    is recorded on the subscription ("denied"), never raised."""
    sub = step.sub
    refused = vet_hub(sub.hub, policy, resolver)
    if refused is not None:
        failed = replace(sub, state="denied", last_error=f"hub refused: {refused}")
        store.put_subscription(failed)
        return failed
    if step.secret is not None:
        store.put_hub_secret(sub.source_id, step.secret)
    store.put_subscription(sub)
    fields = {"hub.mode": step.mode, "hub.topic": sub.topic, "hub.callback": callback_url(callback_base, sub)}
    if step.mode == "subscribe":
        fields["hub.lease_seconds"] = str(sub.requested_lease_seconds)
        secret = step.secret if step.secret is not None else store.get_hub_secret(sub.source_id)
        if secret:
            fields["hub.secret"] = secret
    try:
        post(sub.hub, fields, policy, resolver=resolver)
    except FetchError as exc:
        logger.warning("hub %s refused %s for %s: %s", sub.hub, step.mode, sub.source_id, exc.reason)
        if step.mode == "unsubscribe":
            failed = replace(sub, state="ended", last_error=f"unsubscribe failed: {exc.reason}")
        else:
            failed = replace(sub, state="denied", last_error=f"{step.mode} failed: {exc.reason}: {exc}"[:300])
        store.put_subscription(failed)
        return failed
    return sub


@dataclass(frozen=True, slots=True)
class Ending:
    """What `end_subscription` did. `sub`: the subscription as it now stands (None: there is
    none); `told_hub`: the hub was sent hub.mode=unsubscribe (its answer is in `sub.last_error`
    when it refused)."""

    sub: Subscription | None
    told_hub: bool


def end_subscription(
    source: Source | None,
    source_id: str,
    store: SubscriberStore,
    callback_base: str | None,
    policy: FetchPolicy,
    *,
    now: datetime,
    post: Post = http_post_form,
    resolver: Resolver = resolve_host,
) -> Ending:
    """End the live subscription of a source disabled (`source.enabled` False) or removed
    (`source` None): `next_step` decides, `carry_out` writes it "unsubscribing" and sends the
    hub hub.mode=unsubscribe (5.1); the hub's intent verification (5.3) then finds it
    "unsubscribing" and the callback ends it. An enabled source, or one without a live
    subscription, is left alone.

    The request must name the very callback URL that was subscribed, so without `callback_base`
    the hub cannot be asked: the subscription is left as it stands (`told_hub` False), the
    callback ignores its deliveries (the source is disabled or gone) and it lapses with its lease."""
    existing = store.get_subscription(source_id)
    step = next_step(source, source_id, None, existing, now)
    if step is None or step.mode != "unsubscribe" or not callback_base:
        return Ending(existing, told_hub=False)
    return Ending(carry_out(step, store, callback_base, policy, post=post, resolver=resolver), told_hub=True)

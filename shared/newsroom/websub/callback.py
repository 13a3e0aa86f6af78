"""The callback a hub calls: intent verification (GET) and content distribution (POST).

Rules, by section of the WebSub Recommendation (https://www.w3.org/TR/websub/):

- 5.3 Hub Verifies Intent of the Subscriber: the subscriber "MUST confirm that the hub.topic
  corresponds to a pending subscription or unsubscription that it wishes to carry out"; then it
  echoes `hub.challenge` with a 2xx, "if it does not agree with the action, the subscriber MUST
  respond with a 404". We agree only when the callback token, the topic and the mode are the
  ones we asked for (checklist 205: a verification for a topic we did not ask is refused).
  `hub.lease_seconds` is the lease the hub granted, which we believe (it may differ from ours).
- 5.2 Subscription Validation: `hub.mode=denied` ends the subscription, with `hub.reason`.
- 7 Content Distribution: the subscriber answers a delivery with a 2xx.
- 8 Authenticated Content Distribution: `X-Hub-Signature: method=signature`, an HMAC of the
  body with `hub.secret`, method sha1, sha256, sha384 or sha512. A delivery without a valid
  signature is ignored, and the spec allows acknowledging it with a 2xx all the same (so a
  forger learns nothing); we do, and count it on the subscription.

The signature covers the body's bytes exactly as sent: API Gateway hands them base64-encoded
(the stage's BinaryMediaTypes is */*), so they are decoded, never re-encoded from text. A valid
delivery is handled as a polled body is (`delivery.accept`). An unknown callback (no such
subscription, or a wrong token) is a 404 for both methods, compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from newsroom.sources.registry import known_sources
from newsroom.store.roles import CallbackStore
from newsroom.store.subscriptions import Subscription

__all__ = ["Answer", "handle_event", "signature_valid", "verify_intent"]

# Section 8: the methods a hub may sign with; anything else is not a valid signature.
_DIGESTS: dict[str, Callable[..., Any]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}
_MAX_CHALLENGE_CHARS = 1024  # a challenge is echoed as the body: a long one is not a hub's


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: str = ""
    note: str = ""  # what happened, for the log (never a secret)


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    if not header or not secret:
        return False
    method, _, given = header.strip().partition("=")
    digest = _DIGESTS.get(method.strip().lower())
    if digest is None or not given:
        return False
    expected = hmac.new(secret.encode(), body, digest).hexdigest()
    return hmac.compare_digest(expected, given.strip().lower())


def _known(sub: Subscription | None, token: str) -> bool:
    return sub is not None and hmac.compare_digest(sub.token.encode(), token.encode())


def verify_intent(
    sub: Subscription | None, token: str, params: Mapping[str, str], now: datetime
) -> tuple[Answer, Subscription | None]:
    """The answer to a hub's GET, and the subscription as it stands after it (None: unchanged)."""
    if sub is None or not _known(sub, token):
        return Answer(404, note="unknown callback"), None
    mode, topic = params.get("hub.mode", ""), params.get("hub.topic", "")
    if topic != sub.topic:
        return Answer(404, note="topic we did not ask for"), None
    if mode == "denied":
        reason = params.get("hub.reason", "")[:300] or "no reason given"
        return Answer(200, note="denied"), replace(sub, state="denied", last_error=f"denied by hub: {reason}")
    challenge = params.get("hub.challenge", "")
    if not challenge or len(challenge) > _MAX_CHALLENGE_CHARS:
        return Answer(404, note="no usable challenge"), None
    if mode == "subscribe" and sub.state in ("subscribing", "active"):
        lease = params.get("hub.lease_seconds", "")
        seconds = int(lease) if lease.isdigit() else sub.requested_lease_seconds
        updated = replace(
            sub,
            state="active",
            verified_at=now,
            lease_expires=now + timedelta(seconds=seconds),
            last_error=None,
        )
        return Answer(200, challenge, note="subscribe verified"), updated
    if mode == "unsubscribe" and sub.state == "unsubscribing":
        return Answer(200, challenge, note="unsubscribe verified"), replace(sub, state="ended", verified_at=now)
    return Answer(404, note=f"not asked: {mode or 'no mode'} while {sub.state}"), None


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None


def raw_body(event: Mapping[str, Any]) -> bytes | None:
    """The request body's bytes as the hub sent them (None: a body API Gateway garbled)."""
    body = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return None


Deliver = Callable[[Subscription, bytes, str], str]  # (sub, body, content type) -> a note


def handle_event(event: Mapping[str, Any], store: CallbackStore, deliver: Deliver, *, now: datetime) -> Answer:
    """One API Gateway proxy event to the callback route `/websub/{source}/{token}`."""
    params = event.get("pathParameters") or {}
    source_id, token = params.get("source", ""), params.get("token", "")
    sub = store.get_subscription(source_id) if source_id else None
    method = str(event.get("httpMethod", "")).upper()
    if method == "GET":
        answer, updated = verify_intent(sub, token, event.get("queryStringParameters") or {}, now)
        if updated is not None:
            store.put_subscription(updated)
        return answer
    if method != "POST":
        return Answer(405, note="method")
    if sub is None or not _known(sub, token):
        return Answer(404, note="unknown callback")
    body = raw_body(event)
    secret = store.get_hub_secret(source_id)
    signature = _header(event.get("headers"), "x-hub-signature")
    if body is None or secret is None or not signature_valid(secret, body, signature):
        store.put_subscription(replace(sub, ignored_deliveries=sub.ignored_deliveries + 1))
        return Answer(202, note="ignored: unsigned or mis-signed")
    if sub.state != "active":
        store.put_subscription(replace(sub, ignored_deliveries=sub.ignored_deliveries + 1))
        return Answer(202, note=f"ignored: subscription {sub.state}")
    source = next((s for s in known_sources(store) if s.id == source_id), None)
    if source is None or not source.enabled:
        # Not used, and not renewed either (only a poll renews, and such a source is not
        # polled): the subscription lapses at the end of its lease.
        store.put_subscription(replace(sub, ignored_deliveries=sub.ignored_deliveries + 1))
        return Answer(202, note="ignored: source disabled or removed")
    note = deliver(sub, body, _header(event.get("headers"), "content-type") or "")
    store.put_subscription(replace(sub, last_delivery=now, deliveries=sub.deliveries + 1))
    return Answer(202, note=note)

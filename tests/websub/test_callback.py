"""The WebSub callback (sections 5.2, 5.3, 7, 8): intent verification only for what we asked,
signed deliveries through the poll's checks onto the real (moto) queue, forged and unsigned
ones ignored yet acknowledged, replays changing nothing, a delivery never forgetting."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devtools.memory_dynamodb import memory_store
from newsroom.core.models import Source, SourceState
from newsroom.fetch.contract import FetchPolicy
from newsroom.fetch.seen import records
from newsroom.sources import registry
from newsroom.store.dynamo import DynamoStore
from newsroom.store.subscriptions import Subscription
from newsroom.websub.callback import handle_event, signature_valid, verify_intent
from newsroom.websub.delivery import accept, remembered_with

T0 = datetime(2026, 10, 3, 12, 0, tzinfo=UTC)
TOPIC = "https://news.example/feed"
TOKEN = "k" * 43
SECRET = "0123456789abcdef" * 4
NEWSX = Source(id="newsx", name="News X", feed_url=TOPIC)
SUB = Subscription("newsx", "https://hub.example/", TOPIC, TOKEN, "subscribing", T0, 864000)


def rss(*items: tuple[str, str]) -> bytes:
    body = "".join(
        f"<item><title>{title}</title><link>https://news.example/{slug}</link><guid>{slug}</guid></item>"
        for slug, title in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>N</title>{body}</channel></rss>'.encode()


def sign(body: bytes, secret: str = SECRET, method: str = "sha256") -> str:
    return f"{method}={hmac.new(secret.encode(), body, getattr(hashlib, method)).hexdigest()}"


def get(params: dict[str, str], token: str = TOKEN, source: str = "newsx") -> dict[str, Any]:
    return {"httpMethod": "GET", "pathParameters": {"source": source, "token": token}, "queryStringParameters": params}


def post(body: bytes, signature: str | None, token: str = TOKEN) -> dict[str, Any]:
    headers = {"Content-Type": "application/rss+xml"}
    if signature:
        headers["X-Hub-Signature"] = signature
    # API Gateway with BinaryMediaTypes */*: the body arrives base64-encoded.
    return {
        "httpMethod": "POST",
        "pathParameters": {"source": "newsx", "token": token},
        "headers": headers,
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }


@dataclass
class World:
    store: DynamoStore
    sqs: Any
    queue_url: str

    def deliver(self, sub: Subscription, body: bytes, content_type: str) -> str:
        return accept(
            sub, body, content_type, store=self.store, sqs=self.sqs, queue_url=self.queue_url, policy=POLICY, now=T0
        )

    def call(self, event: dict[str, Any], now: datetime = T0) -> Any:
        return handle_event(event, self.store, self.deliver, now=now)

    def queued(self) -> list[str]:
        bodies = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return bodies
            bodies.extend(m["Body"] for m in got)


POLICY = FetchPolicy(max_bytes=100_000)


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="articles")["QueueUrl"]
        store = memory_store()
        store.put_subscription(SUB)
        store.put_hub_secret("newsx", SECRET)
        store.put_source_state(SourceState("newsx"))
        store.put_source(NEWSX)
        yield World(store, sqs, url)


def active(world: World) -> Subscription:
    answer = world.call(
        get({"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.challenge": "c1", "hub.lease_seconds": "3600"})
    )
    assert (answer.status, answer.body) == (200, "c1")
    sub = world.store.get_subscription("newsx")
    assert sub is not None
    return sub


# -- intent verification (5.3) ---------------------------------------------------------------------


def test_verification_echoes_the_challenge_and_records_the_granted_lease(world: World) -> None:
    sub = active(world)
    assert sub.state == "active"
    assert sub.verified_at == T0
    assert sub.lease_expires == T0 + timedelta(seconds=3600)  # the hub's lease, not ours


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.topic": "https://other.example/feed", "hub.challenge": "c"},  # 205
        {"hub.mode": "unsubscribe", "hub.topic": TOPIC, "hub.challenge": "c"},  # not asked
        {"hub.mode": "subscribe", "hub.topic": TOPIC},  # no challenge
        {"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.challenge": "x" * 2000},
        {"hub.topic": TOPIC, "hub.challenge": "c"},
    ],
)
def test_verification_we_did_not_ask_for_is_refused(world: World, params: dict[str, str]) -> None:
    answer = world.call(get(params))
    assert (answer.status, answer.body) == (404, "")
    assert world.store.get_subscription("newsx") == SUB  # unchanged


def test_a_wrong_token_or_unknown_source_is_a_404(world: World) -> None:
    params = {"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.challenge": "c"}
    assert world.call(get(params, token="k" * 42 + "j")).status == 404
    assert world.call(get(params, source="nobody")).status == 404
    assert world.call(post(b"x", sign(b"x"), token="wrong")).status == 404


def test_unsubscribe_is_verified_only_while_we_are_unsubscribing(world: World) -> None:
    world.store.put_subscription(replace(SUB, state="unsubscribing"))
    answer = world.call(get({"hub.mode": "unsubscribe", "hub.topic": TOPIC, "hub.challenge": "bye"}))
    assert (answer.status, answer.body) == (200, "bye")
    assert world.store.get_subscription("newsx").state == "ended"  # type: ignore[union-attr]


def test_a_denial_is_recorded(world: World) -> None:
    answer = world.call(get({"hub.mode": "denied", "hub.topic": TOPIC, "hub.reason": "no thanks"}))
    assert answer.status == 200
    sub = world.store.get_subscription("newsx")
    assert sub is not None and sub.state == "denied" and "no thanks" in (sub.last_error or "")


# -- deliveries (7, 8) -----------------------------------------------------------------------------


def test_a_signed_delivery_is_queued_and_a_replay_changes_nothing(world: World) -> None:
    active(world)
    body = rss(("a", "Alpha"), ("b", "Beta"))
    answer = world.call(post(body, sign(body)))
    assert answer.status == 202 and answer.note == "queued 2 of 2"
    assert len(world.queued()) == 2
    sub = world.store.get_subscription("newsx")
    assert sub is not None and sub.deliveries == 1 and sub.last_delivery == T0
    seen = world.store.get_source_states(["newsx"])["newsx"].seen
    again = world.call(post(body, sign(body)))
    assert again.status == 202 and again.note == "queued 0 of 2"
    assert world.queued() == []
    assert world.store.get_source_states(["newsx"])["newsx"].seen == seen


@pytest.mark.parametrize("method", ["sha1", "sha256", "sha384", "sha512"])
def test_every_signature_method_of_section_8(world: World, method: str) -> None:
    active(world)
    body = rss(("m", method))
    assert world.call(post(body, sign(body, method=method))).note == "queued 1 of 1"


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "sha256=" + "0" * 64,
        "md5=" + hmac.new(SECRET.encode(), b"", hashlib.md5).hexdigest(),
        "garbage",
        "sha256=",
    ],
)
def test_forged_or_unsigned_deliveries_are_acknowledged_and_ignored(world: World, signature: str | None) -> None:
    active(world)
    answer = world.call(post(rss(("f", "Forged")), signature))
    assert answer.status == 202  # 2xx, as section 8 allows, so a forger learns nothing
    assert world.queued() == []
    sub = world.store.get_subscription("newsx")
    assert sub is not None and sub.deliveries == 0 and sub.ignored_deliveries == 1


def test_the_signature_covers_the_bytes_as_sent(world: World) -> None:
    active(world)
    body = rss(("u", "Café")).replace(b"Caf\xc3\xa9", b"Caf\xc3\xa9 ")
    signature = sign(body)
    assert signature_valid(SECRET, body, signature)
    assert not signature_valid(SECRET, body + b"\n", signature)
    assert world.call(post(body, signature)).note == "queued 1 of 1"


def test_a_delivery_before_verification_is_ignored(world: World) -> None:
    body = rss(("p", "Pending"))
    assert world.call(post(body, sign(body))).note == "ignored: subscription subscribing"
    assert world.queued() == []


def test_a_hostile_or_oversize_delivery_queues_nothing(world: World) -> None:
    active(world)
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rss version="2.0"><channel/></rss>'
    assert world.call(post(bomb, sign(bomb))).note == "ignored: hostile-xml"
    big = rss(("big", "x" * 200_000))
    assert world.call(post(big, sign(big))).note.startswith("ignored: too-large")
    assert world.queued() == []


def test_a_delivery_never_forgets_what_was_seen() -> None:
    older = b"".join(bytes([i]) * 8 for i in range(1, 200))
    merged = remembered_with([], older)
    assert merged == older
    assert len(records(remembered_with([], older * 2))) == 300  # capped at SEEN_MAX


def test_verify_intent_is_pure() -> None:
    answer, updated = verify_intent(None, TOKEN, {}, T0)
    assert answer.status == 404 and updated is None


def test_a_delivery_before_the_first_poll_is_remembered_too(world: World) -> None:
    active(world)
    world.store.put_seen("fresh", b"\x07" * 8)  # no state yet: one is created with the digests
    state = world.store.get_source_states(["fresh"])["fresh"]
    assert state.seen == b"\x07" * 8 and state.next_poll is None  # polled at the next tick
    world.store.put_source_state(replace(state, etag='"e"'))
    world.store.put_seen("fresh", b"\x08" * 8)
    kept = world.store.get_source_states(["fresh"])["fresh"]
    assert kept.etag == '"e"' and kept.seen == b"\x08" * 8  # the fetcher's document left alone


def test_a_delivery_for_a_disabled_source_is_not_used(world: World) -> None:
    active(world)
    world.store.put_source(replace(NEWSX, enabled=False))
    registry.known_sources(world.store, max_age=0)  # the callback reads the registry once a minute
    body = rss(("d", "Disabled"))
    assert world.call(post(body, sign(body))).note == "ignored: source disabled or removed"
    assert world.queued() == []

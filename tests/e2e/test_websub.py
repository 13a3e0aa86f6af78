"""WebSub end to end: the packaged callback function behind the local API Gateway built from
template.yaml (its own route and function), the moto stack, a hub's verification and signed
delivery over HTTP, and the delivered story served by the API."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from devtools import apigw
from devtools.lambda_local import load_handler_module
from newsroom.store.subscriptions import Subscription
from newsroom.wiring import clients as runtime
from tests.websub.localhub import LocalHub

from .conftest import Stack

TOKEN = "e2e-token-" + "x" * 33
SECRET = "ab" * 32


@pytest.fixture
def served(stack: Stack) -> Iterator[apigw.ServedGateway]:
    gateway = apigw.serve_module(stack.api, others={"WebSubCallbackFunction": load_handler_module("websub_callback")})
    gateway.start()
    try:
        yield gateway
    finally:
        gateway.stop()


def delivery(guid: str) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>DeFi Liban</title><item>'
        f"<title>Pushed story {guid} about Bitcoin</title><link>https://defiliban.example/{guid}</link>"
        f"<guid>{guid}</guid><pubDate>{datetime.now(UTC).strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
        "<description>Bitcoin moved while a hub pushed this story to the newsroom in seconds.</description>"
        "</item></channel></rss>"
    ).encode()


def test_a_pushed_story_is_verified_delivered_and_served(stack: Stack, served: apigw.ServedGateway) -> None:
    store = runtime.store()
    topic = "https://defiliban.example/feed"
    now = datetime.now(UTC)
    store.put_subscription(Subscription("defiliban", "https://hub.example/", topic, TOKEN, "subscribing", now, 864000))
    store.put_hub_secret("defiliban", SECRET)
    callback = f"{served.base_url}/websub/defiliban/{TOKEN}"
    hub = LocalHub()

    assert hub.verify(callback, "subscribe", "https://other.example/feed", "nope")[0] == 404
    assert hub.verify(callback, "subscribe", topic, "let-me-in", lease=86400) == (200, "let-me-in")
    sub = store.get_subscription("defiliban")
    assert sub is not None and sub.state == "active"
    assert sub.lease_expires is not None and sub.lease_expires - now >= timedelta(hours=23)

    forged = delivery("forged-1")
    status, _ = hub.publish(callback, forged, secret=None, headers={"X-Hub-Signature": "sha256=" + "0" * 64})
    assert status == 202 and stack.queued() == 0

    body = delivery("pushed-1")
    assert hub.publish(callback, body, secret=SECRET)[0] == 202
    assert stack.queued() == 1
    assert hub.publish(callback, body, secret=SECRET)[0] == 202  # the hub retries: nothing new
    assert stack.queued() == 1
    assert stack.drain().failed == 0

    listing = stack.get("/articles?source=defiliban")
    titles = [item["title"] for item in json.loads(listing["body"])["items"]]
    assert "Pushed story pushed-1 about Bitcoin" in titles
    assert not any("forged" in t for t in titles)
    # The gateway's own rule: an unknown callback is the function's 404, not the API's.
    assert hub.verify(f"{served.base_url}/websub/defiliban/wrong", "subscribe", topic, "c")[0] == 404
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert digest not in json.dumps(stack.get("/sources"))

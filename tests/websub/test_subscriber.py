"""Subscribing (WebSub 5.1): what to ask a hub and when (pure), then against a small hub on
127.0.0.1, with the callback served through the local API Gateway built from template.yaml:
subscribe, verify, deliver, renew, a forged delivery ignored, a replay changing nothing, hub
redirects (checklist 203, 204), a refusing hub, and unsubscription of a source an operator
disables or removes (the admin command)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devtools import apigw, sources_admin
from devtools.memory_dynamodb import memory_store
from newsroom.core.config import WebSubLimits, load_sources
from newsroom.core.models import Source, SourceState
from newsroom.fetch.contract import FetchPolicy
from newsroom.sources import registry
from newsroom.store.dynamo import DynamoStore
from newsroom.store.subscriptions import Subscription
from newsroom.websub.callback import handle_event
from newsroom.websub.delivery import accept
from newsroom.websub.discovery import Discovery
from newsroom.websub.subscriber import Step, callback_url, carry_out, next_step
from tests.websub.localhub import LocalHub
from tests.websub.test_callback import rss

T0 = datetime(2026, 10, 3, 12, 0, tzinfo=UTC)
LIMITS = WebSubLimits()
SOURCE = Source(id="newsx", name="News X", feed_url="https://news.example/feed")
TOPIC = "https://news.example/feed"
FOUND = Discovery(("https://hub.example/",), TOPIC, "body")
LOCAL = FetchPolicy(allow_private=True, total_timeout=10)


def active_sub(expires_in: timedelta) -> Subscription:
    return Subscription(
        "newsx", "https://hub.example/", TOPIC, "t" * 43, "active", T0 - timedelta(days=9), 864000, T0 + expires_in, T0
    )


# -- what to ask, without I/O -------------------------------------------------------------------


def test_a_discovered_hub_is_subscribed_with_a_fresh_token_and_secret() -> None:
    step = next_step(SOURCE, "newsx", FOUND, None, T0)
    assert step is not None and (step.mode, step.why, step.sub.state) == ("subscribe", "new", "subscribing")
    assert step.sub.hub == "https://hub.example/" and step.sub.topic == TOPIC
    assert step.secret is not None and len(step.secret.encode()) < 200  # WebSub 5.1
    other = next_step(SOURCE, "newsx", FOUND, None, T0)
    assert other is not None and (other.sub.token, other.secret) != (step.sub.token, step.secret)
    assert len(step.sub.token) >= 43  # 32 random bytes, url-safe


def test_no_hub_no_request() -> None:
    assert next_step(SOURCE, "newsx", Discovery((), TOPIC, None), None, T0) is None
    assert next_step(SOURCE, "newsx", None, None, T0) is None


def test_renewal_before_the_lease_ends_and_not_earlier() -> None:
    assert next_step(SOURCE, "newsx", FOUND, active_sub(timedelta(days=3)), T0) is None
    step = next_step(SOURCE, "newsx", None, active_sub(timedelta(hours=23)), T0)
    assert step is not None and (step.mode, step.why) == ("subscribe", "renew")
    assert step.secret is None and step.sub.token == "t" * 43  # same callback, same secret


def test_a_disabled_or_removed_source_is_unsubscribed() -> None:
    sub = active_sub(timedelta(days=3))
    disabled = next_step(replace(SOURCE, enabled=False), "newsx", None, sub, T0)
    assert disabled is not None and (disabled.mode, disabled.why, disabled.sub.state) == (
        "unsubscribe",
        "disabled",
        "unsubscribing",
    )
    removed = next_step(None, "newsx", None, sub, T0)
    assert removed is not None and removed.why == "removed"
    assert next_step(None, "newsx", None, replace(sub, state="ended"), T0) is None


def test_a_pending_request_is_retried_only_after_the_window() -> None:
    pending = replace(active_sub(timedelta(days=3)), state="subscribing", requested_at=T0 - timedelta(minutes=5))
    assert next_step(SOURCE, "newsx", FOUND, pending, T0) is None
    late = replace(pending, requested_at=T0 - timedelta(seconds=LIMITS.pending_timeout_seconds + 1))
    step = next_step(SOURCE, "newsx", FOUND, late, T0)
    assert step is not None and step.why == "retry"


def test_a_changed_hub_is_subscribed_anew() -> None:
    found = Discovery(("https://newhub.example/",), TOPIC, "header")
    step = next_step(SOURCE, "newsx", found, active_sub(timedelta(days=3)), T0)
    assert step is not None and step.why == "hub-changed" and step.sub.hub == "https://newhub.example/"


# -- against a hub on 127.0.0.1 -------------------------------------------------------------------


@dataclass
class Stack:
    store: DynamoStore
    sqs: Any
    queue_url: str
    gateway: apigw.ServedGateway

    def callback_handler(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        def deliver(sub: Subscription, body: bytes, content_type: str) -> str:
            return accept(
                sub, body, content_type, store=self.store, sqs=self.sqs, queue_url=self.queue_url, policy=LOCAL, now=T0
            )

        answer = handle_event(event, self.store, deliver, now=T0)
        return {"statusCode": answer.status, "headers": {"Content-Type": "text/plain"}, "body": answer.body}

    def queued(self) -> int:
        attrs = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


@pytest.fixture
def stack() -> Iterator[Stack]:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="articles")["QueueUrl"]
        store = memory_store()
        store.put_source_state(SourceState("newsx"))
        store.put_source(SOURCE)
        holder: dict[str, Stack] = {}

        def api(event: dict[str, Any], context: Any) -> dict[str, Any]:
            return {"statusCode": 200, "body": "api"}

        def callback(event: dict[str, Any], context: Any) -> dict[str, Any]:
            return holder["stack"].callback_handler(event, context)

        gateway = apigw.make_server(
            apigw.Gateway(apigw.gateway_config(), api, handlers={"WebSubCallbackFunction": callback})
        ).start()
        holder["stack"] = Stack(store, sqs, url, gateway)
        try:
            yield holder["stack"]
        finally:
            gateway.stop()


def subscribe(stack: Stack, hub: LocalHub) -> Subscription:
    found = Discovery((hub.url,), TOPIC, "body")
    step = next_step(SOURCE, "newsx", found, None, T0)
    assert step is not None
    return carry_out(step, stack.store, stack.gateway.base_url, LOCAL)


def test_subscribe_verify_deliver_forge_replay_renew(stack: Stack) -> None:
    with LocalHub() as hub:
        sub = subscribe(stack, hub)
        assert sub.state == "subscribing"
        (request,) = hub.requests
        assert request["_content_type"] == "application/x-www-form-urlencoded"
        assert request["hub.mode"] == "subscribe" and request["hub.topic"] == TOPIC
        assert request["hub.lease_seconds"] == str(LIMITS.lease_seconds)
        callback = request["hub.callback"]
        assert callback == callback_url(stack.gateway.base_url, sub)
        secret = hub.subscriptions[callback].secret
        assert secret is not None and secret == stack.store.get_hub_secret("newsx")

        # A verification for another topic is refused (checklist 205); ours is echoed.
        assert hub.verify(callback, "subscribe", "https://evil.example/feed", "c0")[0] == 404
        assert hub.verify(callback, "subscribe", TOPIC, "c1", lease=7200) == (200, "c1")
        stored = stack.store.get_subscription("newsx")
        assert stored is not None and stored.state == "active" and stored.lease_expires == T0 + timedelta(hours=2)

        body = rss(("a", "Alpha"), ("b", "Beta"))
        assert hub.publish(callback, body, secret=secret)[0] == 202
        assert stack.queued() == 2
        assert hub.publish(callback, body, secret=secret)[0] == 202  # a replay
        assert stack.queued() == 2
        forged = rss(("z", "Forged"))
        assert hub.publish(callback, forged, secret="not-the-secret")[0] == 202  # acknowledged...
        assert hub.publish(callback, forged, secret=None)[0] == 202
        assert stack.queued() == 2  # ...and ignored
        after = stack.store.get_subscription("newsx")
        assert after is not None and (after.deliveries, after.ignored_deliveries) == (2, 2)

        # Renewal: the same callback and secret, asked again before the lease ends.
        renew = next_step(SOURCE, "newsx", None, after, T0 + timedelta(hours=1, minutes=30))
        assert renew is not None and renew.why == "renew"
        carry_out(renew, stack.store, stack.gateway.base_url, LOCAL)
        assert hub.requests[-1]["hub.callback"] == callback and hub.requests[-1]["hub.secret"] == secret

        # The source is disabled: unsubscribe, and the hub's verification ends it.
        bye = next_step(replace(SOURCE, enabled=False), "newsx", None, stack.store.get_subscription("newsx"), T0)
        assert bye is not None
        carry_out(bye, stack.store, stack.gateway.base_url, LOCAL)
        assert hub.requests[-1]["hub.mode"] == "unsubscribe" and "hub.secret" not in hub.requests[-1]
        assert hub.verify(callback, "unsubscribe", TOPIC, "c2") == (200, "c2")
        ended = stack.store.get_subscription("newsx")
        assert ended is not None and ended.state == "ended"


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_hub_redirects_are_followed_with_the_same_request(stack: Stack, status: int) -> None:
    with LocalHub() as hub:
        hub.redirect = (status, hub.url + "moved")
        sub = subscribe(stack, hub)
        assert sub.state == "subscribing"
        (request,) = hub.requests
        assert request["_path"] == "/moved" and request["hub.mode"] == "subscribe"


def test_a_refusing_hub_is_recorded_and_nothing_raised(stack: Stack) -> None:
    with LocalHub(answer=400) as hub:
        sub = subscribe(stack, hub)
    assert sub.state == "denied" and "400" in (sub.last_error or "")
    assert stack.store.get_subscription("newsx") == sub


def test_a_hub_on_a_private_address_is_never_contacted() -> None:
    store = memory_store()
    with LocalHub() as hub:
        step = next_step(SOURCE, "newsx", Discovery((hub.url,), TOPIC, "body"), None, T0)
        assert isinstance(step, Step)
        sub = carry_out(step, store, "https://api.example/v1", FetchPolicy())  # private addresses refused
        assert hub.requests == []
    assert sub.state == "denied" and sub.last_error == "hub refused: blocked-address"
    assert store.get_hub_secret("newsx") is None  # no secret handed out, none stored


# -- ending a subscription when an operator disables or removes the source (5.1, mode=unsubscribe) --


def subscribed(stack: Stack, hub: LocalHub) -> tuple[str, str]:
    """Subscribe and let the hub verify: the callback URL and the secret the hub signs with."""
    subscribe(stack, hub)
    callback = hub.requests[-1]["hub.callback"]
    assert hub.verify(callback, "subscribe", TOPIC, "hi", lease=86400) == (200, "hi")
    secret = hub.subscriptions[callback].secret
    assert secret is not None
    return callback, secret


def admin(stack: Stack, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = sources_admin.main(list(argv), store=stack.store, out=out, policy=LOCAL, now=T0 + timedelta(hours=1))
    return code, out.getvalue()


def test_admin_disable_asks_the_hub_to_unsubscribe_and_its_verification_ends_it(stack: Stack) -> None:
    with LocalHub() as hub:
        callback, secret = subscribed(stack, hub)

        code, said = admin(stack, "disable", "newsx", "--callback-base", stack.gateway.base_url)

        assert code == 0 and f"asked hub {hub.url}" in said
        request = hub.requests[-1]
        assert (request["hub.mode"], request["hub.topic"], request["hub.callback"]) == ("unsubscribe", TOPIC, callback)
        assert "hub.secret" not in request
        assert stack.store.get_subscription("newsx").state == "unsubscribing"  # type: ignore[union-attr]
        assert hub.verify(callback, "unsubscribe", TOPIC, "bye") == (200, "bye")
        ended = stack.store.get_subscription("newsx")
        assert ended is not None and ended.state == "ended"
        assert stack.store.get_hub_secret("newsx") is None  # no secret outlives its subscription
        body = rss(("late", "Late"))
        assert hub.publish(callback, body, secret=secret)[0] == 202  # acknowledged, not used
        assert stack.queued() == 0


def test_admin_remove_deletes_the_source_and_unsubscribes(stack: Stack) -> None:
    with LocalHub() as hub:
        callback, secret = subscribed(stack, hub)

        code, said = admin(stack, "remove", "newsx", "--callback-base", stack.gateway.base_url)

        assert code == 0 and "removed newsx" in said and f"asked hub {hub.url}" in said
        assert stack.store.get_source("newsx") is None and stack.store.get_hub_secret("newsx") is None
        assert hub.requests[-1]["hub.mode"] == "unsubscribe" and hub.requests[-1]["hub.callback"] == callback
        body = rss(("r", "Removed"))
        assert hub.publish(callback, body, secret=secret)[0] == 202  # before the hub verifies: ignored
        assert hub.verify(callback, "unsubscribe", TOPIC, "bye") == (200, "bye")
        assert stack.store.get_subscription("newsx").state == "ended"  # type: ignore[union-attr]
        assert hub.publish(callback, body, secret=secret)[0] == 202
        assert stack.queued() == 0
        assert admin(stack, "remove", "newsx")[0] == 1  # already gone: a clear error


def test_without_a_callback_base_the_hub_is_not_told_and_deliveries_are_ignored(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WEBSUB_CALLBACK_BASE_URL", raising=False)
    with LocalHub() as hub:
        callback, secret = subscribed(stack, hub)
        asked = len(hub.requests)

        code, said = admin(stack, "remove", "newsx")

        assert code == 0 and "was NOT told" in said and "lease will lapse at 2026-10-04T12:00:00Z" in said
        assert len(hub.requests) == asked
        assert stack.store.get_subscription("newsx").state == "active"  # type: ignore[union-attr]
        registry.known_sources(stack.store, max_age=0)  # the callback reads the registry once a minute
        body = rss(("g", "Gone"))
        assert hub.publish(callback, body, secret=secret)[0] == 202
        assert stack.queued() == 0


def test_a_source_the_sources_file_names_is_not_removed(stack: Stack) -> None:
    listed = load_sources()[0]
    stack.store.put_source(listed)
    code, said = admin(stack, "remove", listed.id)
    assert code == 1 and "in the sources file" in said
    assert stack.store.get_source(listed.id) is not None

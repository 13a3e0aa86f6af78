"""Polling steps back, never away (issue 19 point 4): the fetcher finds a hub in the feed it polls
(a feed server and a hub on 127.0.0.1), subscribes, and once the hub verified, the source's next
poll is the safety net; when the lease lapses, renewal fails or the hub goes silent, the normal
rhythm is back. A batch's subscriptions are read with its source states."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from devtools.memory_dynamodb import memory_store
from newsroom.core.config import DEFAULT_WEBSUB_LIMITS
from newsroom.core.models import Source
from newsroom.fetch.apply import fetch_all, poll_one
from newsroom.fetch.contract import FetchPolicy
from newsroom.sources.schedule import pushed_next_poll, pushed_until
from newsroom.store.dynamo import DynamoStore
from newsroom.store.subscriptions import Subscription
from newsroom.websub.push import PushStep
from tests.fetch.test_polling import BOUNDS, FakeSQS
from tests.httpserver import LocalHTTPServer, Reply
from tests.store.test_roles import RecordingClient
from tests.websub.localhub import LocalHub

NOW = datetime(2026, 10, 3, 12, 0, tzinfo=UTC)
LOCAL = FetchPolicy(connect_timeout=2.0, read_timeout=2.0, allow_private=True)
NET = timedelta(seconds=DEFAULT_WEBSUB_LIMITS.safety_net_seconds)
SILENT = timedelta(seconds=DEFAULT_WEBSUB_LIMITS.silent_after_seconds)


def feed(hub: str, guid: str = "a") -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>P</title>'
        f'<atom:link rel="hub" href="{hub}"/><item><title>{guid}</title><link>https://p.example/{guid}</link>'
        f"<guid>{guid}</guid></item></channel></rss>"
    ).encode()


def test_the_safety_net_never_outlasts_the_push() -> None:
    normal = NOW + timedelta(minutes=15)
    assert pushed_next_poll(normal, NOW, None, NET) == normal
    assert pushed_next_poll(normal, NOW, NOW + timedelta(days=5), NET) == NOW + NET
    assert pushed_next_poll(normal, NOW, NOW + timedelta(hours=2), NET) == NOW + timedelta(hours=2)
    assert pushed_next_poll(normal, NOW, NOW + timedelta(minutes=5), NET) == normal  # never sooner
    assert pushed_next_poll(normal, NOW, NOW - timedelta(minutes=5), NET) == normal


def test_pushed_only_while_active_leased_and_heard_from() -> None:
    sub = Subscription("p", "https://h.example/", "https://p.example/feed", "t", "active", NOW, 864000)
    leased = replace(sub, lease_expires=NOW + timedelta(days=10), verified_at=NOW)
    assert pushed_until(leased, NOW) == NOW + SILENT  # the hub must speak again within SILENT
    assert pushed_until(replace(leased, last_delivery=NOW + timedelta(days=2)), NOW) == NOW + timedelta(days=5)
    assert pushed_until(replace(leased, lease_expires=NOW + timedelta(hours=1)), NOW) == NOW + timedelta(hours=1)
    assert pushed_until(replace(leased, state="denied"), NOW) is None  # a failed renewal
    assert pushed_until(leased, NOW + SILENT) is None  # a silent hub
    assert pushed_until(sub, NOW) is None  # never verified: no lease


@pytest.fixture
def servers() -> Iterator[tuple[LocalHTTPServer, LocalHub]]:
    with LocalHTTPServer() as site, LocalHub() as hub:
        yield site, hub


def test_the_fetcher_subscribes_and_steps_back_then_returns(servers: tuple[LocalHTTPServer, LocalHub]) -> None:
    site, hub = servers
    site.route("/feed", Reply(body=feed(hub.url), headers={"Content-Type": "application/rss+xml"}))
    source = Source(id="p", name="Pushed", feed_url=site.url("/feed"), interval_minutes=15)
    store: DynamoStore = memory_store()
    sqs = FakeSQS()
    hook = PushStep(store, "https://api.example/v1", LOCAL)

    def poll(now: datetime) -> datetime:
        stored = store.get_source_states(["p"]).get("p")
        poll_one(source, stored, store, sqs, "q", LOCAL, now=now, bounds=BOUNDS, push=hook)
        state = store.get_source_states(["p"])["p"]
        assert state.next_poll is not None
        return state.next_poll

    # First poll: the hub is found and asked; not verified yet, so the normal interval.
    assert poll(NOW) == NOW + timedelta(minutes=15)
    (request,) = hub.requests
    assert request["hub.topic"] == site.url("/feed") and request["hub.callback"].startswith(
        "https://api.example/v1/websub/p/"
    )
    sub = store.get_subscription("p")
    assert sub is not None and sub.state == "subscribing"

    # The hub verified (as the callback records it): the next poll steps back to the safety net.
    store.put_subscription(replace(sub, state="active", verified_at=NOW, lease_expires=NOW + timedelta(days=10)))
    site.route("/feed", Reply(body=feed(hub.url, "b"), headers={"Content-Type": "application/rss+xml"}))
    later = NOW + timedelta(minutes=15)
    assert poll(later) == later + NET
    assert len(hub.requests) == 1  # nothing to renew yet

    # The hub goes silent: past SILENT since it last spoke, polling is back to every 15 minutes.
    silent = NOW + SILENT + timedelta(minutes=1)
    assert poll(silent) == silent + timedelta(minutes=15)


def test_a_hook_that_fails_keeps_the_normal_rhythm(servers: tuple[LocalHTTPServer, LocalHub]) -> None:
    site, hub = servers
    site.route("/feed", Reply(body=feed(hub.url), headers={"Content-Type": "application/rss+xml"}))
    source = Source(id="p", name="Pushed", feed_url=site.url("/feed"), interval_minutes=15)
    store: DynamoStore = memory_store()

    def broken(*args: object) -> datetime | None:
        raise RuntimeError("hub exploded")

    report = poll_one(source, None, store, FakeSQS(), "q", LOCAL, now=NOW, bounds=BOUNDS, push=broken)
    assert report.status == "ok" and report.entries == 1
    assert store.get_source_states(["p"])["p"].next_poll == NOW + timedelta(minutes=15)


def test_a_source_gone_410_is_unsubscribed(servers: tuple[LocalHTTPServer, LocalHub]) -> None:
    site, hub = servers
    site.route("/feed", Reply(body=feed(hub.url), headers={"Content-Type": "application/rss+xml"}))
    source = Source(id="p", name="Pushed", feed_url=site.url("/feed"), interval_minutes=15)
    store: DynamoStore = memory_store()
    hook = PushStep(store, "https://api.example/v1", LOCAL)
    poll_one(source, None, store, FakeSQS(), "q", LOCAL, now=NOW, bounds=BOUNDS, push=hook)
    sub = store.get_subscription("p")
    assert sub is not None
    store.put_subscription(replace(sub, state="active", verified_at=NOW, lease_expires=NOW + timedelta(days=10)))
    site.route("/feed", Reply(status=410))
    later = NOW + timedelta(minutes=15)
    report = poll_one(source, store.get_source_states(["p"])["p"], store, FakeSQS(), "q", LOCAL, now=later, push=hook)
    assert report.status == "error" and store.get_source_states(["p"])["p"].disabled
    assert hub.requests[-1]["hub.mode"] == "unsubscribe" and hub.requests[-1]["hub.topic"] == site.url("/feed")
    after = store.get_subscription("p")
    assert after is not None and after.state == "unsubscribing"


def test_a_batch_reads_its_subscriptions_with_its_states(servers: tuple[LocalHTTPServer, LocalHub]) -> None:
    # One read for both, not a strongly consistent GetItem per poll on top of the state read.
    site, hub = servers
    site.route("/feed", Reply(body=feed(hub.url), headers={"Content-Type": "application/rss+xml"}))
    sources = [Source(id=f"p{i}", name="Pushed", feed_url=site.url("/feed"), interval_minutes=15) for i in range(3)]
    plain: DynamoStore = memory_store()
    recording = RecordingClient(plain._db)
    store = DynamoStore(recording, "t", b"secret")
    hook = PushStep(store, "https://api.example/v1", LOCAL)
    fetch_all(sources, store, FakeSQS(), "q", LOCAL, concurrency=3, now=NOW, bounds=BOUNDS, push=hook)
    assert len(hub.requests) == 3  # each found the hub and subscribed
    for source in sources:
        sub = store.get_subscription(source.id)
        assert sub is not None
        store.put_subscription(replace(sub, state="active", verified_at=NOW, lease_expires=NOW + timedelta(days=10)))
    site.route("/feed", Reply(body=feed(hub.url, "b"), headers={"Content-Type": "application/rss+xml"}))
    recording.calls.clear()

    later = NOW + timedelta(minutes=15)
    fetch_all(sources, store, FakeSQS(), "q", LOCAL, concurrency=3, now=later, bounds=BOUNDS, push=hook)

    reads = [(action, pk) for action, pk, write in recording.calls if not write]
    assert not [pk for action, pk in reads if action == "dynamodb:GetItem" and pk.startswith("WEBSUB#")]
    batched = {pk for action, pk in reads if action == "dynamodb:BatchGetItem"}
    assert batched == {"STATES"} | {f"WEBSUB#p{i}" for i in range(3)}  # the states are one partition (issue 18)
    states = store.get_source_states([s.id for s in sources])
    assert {s.next_poll for s in states.values()} == {later + NET}  # the subscriptions read were used
    assert len(hub.requests) == 3

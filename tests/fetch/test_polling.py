"""poll_source and fetch_all against a local server: politeness rules end to end, state stored in moto."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devtools.template import create_table
from newsroom.core.models import Source, SourceState
from newsroom.fetch.apply import fetch_all, poll_source
from newsroom.fetch.http import FetchPolicy
from newsroom.sources.schedule import PollBounds
from newsroom.store.dynamo import DynamoStore
from tests.httpserver import LocalHTTPServer, Reply, http_server_fixture  # noqa: F401

NOW = datetime(2026, 5, 31, 12, 0, tzinfo=UTC)
LOCAL = FetchPolicy(connect_timeout=2.0, read_timeout=2.0, allow_private=True)
BOUNDS = PollBounds(
    default_interval=timedelta(minutes=15),
    min_interval=timedelta(minutes=5),
    max_interval=timedelta(hours=6),
    backoff_ceiling=timedelta(hours=12),
)


def rss(*, ttl: int | None = None, items: int = 2) -> bytes:
    ttl_tag = f"<ttl>{ttl}</ttl>" if ttl else ""
    body = "".join(
        f"<item><title>Story {i}</title><link>https://pub.example/{i}</link><guid>g{i}</guid></item>"
        for i in range(items)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{ttl_tag}{body}</channel></rss>'.encode()


def source(server: LocalHTTPServer, path: str = "/feed", **changes: Any) -> Source:
    return replace(Source(id="pub", name="Pub", feed_url=server.url(path)), **changes)


def poll(src: Source, state: SourceState | None = None, now: datetime = NOW) -> tuple[SourceState, int, str]:
    new_state, entries, report = poll_source(
        src, state or SourceState(src.id), LOCAL, now=now, bounds=BOUNDS, rng=random.Random(3)
    )
    return new_state, len(entries), report.status


def test_success_stores_validators_and_schedules_one_interval_later(http_server: LocalHTTPServer) -> None:
    http_server.route(
        "/feed", Reply(body=rss(), headers={"ETag": '"v1"', "Last-Modified": "Sat, 30 May 2026 10:00:00 GMT"})
    )

    state, entries, status = poll(source(http_server, interval_minutes=20))

    assert (status, entries) == ("ok", 2)
    assert (state.etag, state.last_modified) == ('"v1"', "Sat, 30 May 2026 10:00:00 GMT")
    assert state.next_poll == NOW + timedelta(minutes=20)
    assert state.last_status == 200
    assert state.consecutive_failures == 0


def test_expires_zero_means_validators_are_not_kept(http_server: LocalHTTPServer) -> None:
    http_server.route("/feed", Reply(body=rss(), headers={"ETag": '"v1"', "Expires": "0"}))

    state, _, _ = poll(source(http_server))
    poll(source(http_server), state)

    assert state.etag is None and state.last_modified is None
    assert "if-none-match" not in http_server.requests[1].headers


def test_ttl_and_max_age_slow_polling_down_within_bounds(http_server: LocalHTTPServer) -> None:
    http_server.route("/ttl", Reply(body=rss(ttl=60)))
    http_server.route("/maxage", Reply(body=rss(), headers={"Cache-Control": "public, max-age=5400"}))
    http_server.route("/huge", Reply(body=rss(ttl=100_000)))

    assert poll(source(http_server, "/ttl"))[0].next_poll == NOW + timedelta(minutes=60)
    assert poll(source(http_server, "/maxage"))[0].next_poll == NOW + timedelta(minutes=90)
    # <ttl> of 100,000 minutes is not believed (over a week); the interval applies.
    assert poll(source(http_server, "/huge"))[0].next_poll == NOW + timedelta(minutes=15)


@pytest.mark.parametrize(("status", "moves"), [(301, True), (308, True), (302, False), (307, False)])
def test_permanent_redirects_move_the_feed_and_temporary_ones_do_not(
    http_server: LocalHTTPServer, status: int, moves: bool
) -> None:
    http_server.route("/old", Reply(status=status, headers={"Location": "/new"}))
    http_server.route("/new", Reply(body=rss()))
    src = source(http_server, "/old")

    state, entries, _ = poll(src)
    poll(src, state)

    assert entries == 2
    assert (state.feed_url == http_server.url("/new")) is moves
    second = http_server.requests[2].path
    assert second == ("/new" if moves else "/old")


def test_editing_the_source_url_discards_a_redirect_override(http_server: LocalHTTPServer) -> None:
    http_server.route("/edited", Reply(body=rss()))
    moved = SourceState(
        "pub", feed_url=http_server.url("/moved"), feed_url_for="https://elsewhere.example/feed", etag='"x"'
    )

    state, entries, _ = poll(source(http_server, "/edited"), moved)

    assert entries == 2
    assert state.feed_url is None
    assert http_server.requests[0].path == "/edited"
    assert "if-none-match" not in http_server.requests[0].headers


def test_410_gone_disables_the_source_and_fetch_all_skips_it(http_server: LocalHTTPServer, store: DynamoStore) -> None:
    http_server.route("/feed", Reply(status=410))
    src = source(http_server)
    sqs = FakeSQS()

    first = fetch_all([src], store, sqs, "q", LOCAL, concurrency=2, now=NOW, bounds=BOUNDS)
    second = fetch_all([src], store, sqs, "q", LOCAL, concurrency=2, now=NOW + timedelta(days=2), bounds=BOUNDS)

    assert first[0].status == "error" and "http-410" in (first[0].error or "")
    assert second[0].status == "skipped"
    assert len(http_server.requests) == 1
    state = store.get_source_states(["pub"])["pub"]
    assert state.disabled and state.disabled_reason and "410" in state.disabled_reason
    # A new URL for the source (an operator fixed it) is polled again.
    http_server.route("/fixed", Reply(body=rss()))
    third = fetch_all([source(http_server, "/fixed")], store, sqs, "q", LOCAL, concurrency=1, now=NOW, bounds=BOUNDS)
    assert third[0].status == "ok"
    assert not store.get_source_states(["pub"])["pub"].disabled


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [("7200", timedelta(hours=2)), ("Sun, 31 May 2026 15:00:00 GMT", timedelta(hours=3))],
    ids=["seconds", "http-date"],
)
def test_rate_limits_honour_retry_after(
    http_server: LocalHTTPServer, status: int, retry_after: str, expected: timedelta
) -> None:
    http_server.route("/feed", Reply(status=status, headers={"Retry-After": retry_after}))

    state, _, report = poll(source(http_server))

    assert report == "error"
    assert state.next_poll == NOW + expected
    assert state.last_status == status
    assert state.consecutive_failures == 1


@pytest.mark.parametrize(
    "retry_after", ["9" * 5_000, "Fri, 31 Dec 9999 23:59:59 -1159"], ids=["5000 digits", "year 9999, odd offset"]
)
def test_a_hostile_retry_after_keeps_the_status_and_a_bounded_delay(
    http_server: LocalHTTPServer, retry_after: str
) -> None:
    # Issue 14: these were recorded as "internal: ValueError" / "internal: OverflowError".
    http_server.route("/feed", Reply(status=429, headers={"Retry-After": retry_after}))

    state, _, report = poll(source(http_server))

    assert report == "error"
    assert state.last_status == 429
    assert state.last_error is not None and state.last_error.startswith("http-429")
    assert state.next_poll == NOW + BOUNDS.backoff_ceiling


def test_a_feed_of_10000_entries_yields_at_most_the_configured_number(http_server: LocalHTTPServer) -> None:
    # Issue 14: every entry of a 10,000-item feed used to become a queue message.
    from newsroom.core.config import DEFAULT_ENTRY_LIMITS

    http_server.route("/feed", Reply(body=rss(items=10_000)))

    _, entries, report = poll(source(http_server))

    assert report == "ok"
    assert entries == DEFAULT_ENTRY_LIMITS.entries_per_feed


def test_failures_back_off_exponentially_and_a_success_resets(http_server: LocalHTTPServer) -> None:
    healthy = {"ok": False}
    http_server.route("/feed", lambda request: Reply(body=rss()) if healthy["ok"] else Reply(status=500))
    src = source(http_server)
    state = SourceState("pub")
    now = NOW
    delays = []
    for _ in range(8):
        state, _, _ = poll(src, state, now)
        delay = state.next_poll - now if state.next_poll else timedelta(0)
        delays.append(delay)
        now = state.next_poll or now
    assert state.consecutive_failures == 8
    for n, delay in enumerate(delays, start=1):
        full = min(BOUNDS.backoff_ceiling, timedelta(minutes=15) * 2 ** (n - 1))
        assert max(full / 2, BOUNDS.min_interval) <= delay <= full
    assert delays[-1] > timedelta(hours=5)  # well on its way to the ceiling

    healthy["ok"] = True
    state, entries, report = poll(src, state, now)
    assert (report, entries, state.consecutive_failures) == ("ok", 2, 0)
    assert state.next_poll == now + timedelta(minutes=15)
    assert state.last_error is None


def test_not_due_sources_are_skipped_by_a_due_only_round(http_server: LocalHTTPServer, store: DynamoStore) -> None:
    http_server.route("/feed", Reply(body=rss(), headers={"ETag": '"v1"'}))
    src = source(http_server)
    sqs = FakeSQS()

    fetch_all([src], store, sqs, "q", LOCAL, concurrency=1, now=NOW, bounds=BOUNDS, only_due=True)
    early = fetch_all(
        [src], store, sqs, "q", LOCAL, concurrency=1, now=NOW + timedelta(minutes=5), bounds=BOUNDS, only_due=True
    )
    due = fetch_all(
        [src], store, sqs, "q", LOCAL, concurrency=1, now=NOW + timedelta(minutes=15), bounds=BOUNDS, only_due=True
    )

    assert early[0].status == "skipped"
    # The server ignores If-None-Match and sends the same body: treated as a 304 (not parsed,
    # nothing queued again); one message per entry of the first poll only.
    assert due[0].status == "not-modified"
    assert len(http_server.requests) == 2
    assert sqs.sent == 2


def test_state_round_trips_through_dynamodb(store: DynamoStore) -> None:
    state = SourceState(
        "pub",
        etag='"e"',
        last_success=NOW,
        next_poll=NOW + timedelta(minutes=15),
        last_error="http-503: busy",
        last_error_at=NOW,
        last_status=503,
        consecutive_failures=2,
        feed_url="https://new.example/feed",
        feed_url_for="https://old.example/feed",
        disabled=True,
        disabled_reason="http-410",
    )
    store.put_source_state(state)
    assert store.get_source_states(["pub"]) == {"pub": state}


class FakeSQS:
    def __init__(self) -> None:
        self.sent = 0
        self.bodies: list[str] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        assert len(Entries) <= 10
        assert sum(len(e["MessageBody"].encode()) for e in Entries) <= 256 * 1024
        self.sent += len(Entries)
        self.bodies.extend(e["MessageBody"] for e in Entries)
        json.loads(Entries[0]["MessageBody"])
        return {"Successful": [{"Id": e["Id"]} for e in Entries]}


@pytest.fixture
def store() -> Iterator[DynamoStore]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "t")
        yield DynamoStore(client, "t", b"secret")

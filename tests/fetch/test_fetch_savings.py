"""The fetch path's savings, against a local feed server and the in-memory table: an unchanged feed
queues nothing and writes nothing, a changed entry is queued again, a crash never loses an entry,
and the dispatcher still polls an unwritten source on its interval.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devtools.counting import item_size, write_units
from devtools.memory_dynamodb import memory_dynamodb_from_template
from newsroom.core.codec import entry_from_message
from newsroom.core.config import source_from_json
from newsroom.core.models import Source, SourceState
from newsroom.fetch.apply import fetch_all
from newsroom.fetch.fanout import dispatch, raw_sources_of
from newsroom.fetch.http import FetchPolicy
from newsroom.fetch.poll import HEALTH_REFRESH
from newsroom.fetch.seen import SEEN_MAX
from newsroom.sources.schedule import PollBounds, on_grid
from newsroom.store.dynamo import DynamoStore
from tests.httpserver import LocalHTTPServer, RecordedRequest, Reply, http_server_fixture  # noqa: F401

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LOCAL = FetchPolicy(connect_timeout=2.0, read_timeout=2.0, allow_private=True)
BOUNDS = PollBounds(
    default_interval=timedelta(minutes=15),
    min_interval=timedelta(minutes=5),
    max_interval=timedelta(hours=6),
    backoff_ceiling=timedelta(hours=12),
)


@dataclass
class Feed:
    """A feed whose items, build date and validator behaviour the test changes between polls."""

    items: dict[str, tuple[str, str]] = field(default_factory=dict)  # guid -> (title, description)
    build_date: str = "Mon, 01 Jun 2026 11:00:00 GMT"
    honour_validators: bool = True
    status: int = 200

    def body(self) -> bytes:
        items = "".join(
            f"<item><title>{title}</title><link>https://pub.example/{guid}</link><guid>{guid}</guid>"
            f"<description>{text}</description></item>"
            for guid, (title, text) in self.items.items()
        )
        channel = f"<channel><title>Pub</title><lastBuildDate>{self.build_date}</lastBuildDate>{items}</channel>"
        return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()

    def respond(self, request: RecordedRequest) -> Reply:
        if self.status != 200:
            return Reply(status=self.status, body=b"busy")
        body = self.body()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.honour_validators and request.headers.get("if-none-match") == etag:
            return Reply(status=304, headers={"ETag": etag})
        return Reply(body=body, headers={"ETag": etag, "Content-Type": "application/rss+xml"})


class RecordingSQS:
    def __init__(self) -> None:
        self.bodies: list[str] = []
        self.fail = False

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        if self.fail:
            return {"Failed": [{"Id": e["Id"], "Message": "throttled"} for e in Entries]}
        self.bodies.extend(e["MessageBody"] for e in Entries)
        return {"Successful": [{"Id": e["Id"]} for e in Entries]}

    def titles(self) -> list[str]:
        return [entry_from_message(b).title for b in self.bodies]


class CountingStore(DynamoStore):
    """The real store, counting source-state writes; `crash_on_write` makes the next one fail
    the way a Lambda timeout or a kill after SendMessageBatch would (nothing written)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.state_writes = 0
        self.crash_on_write = False

    def put_source_state(self, state: SourceState) -> None:
        if self.crash_on_write:
            self.crash_on_write = False
            raise KeyboardInterrupt("killed between SendMessageBatch and the state write")
        self.state_writes += 1
        super().put_source_state(state)

    def state_item(self, source_id: str) -> dict[str, Any]:
        resp = self._db.get_item(TableName=self._table, Key={"PK": {"S": "STATES"}, "SK": {"S": source_id}})
        item: dict[str, Any] = resp["Item"]
        return item


@pytest.fixture
def store() -> CountingStore:
    client, table = memory_dynamodb_from_template(table_name="t")
    return CountingStore(client, table, b"secret")


@pytest.fixture
def feed(http_server: LocalHTTPServer) -> Feed:
    f = Feed(items={f"g{i}": (f"Story {i}", f"Text of story {i}.") for i in range(20)})
    http_server.route("/feed", f.respond)
    return f


def src(server: LocalHTTPServer) -> Source:
    return Source(id="pub", name="Pub", feed_url=server.url("/feed"))


def poll(source: Source, store: CountingStore, sqs: RecordingSQS, now: datetime, *, only_due: bool = False) -> Any:
    (report,) = fetch_all([source], store, sqs, "q", LOCAL, concurrency=1, now=now, bounds=BOUNDS, only_due=only_due)
    return report


def test_an_unchanged_feed_answering_200_queues_nothing_and_writes_nothing(
    http_server: LocalHTTPServer, store: CountingStore, feed: Feed
) -> None:
    feed.honour_validators = False  # the server answers 200 with the whole feed every time
    source, sqs = src(http_server), RecordingSQS()
    first = poll(source, store, sqs, NOW)
    assert (first.status, first.entries, len(sqs.bodies), store.state_writes) == ("ok", 20, 20, 1)

    for minutes in (15, 30, 45):
        again = poll(source, store, sqs, NOW + timedelta(minutes=minutes))
        assert again.status == "not-modified" and not again.parsed  # same body: a 304, no parse
    assert len(sqs.bodies) == 20
    assert store.state_writes == 1  # nothing material changed in 45 minutes: no write

    # The document changes (a new build date) but no entry does: parsed, nothing queued, one write.
    feed.build_date = "Mon, 01 Jun 2026 12:50:00 GMT"
    changed = poll(source, store, sqs, NOW + timedelta(minutes=60))
    assert (changed.status, changed.parsed, changed.entries, changed.unchanged) == ("ok", True, 0, 20)
    assert len(sqs.bodies) == 20
    assert store.state_writes == 2


def test_the_state_item_stays_small(http_server: LocalHTTPServer, store: CountingStore, feed: Feed) -> None:
    source, sqs = src(http_server), RecordingSQS()
    poll(source, store, sqs, NOW)
    item = store.state_item("pub")
    # 20 entries: 20 digests of 8 bytes beside the JSON doc; one write unit, half a read unit.
    assert len(item["seen"]["B"]) == 20 * 8
    assert item_size(item) <= 1024 and write_units(item) == 1

    # The largest state: SEEN_MAX digests (a feed of more entries keeps its first 300), < 4 KB.
    feed.items = {f"big{i}": (f"Big {i}", "x") for i in range(320)}
    poll(source, store, sqs, NOW + timedelta(minutes=15))
    item = store.state_item("pub")
    assert len(item["seen"]["B"]) == SEEN_MAX * 8
    assert item_size(item) < 4096


def test_a_corrected_entry_is_queued_again(http_server: LocalHTTPServer, store: CountingStore, feed: Feed) -> None:
    source, sqs = src(http_server), RecordingSQS()
    poll(source, store, sqs, NOW)
    sqs.bodies.clear()

    feed.items["g7"] = ("Story 7 (corrected)", "Text of story 7, with the correction.")
    feed.items["new"] = ("A new story", "Fresh.")
    report = poll(source, store, sqs, NOW + timedelta(minutes=15))

    assert (report.entries, report.unchanged) == (2, 19)
    assert sorted(sqs.titles()) == ["A new story", "Story 7 (corrected)"]
    sqs.bodies.clear()
    # And once queued, the correction is known: the next change does not queue it a third time.
    feed.build_date = "Mon, 01 Jun 2026 13:00:00 GMT"
    poll(source, store, sqs, NOW + timedelta(minutes=30))
    assert sqs.bodies == []
    # Reverting the correction is a change too.
    feed.items["g7"] = ("Story 7", "Text of story 7.")
    poll(source, store, sqs, NOW + timedelta(minutes=45))
    assert sqs.titles() == ["Story 7"]


def test_a_304_writes_nothing_until_health_needs_refreshing(
    http_server: LocalHTTPServer, store: CountingStore, feed: Feed
) -> None:
    source, sqs = src(http_server), RecordingSQS()
    poll(source, store, sqs, NOW)
    written = store.get_source_states(["pub"])["pub"]

    minutes = 15
    while timedelta(minutes=minutes) < HEALTH_REFRESH:
        report = poll(source, store, sqs, NOW + timedelta(minutes=minutes))
        assert report.status == "not-modified" and not report.state_written
        minutes += 15
    assert store.state_writes == 1
    assert store.get_source_states(["pub"])["pub"] == written

    # HEALTH_REFRESH on, one write refreshes last_success (GET /sources is at most that behind).
    refreshed = poll(source, store, sqs, NOW + timedelta(minutes=minutes))
    assert refreshed.state_written and store.state_writes == 2
    assert store.get_source_states(["pub"])["pub"].last_success == NOW + timedelta(minutes=minutes)

    # A failure is written at once, and so is the recovery.
    feed.status = 503
    failed = poll(source, store, sqs, NOW + timedelta(minutes=minutes + 15))
    assert failed.status == "error" and store.state_writes == 3
    feed.status = 200
    recovered = poll(source, store, sqs, NOW + timedelta(minutes=minutes + 30))
    assert recovered.status == "not-modified" and store.state_writes == 4
    assert store.get_source_states(["pub"])["pub"].consecutive_failures == 0
    assert sqs.bodies and len(sqs.bodies) == 20  # never re-queued


def test_a_crash_between_send_and_state_write_loses_nothing(
    http_server: LocalHTTPServer, store: CountingStore, feed: Feed
) -> None:
    source, sqs = src(http_server), RecordingSQS()
    poll(source, store, sqs, NOW)
    sqs.bodies.clear()

    feed.items["late"] = ("Late story", "Sent, then the worker died.")
    store.crash_on_write = True
    with pytest.raises(KeyboardInterrupt):
        poll(source, store, sqs, NOW + timedelta(minutes=15))
    assert sqs.titles() == ["Late story"]  # it was sent, but the state says nothing of it

    # The next poll gets a 200 again (old validators), finds the entry unknown and sends it again.
    again = poll(source, store, sqs, NOW + timedelta(minutes=30))
    assert again.entries == 1
    assert sqs.titles() == ["Late story", "Late story"]  # at-least-once; the processor dedupes
    # Now it is recorded: nothing more.
    poll(source, store, sqs, NOW + timedelta(minutes=45))
    assert len(sqs.bodies) == 2


def test_entries_sqs_refused_are_sent_on_the_next_poll(
    http_server: LocalHTTPServer, store: CountingStore, feed: Feed
) -> None:
    source, sqs = src(http_server), RecordingSQS()
    sqs.fail = True
    failed = poll(source, store, sqs, NOW)
    assert failed.status == "error" and sqs.bodies == []
    state = store.get_source_states(["pub"])["pub"]
    assert state.seen == b"" and state.body_hash is None  # nothing recorded as queued

    sqs.fail = False
    retried = poll(source, store, sqs, state.next_poll or NOW)
    assert retried.entries == 20 and len(sqs.bodies) == 20


def test_the_dispatcher_polls_an_unwritten_source_on_its_interval(
    http_server: LocalHTTPServer, store: CountingStore, feed: Feed
) -> None:
    """Ticks every 5 minutes with EventBridge-like jitter for seven hours: the 15-minute source
    is dispatched every third tick although almost none of its polls writes its state."""
    source, sqs, fetch_queue = src(http_server), RecordingSQS(), RecordingSQS()
    jitter = [0, 40, 5, 55, 10, 0, 30, 59, 1, 20]  # seconds late
    polled: list[datetime] = []
    hours = 7  # past one HEALTH_REFRESH (6 h), so one refresh is written
    for tick in range(hours * 12):
        now = NOW + timedelta(minutes=5 * tick, seconds=jitter[tick % len(jitter)])
        fetch_queue.bodies.clear()
        dispatch(store, fetch_queue, "fetch-q", now=now, sources=[source])
        for body in fetch_queue.bodies:
            message_sources = [source_from_json(raw) for raw in raw_sources_of(body)[0]]
            report = fetch_all(
                message_sources, store, sqs, "q", LOCAL, concurrency=1, now=now, bounds=BOUNDS, only_due=True
            )
            if report[0].status != "skipped":
                polled.append(now)

    gaps = [(b - a).total_seconds() / 60 for a, b in itertools.pairwise(polled)]
    assert len(polled) == hours * 4
    assert all(14 <= gap <= 16 for gap in gaps), gaps
    # The first poll, then one health refresh every HEALTH_REFRESH: 2 writes in 7 hours (it was
    # hourly, 7-8), never a write per poll (28).
    assert timedelta(hours=6) == HEALTH_REFRESH  # README, "GET /sources"
    assert store.state_writes == 1 + timedelta(hours=hours) // HEALTH_REFRESH == 2
    assert len(sqs.bodies) == 20


def test_grid_windows_share_their_ends() -> None:
    state = SourceState("s", next_poll=NOW, poll_interval_s=900, last_success=NOW - timedelta(minutes=15))
    ticks = [NOW - timedelta(minutes=7) + timedelta(minutes=5 * i, seconds=17 * (i % 3)) for i in range(40)]
    hits = [b for a, b in itertools.pairwise(ticks) if on_grid(state, b, a)]
    # Grid points NOW + 15k within the ticks' span (ends moved by the 2-minute slack): each
    # dispatched exactly once, by the first tick at or after it (less the slack).
    slack = timedelta(minutes=2)
    points = [NOW + timedelta(minutes=15 * k) for k in range(20)]
    points = [p for p in points if ticks[0] + slack < p <= ticks[-1] + slack]
    assert len(points) >= 9
    assert hits == [min(t for t in ticks if t + slack >= p) for p in points]
    # A failing source ignores the grid: due as soon as its backoff next_poll has come.
    failing = SourceState("s", next_poll=NOW, poll_interval_s=900, consecutive_failures=2)
    assert on_grid(failing, NOW + timedelta(minutes=1), NOW)


def test_state_round_trips_with_digests(store: CountingStore) -> None:
    state = SourceState("pub", next_poll=NOW, poll_interval_s=900, body_hash="00ff", seen=bytes(range(16)))
    store.put_source_state(state)
    assert store.get_source_states(["pub"]) == {"pub": state}
    assert json.loads(store.state_item("pub")["doc"]["S"])["poll_interval_s"] == 900


def test_a_state_write_that_keeps_failing_fails_that_source_only(
    http_server: LocalHTTPServer, store: CountingStore, feed: Feed
) -> None:
    from botocore.exceptions import ClientError

    class OneStateUnwritable(CountingStore):
        def put_source_state(self, state: SourceState) -> None:
            if state.source_id == "pub":
                raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem")
            super().put_source_state(state)

    flaky = OneStateUnwritable(store._db, store._table, b"secret")
    other = Source(id="other", name="Other", feed_url=http_server.url("/feed"))
    sqs = RecordingSQS()
    reports = {
        r.source_id: r for r in fetch_all([src(http_server), other], flaky, sqs, "q", LOCAL, concurrency=2, now=NOW)
    }
    assert reports["pub"].status == "error" and "state not written" in (reports["pub"].error or "")
    assert reports["other"].status == "ok" and reports["other"].state_written
    assert len(sqs.bodies) == 40  # both sources' entries were sent before the state writes
    # The failed source kept its old (empty) state, so its next poll queues its entries again.
    again = {r.source_id: r for r in fetch_all([src(http_server)], store, sqs, "q", LOCAL, concurrency=1, now=NOW)}
    assert again["pub"].entries == 20

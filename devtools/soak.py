"""`make soak`: the local pipeline over >= 10,000 entries from >= 100 sources, with faults, then a ledger.

A synthetic newsroom world is served on 127.0.0.1: 85 original sites and 15 aggregators that
republish their stories with "Read original article on <domain>" (sometimes before the
original appears), over several fetch rounds in which sites publish new stories, correct old
ones and repeat everything they published before. moto in server mode stands in for AWS, with
the table and queues created from template.yaml; the real handlers run: FetchFeedsFunction per
round, then two ProcessArticlesFunction "instances" (threads, each with its own handler module)
draining the queue at once, as concurrent Lambda invocations would.

Faults, all drawn from one seed (`--seed`):
- feed servers that answer 500, hang past the read timeout, reset the connection or truncate
  the body (never in the last round, so every site is eventually read);
- DynamoDB throttling (both exception codes), transactions cancelled for throttling, and batch
  calls leaving UnprocessedItems/UnprocessedKeys (`devtools.faults.AwsFaults`);
- processors that die before a write (`SimulatedCrash`), so their whole batch comes back;
- at-least-once delivery: one processed message in ten is sent again (a repeat of that entry);
- poison messages (malformed, unknown source), which must end in the dead-letter queue with a
  rejects record.

Then the store is checked against the world's ground truth and the ledger printed:

    entries in = new articles + updates + exact duplicates dropped + copies attached + rejects

where each message counts once, by the outcome of its first completed processing (a message
redelivered after a crash or a lost acknowledgement is the same entry), and a message neither
acknowledged nor dead-lettered is lost. Exit status 0 only when the ledger balances with no
lost entry, no lost story and no duplicated story. botocore's retry backoff is scaled to a tenth
(same schedule, shorter waits) so the run fits in minutes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "shared", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from devtools.faults import AwsFaults, SimulatedCrash, dump_table, story_items  # noqa: E402
from devtools.lambda_local import invoke, load_event, load_handler_module, sqs_event  # noqa: E402
from newsroom.store.documents import load_doc  # noqa: E402
from newsroom.store.keys import SOURCE_STATES_PARTITION  # noqa: E402

_WORDS_TEXT = (
    "ledger validator staking custody liquidity treasury audit oracle bridge rollup settlement "
    "regulator exchange wallet token yield governance protocol mainnet testnet upgrade exploit "
    "patch issuer stablecoin reserve index futures options margin collateral lending borrowing "
    "derivative market desk broker clearing compliance license framework consultation ministry "
    "parliament court ruling appeal sanction filing prospectus listing delisting merger funding "
    "seed series venture accelerator grant developer client node miner hashrate difficulty fee "
    "mempool block epoch slot shard sequencer prover circuit zero knowledge privacy mixer "
    "analytics forensic chainalysis report quarter revenue earnings guidance outlook volatility"
)
WORDS = _WORDS_TEXT.split()


def child(rng: random.Random) -> random.Random:
    """An independent generator drawn from `rng` (each fault source keeps its own sequence)."""
    return random.Random(rng.random())  # noqa: S311 - seeded, reproducible faults, not security


def say(message: str) -> None:
    # The real stdout: the handlers' own logs and metrics go to a sink during the run.
    print(message, file=sys.__stdout__, flush=True)


# -- the synthetic world ------------------------------------------------------------------------


@dataclass
class Story:
    site: int
    number: int
    round_published: int
    version: int = 0
    words: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"https://o{self.site}.example/news/{self.number}-story"

    @property
    def title(self) -> str:
        suffix = f" (update {self.version})" if self.version else ""
        return f"Site {self.site} report {self.number}: {' '.join(self.words[:5])}{suffix}"

    def body(self) -> str:
        paragraphs = [" ".join(self.words[i : i + 40]) for i in range(0, len(self.words), 40)]
        if self.version:
            paragraphs.append(f"Correction {self.version}: an earlier version of this report misstated a figure.")
        return "".join(f"<p>{escape(p)}.</p>" for p in paragraphs)


@dataclass
class World:
    originals: int
    aggregators: int
    rounds: int
    per_round: int
    rng: random.Random
    stories: dict[tuple[int, int], Story] = field(default_factory=dict)
    # aggregator → stories it republished, with the round it did so
    republished: dict[int, dict[tuple[int, int], int]] = field(default_factory=dict)
    published: dict[int, int] = field(default_factory=dict)  # site → its last story number
    round: int = 0

    def source_ids(self) -> list[str]:
        return [f"o{i}" for i in range(self.originals)] + [f"a{k}" for k in range(self.aggregators)]

    def advance(self, round_no: int) -> Counter[str]:
        """Publish, correct and republish for one round; returns what changed."""
        self.round = round_no
        changes: Counter[str] = Counter()
        for site in range(self.originals):
            for _ in range(self.per_round):
                number = self.published[site] = self.published.get(site, -1) + 1
                words = [self.rng.choice(WORDS) for _ in range(120)] + [f"s{site}n{number}w{i}" for i in range(6)]
                self.rng.shuffle(words)
                self.stories[(site, number)] = Story(site, number, round_no, words=words)
                changes["published"] += 1
        if round_no:
            for key in self.rng.sample(sorted(self.stories), k=max(1, len(self.stories) // 40)):
                self.stories[key].version += 1
                changes["corrected"] += 1
        for aggregator in range(self.aggregators):
            picks = self.republished.setdefault(aggregator, {})
            # Mostly stories already out, sometimes one its original has not published yet.
            candidates = [key for key in self.stories if key not in picks]
            for key in self.rng.sample(candidates, k=min(len(candidates), self.per_round + 2)):
                picks[key] = round_no
                changes["republished"] += 1
        return changes

    def feed(self, source_id: str, base: str) -> bytes:
        items: list[str] = []
        if source_id.startswith("o"):
            site = int(source_id[1:])
            for key, story in sorted(self.stories.items()):
                if key[0] == site:
                    items.append(self._item(story.url, f"o{site}-{key[1]}", story.title, story.body(), story))
        else:
            aggregator = int(source_id[1:])
            for key, _round in sorted(self.republished.get(aggregator, {}).items()):
                story = self.stories[key]
                footer = f'<p><em>Read original article on <a href="{story.url}">o{story.site}.example</a></em></p>'
                link = f"https://a{aggregator}.example/{key[0]}-{key[1]}"
                items.append(
                    self._item(link, f"a{aggregator}-{key[0]}-{key[1]}", story.title, story.body() + footer, story)
                )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
            f"<title>{source_id}</title><link>{base}</link><description>soak</description>"
            + "".join(items)
            + "</channel></rss>"
        ).encode()

    def _item(self, link: str, guid: str, title: str, body: str, story: Story) -> str:
        published = time.gmtime(1_780_000_000 + story.site * 97 + story.number * 3_600)
        date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", published)
        return (
            f"<item><title>{escape(title)}</title><link>{link}</link>"
            f'<guid isPermaLink="false">{guid}</guid><pubDate>{date}</pubDate>'
            f"<content:encoded><![CDATA[{body}]]></content:encoded></item>"
        )


# -- the feed server, with faults ---------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    # The default listen backlog (5) drops connections when the fetcher opens 32 at once, and a
    # dropped SYN is retried after 1 s: every feed would look slow. Real servers queue more.
    request_queue_size = 256


class FeedServer:
    FAULTS = ("http-500", "hang", "reset", "truncated")

    def __init__(self, world: World, rng: random.Random, fault_rate: float, hang_seconds: float) -> None:
        self.world = world
        self.rng = rng
        self.fault_rate = fault_rate
        self.hang_seconds = hang_seconds
        self.faults_on = True
        self.lock = threading.Lock()
        self.planned: dict[str, str] = {}  # source → fault for this round
        self.served: dict[str, bytes] = {}  # source → body of each complete 200 this round
        self.bodies: dict[str, bytes] = {}  # source → its feed this round
        self.fault_counts: Counter[str] = Counter()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                source = Path(urlsplit(self.path).path).stem
                server.handle(self, source)

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def plan_round(self, sources: list[str]) -> None:
        # Every feed rendered once per round, here: serving is then only writing bytes, so the
        # stand-in server answers well inside the fetcher's 1 s read timeout under full load.
        bodies = {source: self.world.feed(source, self.base_url) for source in sources}
        with self.lock:
            self.bodies = bodies
            self.served = {}
            self.planned = {}
            if self.faults_on:
                for source in sources:
                    if self.rng.random() < self.fault_rate:
                        self.planned[source] = self.rng.choice(self.FAULTS)

    def handle(self, handler: BaseHTTPRequestHandler, source: str) -> None:
        with self.lock:
            fault = self.planned.get(source)
            if fault:
                self.fault_counts[fault] += 1
        body = self.bodies.get(source, b"")
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        try:
            if fault == "hang":
                time.sleep(self.hang_seconds)
                return
            if fault == "reset":
                import socket
                import struct

                handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                handler.close_connection = True
                return
            if fault == "http-500":
                handler.send_response(500)
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
            if handler.headers.get("If-None-Match") == etag:
                handler.send_response(304)
                handler.send_header("ETag", etag)
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
            handler.send_response(200)
            handler.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            handler.send_header("ETag", etag)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            if fault == "truncated":
                handler.wfile.write(body[: len(body) // 3])
                handler.close_connection = True
                return
            handler.wfile.write(body)
            with self.lock:
                self.served[source] = body
        except OSError:
            pass

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# -- running the handlers -----------------------------------------------------------------------


@dataclass
class Ledger:
    sent: set[str] = field(default_factory=set)  # message ids queued (fetcher, duplicates, poison)
    received: set[str] = field(default_factory=set)  # message ids the processors were handed
    outcomes: dict[str, str] = field(default_factory=dict)  # message id → first completed outcome
    # message id → what happened to it, in order ("sent by ...", "receive n: failed", ...), for
    # the report of a lost message
    history: dict[str, list[str]] = field(default_factory=dict)
    sqs_errors: list[str] = field(default_factory=list)  # SQS calls answered with an error
    deliveries: int = 0
    invocations: int = 0
    crashed_invocations: int = 0
    failed_records: int = 0
    planted_duplicates: int = 0
    planted_poison: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def instrument(module: ModuleType, ledger: Ledger) -> None:
    """Record each message's first completed outcome (the handler's return value)."""
    original = module.record_handler

    def recording(record: Any) -> str:
        outcome = original(record)
        with ledger.lock:
            ledger.outcomes.setdefault(record.message_id, outcome)
        return str(outcome)

    setattr(module, "record_handler", recording)  # noqa: B010 - a module loaded at run time


def count_sends(sqs: Any, ledger: Ledger) -> None:
    def after(parsed: dict[str, Any], event_name: str, **_: Any) -> None:
        sent = [s["MessageId"] for s in parsed.get("Successful", [])]
        if parsed.get("MessageId"):
            sent.append(parsed["MessageId"])
        with ledger.lock:
            ledger.sent.update(sent)
            for message_id in sent:
                ledger.history.setdefault(message_id, []).append(f"sent by {event_name.rsplit('.', 1)[-1]}")

    def retried(caught_exception: Any = None, response: Any = None, event_name: str = "", **_: Any) -> None:
        # An SQS call answered with an error (and retried by botocore): the report shows it.
        if caught_exception is not None or (response and response[1].get("Error")):
            what = caught_exception or response[1].get("Error", {}).get("Code")
            with ledger.lock:
                ledger.sqs_errors.append(f"{event_name.rsplit('.', 1)[-1]}: {what!r}"[:160])

    sqs.meta.events.register("needs-retry.sqs", retried)
    for operation in ("SendMessageBatch", "SendMessage"):
        sqs.meta.events.register(f"after-call.sqs.{operation}", after)


# One ReceiveMessage at a time against moto: its receive (moto 5.2.5, `sqs/models.py`
# `receive_message`) moves messages past maxReceiveCount to the dead-letter queue without a lock,
# so two processors receiving at once can both pick one message for it; the second `list.remove`
# raises, moto answers 500 after marking the rest of that batch received (invisible for the
# visibility timeout), and botocore's retry never sees them: the soak counted ~10 entries lost in
# some runs (`lost ...: receive 3: failed` then nothing; `SQS error: ReceiveMessage: ...500...`).
# SQS itself moves a message to the dead-letter queue atomically. The processors still run their
# batches at once; only the receive calls take turns.
_RECEIVE_LOCK = threading.Lock()

# SQS hands a record that failed (or whose invocation died) over again a visibility timeout later
# (180 s here), which the in-progress windows of a join's lookup entries and a story's claims (60
# s) are held under (`tests/template/test_platform_arithmetic.py`): a record that waited on a
# write that crashed finds it passed over at its next receive. The soak keeps that order at a
# smaller scale, so a run takes minutes: windows of 10 s, a failed record back 12 s later. With
# failed records back at once and 60 s windows, a record waiting on a crashed join spent its five
# receives in seconds and was dead-lettered, its story left in no event.
SOAK_PENDING_SECONDS = 10
SOAK_RETRY_VISIBILITY_SECONDS = 12


def compress_pending_windows() -> None:
    """The in-progress windows at the soak's scale (see `SOAK_PENDING_SECONDS`)."""
    from newsroom.store import fingerprints
    from newsroom.wiring import handlers

    fingerprints.CLAIM_PENDING_SECONDS = SOAK_PENDING_SECONDS
    handlers.DEFAULT_EVENT_LIMITS = replace(handlers.DEFAULT_EVENT_LIMITS, pending_seconds=SOAK_PENDING_SECONDS)


def _in_flight(sqs: Any, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"])


def drain(
    sqs: Any,
    queue_url: str,
    queue_arn: str,
    module: ModuleType,
    ledger: Ledger,
    rng: random.Random,
    duplicate_rate: float,
) -> None:
    """One processor: receive, invoke, acknowledge, until the queue stays empty."""
    empty = 0
    while empty < 3:
        with _RECEIVE_LOCK:
            messages = sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=0,
                VisibilityTimeout=120,
                AttributeNames=["All"],
            ).get("Messages", [])
        if not messages:
            # Records another processor holds, or failed ones not yet back, are still to come.
            empty = 0 if _in_flight(sqs, queue_url) else empty + 1
            time.sleep(0.2)
            continue
        empty = 0
        try:
            result = invoke(module, sqs_event(messages, queue_arn), "ProcessArticlesFunction")
            failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
            crashed = False
        except SimulatedCrash:
            failed, crashed = {m["MessageId"] for m in messages}, True
        except Exception:  # every record failed: Powertools fails the invocation
            failed, crashed = {m["MessageId"] for m in messages}, False
        done = [m for m in messages if m["MessageId"] not in failed]
        back = [m for m in messages if m["MessageId"] in failed]
        if done:
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        if back:  # back when their visibility timeout expires, at the soak's scale
            sqs.change_message_visibility_batch(
                QueueUrl=queue_url,
                Entries=[
                    {
                        "Id": str(i),
                        "ReceiptHandle": m["ReceiptHandle"],
                        "VisibilityTimeout": SOAK_RETRY_VISIBILITY_SECONDS,
                    }
                    for i, m in enumerate(back)
                ],
            )
        with ledger.lock:
            for m in messages:
                count = m.get("Attributes", {}).get("ApproximateReceiveCount", "?")
                fate = "crashed" if crashed else "failed" if m["MessageId"] in failed else "deleted"
                ledger.history.setdefault(m["MessageId"], []).append(f"receive {count}: {fate}")
            ledger.invocations += 1
            ledger.deliveries += len(messages)
            ledger.received.update(m["MessageId"] for m in messages)
            ledger.crashed_invocations += crashed
            ledger.failed_records += len(back) if not crashed else 0
            dupes = [m["Body"] for m in done if rng.random() < duplicate_rate]
        for body in dupes:  # at-least-once: the same entry delivered again, as a new message
            sqs.send_message(QueueUrl=queue_url, MessageBody=body)
            with ledger.lock:
                ledger.planted_duplicates += 1


class CrashBeforeWrites:
    """A processor dies, at random, just before a write is sent: a transaction, or one of the
    conditional PutItems issue 18 moved out of them (a new story's listing entries, a join's
    lookup items, a story's fingerprint claims), so a crash lands between any two of its writes."""

    def __init__(self, rng: random.Random, rate: float) -> None:
        self.rng = rng
        self.rate = rate
        self.count = 0
        self.lock = threading.Lock()
        self.local = threading.local()

    def __call__(self, **_: Any) -> None:
        if not getattr(self.local, "processor", False):
            return  # only processor threads die this way
        with self.lock:
            hit = self.rng.random() < self.rate
            self.count += hit
        if hit:
            raise SimulatedCrash("processor died before a write")


# -- checks -----------------------------------------------------------------------------------


def check_store(items: list[dict[str, Any]], world: World, seen: dict[tuple[int, int], set[str]]) -> dict[str, Any]:
    stories = {i["PK"]["S"][4:]: load_doc(i["doc"]) for i in story_items(items)}
    by_original: dict[str, list[str]] = {}
    for story_id, doc in stories.items():
        attribution = doc.get("attribution") or {}
        original = attribution.get("original_url") if doc["source_id"].startswith("a") else doc["url"]
        by_original.setdefault(original or doc["url"], []).append(story_id)
    expected = {world.stories[key].url: key for key in seen}
    lost = sorted(url for url in expected if url not in by_original)
    duplicated = sorted(url for url, ids in by_original.items() if len(ids) > 1)
    unexpected = sorted(url for url in by_original if url not in expected)
    stale = wrong_copies = 0
    for url, key in expected.items():
        ids = by_original.get(url)
        if not ids:
            continue
        doc = stories[ids[0]]
        carriers = {doc["source_id"]} | {c["source_id"] for c in doc.get("copies", [])}
        if carriers != seen[key]:
            wrong_copies += 1
        if doc["source_id"] == f"o{key[0]}" and doc["title"] != world.stories[key].title:
            stale += 1
    listing = [i for i in items if i["PK"]["S"] == "LIST#all" and "gone" not in i]  # tombstones: `store.stories`
    listing_ids = Counter(i["id"]["S"] for i in listing)
    # Each source's story count (kept by the story transactions) against the stories it holds.
    kept = {
        i["PK"]["S"].removeprefix("COUNT#"): int(i["stories"]["N"])
        for i in items
        if i["PK"]["S"].startswith("COUNT#") and i["SK"]["S"] == "STORIES"
    }
    credited = Counter(doc["source_id"] for doc in stories.values())
    wrong_counts = sum(1 for source in set(kept) | set(credited) if kept.get(source, 0) != credited[source])
    # Issue 17: every story joined exactly one event that exists, whatever faults and retries did.
    events = {i["PK"]["S"].removeprefix("EVENT#") for i in items if i["PK"]["S"].startswith("EVENT#")}
    joined = {
        i["PK"]["S"][4:]: i["event_id"]["S"]
        for i in items
        if i["PK"]["S"].startswith("ART#") and i["SK"]["S"] == "EVENT"
    }
    return {
        "wrong_counts": wrong_counts,
        "without_event": len(set(stories) - set(joined)),
        "dangling_event": sum(1 for event_id in joined.values() if event_id not in events),
        "events": len(events),
        "stories": len(stories),
        "expected": len(expected),
        "lost": lost,
        "duplicated": duplicated,
        "unexpected": unexpected,
        "stale": stale,
        "wrong_copies": wrong_copies,
        "copies": sum(len(doc.get("copies", [])) for doc in stories.values()),
        "listing_doubles": sum(1 for n in listing_ids.values() if n > 1),
        "listing_missing": len(set(stories) - set(listing_ids)),
    }


def seen_by(world: World, served: dict[str, bytes]) -> dict[tuple[int, int], set[str]]:
    """Which sources carried each story in a complete response (the only entries that got in)."""
    carried: dict[tuple[int, int], set[str]] = {}
    for source, body in served.items():
        text = body.decode()
        if source.startswith("o"):
            site = int(source[1:])
            for key in world.stories:
                if key[0] == site and f'<guid isPermaLink="false">o{site}-{key[1]}</guid>' in text:
                    carried.setdefault(key, set()).add(source)
        else:
            aggregator = int(source[1:])
            for key in world.republished.get(aggregator, {}):
                if f'<guid isPermaLink="false">a{aggregator}-{key[0]}-{key[1]}</guid>' in text:
                    carried.setdefault(key, set()).add(source)
    return carried


# -- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=20260601)
    parser.add_argument("--originals", type=int, default=85)
    parser.add_argument("--aggregators", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=5, help="fetch rounds with faults (one clean round follows)")
    parser.add_argument("--per-round", type=int, default=20, help="stories each original publishes per round")
    parser.add_argument("--processors", type=int, default=2)
    parser.add_argument("--poison", type=int, default=25)
    parser.add_argument("--serve-moto", type=Path, help=argparse.SUPPRESS)  # the moto child process
    args = parser.parse_args(argv)
    if args.serve_moto:
        serve_moto(args.serve_moto)
        return 0
    started = time.monotonic()
    # Powertools writes a JSON log line per warning and an EMF blob per 100 metrics: 10,000+
    # entries would bury the ledger. The handlers are loaded after this, so they bind to the sink.
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the whole run
    rng = random.Random(args.seed)  # noqa: S311 - seeded, reproducible faults, not security
    workdir = Path(tempfile.mkdtemp(prefix="newsroom-soak-"))

    from devtools.template import create_resources

    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "soak",
            "AWS_SECRET_ACCESS_KEY": "soak",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "CRITICAL",
            "POWERTOOLS_SERVICE_NAME": "newsroom-soak",
            "POWERTOOLS_METRICS_NAMESPACE": "NewsroomSoak",
        }
    )
    scale_botocore_backoff(0.1)
    moto_process, endpoint = start_moto_process(workdir)
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    import boto3

    dynamodb = boto3.client("dynamodb")
    sqs = boto3.client("sqs")
    resources = create_resources(dynamodb, sqs)

    world = World(args.originals, args.aggregators, args.rounds, args.per_round, child(rng))
    feeds = FeedServer(world, child(rng), fault_rate=0.06, hang_seconds=3.0)
    sources = [
        {
            "id": sid,
            "name": f"Site {sid}" if sid.startswith("o") else f"Aggregator {sid}",
            "feed_url": f"{feeds.base_url}/feeds/{sid}.xml",
            "homepage": f"https://{sid}.example",
            "role": "original" if sid.startswith("o") else "aggregator",
            "aliases": [f"{sid}.example"],
        }
        for sid in world.source_ids()
    ]
    (workdir / "sources.json").write_text(json.dumps({"sources": sources}))
    os.environ.update(
        {
            "TABLE_NAME": resources.table_name,
            "QUEUE_URL": resources.queue_url,
            "SOURCES_FILE": str(workdir / "sources.json"),
            "ALLOW_PRIVATE_NETWORK": "true",
            "FETCH_CONNECT_TIMEOUT": "1",
            "FETCH_READ_TIMEOUT": "1",
            "FETCH_CONCURRENCY": "32",
            "CURSOR_SECRET": "soak-cursor-secret-0123456789",
        }
    )
    from newsroom.wiring import clients as runtime

    runtime.reset()
    ledger = Ledger()
    aws_faults = AwsFaults(args.seed, throttle_rate=0.02, cancel_rate=0.02, unprocessed_rate=0.2)
    aws_faults.attach(runtime.dynamodb())
    # A write in ~1,000: a story makes about 15 (2 transactions, the rest PutItems), so about one
    # invocation of batch 10 in ten dies. At 0.004 a write (the rate when only transactions
    # crashed) three in ten did, and a message whose 5 receives (maxReceiveCount) all die went to
    # the dead-letter queue unprocessed, a fate the rate made likely, not a fault of the pipeline.
    crash = CrashBeforeWrites(child(rng), rate=0.001)
    compress_pending_windows()
    for operation in ("TransactWriteItems", "PutItem"):
        runtime.dynamodb().meta.events.register(f"before-call.dynamodb.{operation}", crash)
    count_sends(runtime.sqs(), ledger)
    fetcher = load_handler_module("fetch_feeds")
    processors = [load_handler_module("process_articles") for _ in range(args.processors)]
    for module in processors:
        instrument(module, ledger)

    say(
        f"soak: {len(sources)} sources ({args.originals} originals, {args.aggregators} aggregators), "
        f"{args.rounds} rounds with faults + 1 clean round, {args.processors} processors, seed {args.seed}"
    )
    all_served: dict[str, bytes] = {}
    carried: dict[tuple[int, int], set[str]] = {}
    poison_round = max(0, args.rounds // 2)
    for round_no in range(args.rounds + 1):
        last = round_no == args.rounds
        changes = world.advance(round_no) if not last else Counter()
        feeds.faults_on = not last
        feeds.plan_round(world.source_ids())
        summary = invoke(fetcher, load_event("fetch_feeds_schedule"), "FetchFeedsFunction")
        for source, body in feeds.served.items():
            all_served[source] = body
            for key, carriers in seen_by(world, {source: body}).items():
                carried.setdefault(key, set()).update(carriers)
        if round_no == poison_round:
            plant_poison(runtime.sqs(), resources.queue_url, args.poison)
            ledger.planted_poison += args.poison
        threads = []
        duplicate_rate = 0.0 if last else 0.1
        for module in processors:
            own = child(rng)

            def work(module: ModuleType = module, own: random.Random = own, dupes: float = duplicate_rate) -> None:
                crash.local.processor = True
                drain(runtime.sqs(), resources.queue_url, resources.queue_arn, module, ledger, own, dupes)

            threads.append(threading.Thread(target=work))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        fetched = (
            f"fetch {summary.get('ok')} ok, {summary.get('not_modified')} not modified, "
            f"{summary.get('failed')} failed, {summary.get('entries')} entries"
        )
        say(
            f"  round {round_no}{' (clean)' if last else ''}: {dict(changes) or 'no changes'}; {fetched}; "
            f"{len(ledger.sent)} messages so far, {time.monotonic() - started:.0f} s"
        )
    feeds.stop()
    try:
        return report(args, ledger, world, carried, feeds, aws_faults, crash, resources, dynamodb, sqs, started)
    finally:
        moto_process.terminate()
        moto_process.wait(timeout=10)


def report(
    args: argparse.Namespace,
    ledger: Ledger,
    world: World,
    carried: dict[tuple[int, int], set[str]],
    feeds: FeedServer,
    aws_faults: AwsFaults,
    crash: CrashBeforeWrites,
    resources: Any,
    dynamodb: Any,
    sqs: Any,
    started: float,
) -> int:

    # The dead-letter queue and the rejects.
    dead = read_all(sqs, resources.dead_letter_queue_url)
    from newsroom.store.dynamo import DynamoStore

    rejects = DynamoStore(dynamodb, resources.table_name, b"unused")
    with_record = sum(1 for m in dead if rejects.get_reject(m["MessageId"]) is not None)
    left = read_all(sqs, resources.queue_url)
    items = dump_table(dynamodb, resources.table_name)
    store = check_store(items, world, carried)

    outcomes = Counter(ledger.outcomes.values())
    dead_ids = {m["MessageId"] for m in dead}
    accounted = set(ledger.outcomes) | dead_ids
    # A send that botocore retried after an error can have landed the first time too: the queue
    # then holds a message whose id the sender never saw (SQS's own at-least-once). Every
    # message that was on the queue is an entry in.
    queued = ledger.sent | ledger.received
    resent = len(queued - ledger.sent)
    lost_messages = queued - accounted
    entries_in = len(queued)
    created = outcomes.get("created", 0)
    updated = outcomes.get("updated", 0)
    unchanged = outcomes.get("unchanged", 0)
    copies = sum(n for k, n in outcomes.items() if k not in ("created", "updated", "unchanged"))  # + promoted
    rejected = len(dead_ids)
    total = created + updated + unchanged + copies + rejected
    balanced = entries_in == total
    plain = ("created", "updated", "unchanged")
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()) if k not in plain)
    elapsed = time.monotonic() - started

    say("")
    say("ledger")
    say(
        f"  entries in                      {entries_in:>7}  ({ledger.planted_duplicates} planted redeliveries, "
        f"{resent} duplicated by retried sends, {ledger.planted_poison} poison messages included)"
    )
    say(f"  new articles                    {created:>7}")
    say(f"  updates                         {updated:>7}")
    say(f"  exact duplicates dropped        {unchanged:>7}")
    say(f"  copies attached                 {copies:>7}  ({kinds})")
    say(f"  reported rejects                {rejected:>7}  (dead-letter queue; {with_record} with a rejects record)")
    say(
        f"  balance                         {'OK' if balanced else 'UNBALANCED'}: "
        f"{created} + {updated} + {unchanged} + {copies} + {rejected} = {total}"
    )
    say(f"  lost entries                    {len(lost_messages):>7}  (still queued: {len(left)})")
    for line in ledger.sqs_errors[:10]:
        say(f"    SQS error: {line}")
    for message_id in sorted(lost_messages)[:10]:
        say(f"    lost {message_id}: {'; '.join(ledger.history.get(message_id, ['never received']))}")
    for message_id in sorted(dead_ids & set(ledger.outcomes))[:10]:
        say(f"    completed and dead-lettered {message_id}: {'; '.join(ledger.history.get(message_id, []))}")
    say("")
    say("store")
    say(
        f"  stories                         {store['stories']:>7}  "
        f"(ground truth {store['expected']}; new articles {created})"
    )
    say(f"  lost stories                    {len(store['lost']):>7}")
    say(f"  duplicated stories              {len(store['duplicated']):>7}")
    say(f"  unexpected stories              {len(store['unexpected']):>7}")
    say(f"  stories with stale text         {store['stale']:>7}")
    say(f"  stories with wrong copies       {store['wrong_copies']:>7}  ({store['copies']} copies listed)")
    say(f"  listing doubles / missing       {store['listing_doubles']:>3} / {store['listing_missing']}")
    say(f"  sources with a wrong story count {store['wrong_counts']:>6}")
    say(f"  stories without an event        {store['without_event']:>7}  ({store['events']} events)")
    say(f"  stories naming a missing event  {store['dangling_event']:>7}")
    say("")
    failing = {
        doc["source_id"]: doc.get("last_error")
        for doc in (json.loads(i["doc"]["S"]) for i in items if i["PK"]["S"] == SOURCE_STATES_PARTITION)
        if doc.get("consecutive_failures")
    }
    say(f"  sources failing at the end     {len(failing):>7}  {dict(list(failing.items())[:4]) or ''}")
    say("")
    say("faults injected")
    say(f"  feed servers                    {dict(feeds.fault_counts)}")
    say(f"  DynamoDB                        {dict(aws_faults.counts)}")
    say(f"  processor crashes               {crash.count} ({ledger.crashed_invocations} invocations died)")
    say(
        f"  deliveries / invocations        {ledger.deliveries} / {ledger.invocations} "
        f"({ledger.failed_records} records reported failed)"
    )
    say(f"  elapsed                         {elapsed:.0f} s")

    checks = {
        "ledger balances": balanced,
        "no entry lost": not lost_messages and not left,
        "no story lost": not store["lost"],
        "no story duplicated": not store["duplicated"],
        "no unexpected story": not store["unexpected"],
        "latest corrections stored": not store["stale"],
        "copies credited": not store["wrong_copies"],
        "listings exact": not store["listing_doubles"] and not store["listing_missing"],
        "story counts exact": not store["wrong_counts"],
        "every story in one existing event": not store["without_event"] and not store["dangling_event"],
        "one creation per story": store["stories"] == created,
        "every poison message dead-lettered with a reason": with_record == rejected == args.poison,
        "at least 10,000 entries": entries_in >= 10_000,
    }
    ok = all(checks.values())
    say("")
    for name, passed in checks.items():
        if not passed:
            say(f"  not met: {name}")
    say("soak: PASS" if ok else "soak: FAIL")
    return 0 if ok else 1


def plant_poison(sqs: Any, queue_url: str, count: int) -> None:
    for n in range(count):
        body = (
            "{not json"
            if n % 2
            else json.dumps(
                {"v": 1, "source_id": "nobody", "link": f"https://x.example/{n}", "fetched_at": "2026-06-01T00:00:00Z"}
            )
        )
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)


def read_all(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for _ in range(200):
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300).get(
            "Messages", []
        )
        if not batch:
            break
        for message in batch:
            seen[message["MessageId"]] = message
    return list(seen.values())


def start_moto_process(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """moto in its own process, so the AWS stand-in and the handlers do not share one GIL."""
    port_file = workdir / "moto-port"
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.soak", "--serve-moto", str(port_file)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not port_file.exists() or not port_file.read_text().strip():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("moto server did not start")
        time.sleep(0.1)
    return process, f"http://127.0.0.1:{port_file.read_text().strip()}"


def serve_moto(port_file: Path) -> None:
    """The child process: moto in server mode, one DynamoDB request at a time and item-level
    transaction rollback (`devtools.moto_local`), until terminated."""
    from devtools.moto_local import moto_server

    server = moto_server(serialized=True)
    _host, port = server.get_host_and_port()
    port_file.write_text(str(port))
    threading.Event().wait()


def scale_botocore_backoff(factor: float) -> None:
    import botocore.retries.standard

    original = botocore.retries.standard.ExponentialBackoff.delay_amount

    def scaled(self: Any, context: Any) -> float:
        return float(original(self, context)) * factor

    botocore.retries.standard.ExponentialBackoff.delay_amount = scaled


if __name__ == "__main__":
    raise SystemExit(main())

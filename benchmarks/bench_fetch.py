"""One polling round at fan-out: 100 local sources, each answering after 200 ms.

The real code path, laid out as it runs in AWS:

- AWS is moto in server mode, in its own process (as DynamoDB and SQS are services of their own,
  not CPU inside the function); the table and queues come from template.yaml.
- The dispatcher (`fanout.dispatch`) reads the registry and states and queues the due sources on
  the fetch queue.
- Fetch workers are WORKERS separate processes, started and warmed before the round, as Lambda
  keeps warm execution environments for a function invoked every few minutes. Each takes one SQS
  batch of BATCH_SIZE sources and runs `fanout.poll_dispatched` (what FetchFeedsFunction runs):
  FETCH_CONCURRENCY sources at a time with the real `http_get`, `parse_feed`, state writes and
  SendMessageBatch.

Round 2 is the same 100 sources 20 minutes later, every one answering 304 Not Modified: it
counts feed parses (from the workers' reports), article writes and article-queue messages (all
should be 0).
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from devtools.template import create_resources
from newsroom.core.codec import entry_from_message
from newsroom.core.models import Source
from newsroom.fetch.fanout import FetchMessage, dispatch, poll_dispatched
from newsroom.fetch.feeds import parse_feed
from newsroom.fetch.http import FetchPolicy, http_get, make_pool
from newsroom.process.build import Outcome, ProcessingContext
from newsroom.process.ingest import ingest
from newsroom.store.dynamo import DynamoStore
from tests.httpserver import LocalHTTPServer, RecordedRequest, Reply

SOURCES = 100
DELAY = 0.2  # seconds before each answer, 200 and 304 alike
BATCH_SIZE = 10  # one ReceiveMessage at most; template.yaml sends 20 a message (its README figures were measured at 10)
FETCH_CONCURRENCY = 10  # sources polled at once inside one worker invocation (a batch's worth)
WORKERS = SOURCES // BATCH_SIZE  # concurrent worker invocations (processes)
ITEMS = 5
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent
CREDENTIALS = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench", "region_name": "us-east-1"}


def _feed(source_index: int) -> bytes:
    items = "".join(
        f"<item><title>Story {source_index}-{i} about bitcoin markets</title>"
        f"<link>https://pub{source_index}.example/{i}</link><guid>g{i}</guid>"
        f"<description>Paragraph {i} of a story about bitcoin and ether prices.</description></item>"
        for i in range(ITEMS)
    )
    channel = f"<channel><title>Pub {source_index}</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


def _responder(index: int) -> Callable[[RecordedRequest], Reply]:
    body = _feed(index)
    etag = f'"v{index}"'

    def respond(request: RecordedRequest) -> Reply:
        if request.headers.get("if-none-match") == etag:
            return Reply(status=304, headers={"ETag": etag}, delay=DELAY)
        return Reply(body=body, headers={"ETag": etag, "Content-Type": "application/rss+xml"}, delay=DELAY)

    return respond


@contextmanager
def _moto_server(*, flat_send: bool) -> Iterator[tuple[str, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter running moto, no outside input
        [sys.executable, "-m", "benchmarks.moto_server", str(port), *(["--flat-send"] if flat_send else [])],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        yield endpoint, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far (Linux /proc; NaN elsewhere)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return total


# -- one fetch worker (a warm Lambda execution environment) -------------------------------------

_worker: dict[str, Any] = {}


def _start_worker(endpoint: str, table_name: str, article_queue: str) -> None:
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, **CREDENTIALS)
    _worker.update(
        store=DynamoStore(dynamodb, table_name, b"bench"),
        sqs=boto3.client("sqs", endpoint_url=endpoint, **CREDENTIALS),
        queue=article_queue,
        pool=make_pool(),
        policy=FetchPolicy(connect_timeout=2.0, read_timeout=2.0, allow_private=True),
    )
    _worker["store"].get_source_states(["warm-up"])  # opens the connection, as a warm Lambda has
    # ...and has feedparser's lazy imports done.
    parse_feed(_feed(0), source_id="warm-up", base_url="http://127.0.0.1/", fetched_at=T0)


def _warm(_: int) -> int:
    return os.getpid()


def _poll_batch(bodies: list[str], now: datetime) -> tuple[int, int]:
    """One FetchFeedsFunction invocation: (entries queued, feeds parsed)."""
    pool = _worker["pool"]
    result = poll_dispatched(
        [FetchMessage(body) for body in bodies],
        _worker["store"],
        _worker["sqs"],
        _worker["queue"],
        _worker["policy"],
        concurrency=FETCH_CONCURRENCY,
        now=now,
        get=lambda url, pol, **kw: http_get(url, pol, pool=pool, **kw),
    )
    return sum(r.entries for r in result.reports), sum(r.parsed for r in result.reports)


def _round(
    store: DynamoStore,
    sqs: Any,
    fetch_queue: str,
    workers: ProcessPoolExecutor,
    now: datetime,
    cpu_of: dict[str, list[int]],
) -> dict[str, float]:
    cpu_before = {name: _cpu_seconds(pids) for name, pids in cpu_of.items()}
    started = time.perf_counter()
    report = dispatch(store, sqs, fetch_queue, now=now, sources=store.list_sources())
    dispatched = time.perf_counter()
    # As Lambda's SQS event source mapping does, a batch is handed to a worker as soon as it is
    # received, while the next one is being received.
    pending = []
    while True:
        messages = sqs.receive_message(QueueUrl=fetch_queue, MaxNumberOfMessages=BATCH_SIZE).get("Messages", [])
        if not messages:
            break
        pending.append(workers.submit(_poll_batch, [m["Body"] for m in messages], now))
        sqs.delete_message_batch(
            QueueUrl=fetch_queue,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
    results = [future.result() for future in pending]
    finished = time.perf_counter()
    return {
        "due": report.due,
        "batches": len(pending),
        "entries": sum(r[0] for r in results),
        "parses": sum(r[1] for r in results),
        "dispatch_s": dispatched - started,
        "fetch_s": finished - dispatched,
        "round_s": finished - started,
        **{f"{name}_cpu_s": _cpu_seconds(pids) - cpu_before[name] for name, pids in cpu_of.items()},
    }


def _queued(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"])


def _process_queue(sqs: Any, url: str, store: DynamoStore, ctx: ProcessingContext) -> int:
    """Run every queued entry through the real processor step (`ingest`); returns article writes."""
    writes = 0
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return writes
        for message in messages:
            decision = ingest(entry_from_message(message["Body"]), store, ctx)
            writes += decision.outcome is not Outcome.UNCHANGED
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )


Row = tuple[str, str, dict[str, float], int, int, "int | str"]


def _run(*, flat_send: bool) -> list[Row]:
    moto_label = "O(1) send" if flat_send else "as shipped"
    rows: list[Row] = []
    with _moto_server(flat_send=flat_send) as (endpoint, moto_pid), LocalHTTPServer() as server:
        dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, **CREDENTIALS)
        sqs = boto3.client("sqs", endpoint_url=endpoint, **CREDENTIALS)
        resources = create_resources(dynamodb, sqs, prefix="bench")
        store = DynamoStore(dynamodb, resources.table_name, b"bench")
        sources = []
        for i in range(SOURCES):
            server.route(f"/feed/{i}", _responder(i))
            sources.append(Source(id=f"s{i:03d}", name=f"Pub {i}", feed_url=server.url(f"/feed/{i}")))
        store.seed_sources(sources)
        ctx = ProcessingContext.build(
            tuple(sources),
            site_name="CryptoCompass",
            desk_name="CryptoCompass newsroom",
            editorial_image_base_url="https://cdn.example/editorial",
            max_body_bytes=300_000,
            now=T0,
        )
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=WORKERS,
            mp_context=spawn,
            initializer=_start_worker,
            initargs=(endpoint, resources.table_name, resources.queue_url),
        ) as workers:
            # Every worker process up and warm before the clock starts.
            worker_pids: set[int] = set()
            while len(worker_pids) < WORKERS:
                worker_pids |= set(workers.map(_warm, range(WORKERS * 4)))
            # The bench's own process holds the feed server and the dispatcher.
            cpu_of = {"moto": [moto_pid], "workers": sorted(worker_pids), "bench": [os.getpid()]}
            for label, now in (("1: all 200", T0), ("2: all 304, 20 min later", T0 + timedelta(minutes=20))):
                requests_before = len(server.requests)
                stats = _round(store, sqs, resources.fetch_queue_url, workers, now, cpu_of)
                queued = _queued(sqs, resources.queue_url)
                if now == T0:
                    # Round 1's 500 new stories would cost minutes of moto CPU and are not in
                    # question; drop them (the second round's count is the one that matters).
                    sqs.purge_queue(QueueUrl=resources.queue_url)
                    writes: int | str = "-"
                else:
                    writes = _process_queue(sqs, resources.queue_url, store, ctx)
                rows.append((label, moto_label, stats, len(server.requests) - requests_before, queued, writes))
    return rows


def main() -> None:
    rows = _run(flat_send=False) + _run(flat_send=True)
    print(
        f"{SOURCES} sources, {DELAY * 1000:.0f} ms per answer; batch size {BATCH_SIZE}, {WORKERS} concurrent "
        f"worker processes (warm), FETCH_CONCURRENCY {FETCH_CONCURRENCY} per worker; moto server in its own "
        f"process; {os.cpu_count()} CPUs"
    )
    header = (
        f"{'round':<26}{'moto SQS':>11}{'due':>5}{'GETs':>6}{'batches':>8}{'dispatch s':>11}{'fetch s':>10}"
        f"{'round s':>9}{'parses':>8}{'queue msgs':>11}{'article writes':>15}"
        f"{'CPU s: moto':>12}{'workers':>8}{'bench':>6}"
    )
    print(header)
    for label, moto_label, stats, gets, queued, writes in rows:
        print(
            f"{label:<26}{moto_label:>11}{stats['due']:>5.0f}{gets:>6}{stats['batches']:>8.0f}"
            f"{stats['dispatch_s']:>11.2f}{stats['fetch_s']:>10.2f}{stats['round_s']:>9.2f}{stats['parses']:>8.0f}"
            f"{queued:>11}{writes:>15}"
            f"{stats['moto_cpu_s']:>12.2f}{stats['workers_cpu_s']:>8.2f}{stats['bench_cpu_s']:>6.2f}"
        )
    print(
        "round s = dispatch (registry + states read, SendMessageBatch) + fetch (receiving the batches and the "
        "workers polling them, overlapped), wall clock;"
    )
    print("article writes = stories the real processor (`ingest`) wrote from the round's queued entries.")
    print(
        "CPU s = CPU time used during the round by the moto server, the ten workers, and the bench process "
        "(feed server, dispatcher), on the machine's 2 cores: the round's own work is the workers' share."
    )
    print(
        "moto SQS 'O(1) send': moto without its per-message walk of the whole queue on SendMessage "
        "(benchmarks/moto_server.py); real SQS has no such cost."
    )


if __name__ == "__main__":
    main()

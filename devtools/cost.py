"""`make cost`: the monthly bill, from what one local run of the real handlers measures.

The run (moto in server mode, the sample feeds, the handlers imported as Lambda imports them)
goes through every billed path once, counted by `devtools.counting`:

  fetch-new        a fetch round whose feeds answer 200 with entries (queued)
  process-new      the processor storing those entries
  fetch-304        the next round: every feed answers 304 Not Modified (no write expected)
  fetch-200-same   validators forgotten: 200 with the same body, treated as a 304 (no parse, no write)
  fetch-200-changed  validators and body hash forgotten: parsed, every entry already queued, so
                   nothing queued and one state write per source
  process-same     whatever those rounds queued (nothing expected)
  prices           one price refresh
  api-feeds        the three feed formats, served by the API function
  websub-delivery  a hub's signed deliveries of one new entry each, taken by the WebSub callback

Per-unit figures (per poll, per entry, per request) are then scaled to N sources polled as the
schedule polls them (each feed's rhythm, `sources.schedule.polling_interval`: the polls a day of
each class of feed simulated on the corpus by `devtools.freshness`, in the corpus's mix) and 1 M
feed requests a month, for the design as built and for the changes that would bring it under
budget; the dispatcher still ticks every 5 minutes (8,640 ticks a month). The share of sources
whose feed names a usable WebSub hub is measured on the corpus (`devtools.hub_share`): those are
polled at the safety net instead of their rhythm, and their new entries arrive by delivery
(issue 19). The table is priced on
demand and provisioned (`devtools.capacity`, sized to each tick's burst). What is measured and
what is assumed is printed.
Prices are us-east-1 on-demand list prices (see PRICES); no free tier is subtracted except where
a line says so.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "shared"))
sys.path.insert(0, str(ROOT))

from devtools.counting import Counts, install, item_size  # noqa: E402
from devtools.hub_share import HubShare, measure_hub_share  # noqa: E402

# us-east-1 on-demand list prices in USD, as published on the AWS pricing pages (DynamoDB's are
# those after its November 2024 on-demand cut). Dated 2025-06, the last time they were read; this
# machine has no internet to re-check them: confirm before relying on a figure.
PRICES_DATE = "2025-06"
PRICES = {
    "dynamodb_write_unit": 0.625 / 1e6,  # per write request unit
    "dynamodb_read_unit": 0.125 / 1e6,  # per read request unit
    "dynamodb_storage_gb": 0.25,  # per GB-month (first 25 GB free)
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second_arm64": 0.0000133334,
    "sqs_request": 0.40 / 1e6,  # standard queue, per request (64 KB chunk)
    "apigw_rest_request": 3.50 / 1e6,  # REST API, first 333 M a month
    "apigw_http_request": 1.00 / 1e6,  # HTTP API, first 300 M a month
    "cloudfront_https_request": 0.0100 / 1e4,  # North America
    "logs_ingest_gb": 0.50,
    "custom_metric": 0.30,  # per metric a month (first 10,000)
    "alarm_metric": 0.10,  # per standard-resolution alarm metric a month
    "xray_trace": 5.00 / 1e6,  # traces recorded
    # Per secret a month (the cursor key was one until issue 18's stop of 2026-12-03: it is a table
    # item now); GetSecretValue calls are $0.05 per 10,000 and left out. Secrets Manager has a
    # 30-day trial, no always-free tier.
    "secret": 0.40,
}
ROUNDS_PER_MONTH = 30 * 24 * 12  # dispatcher ticks: every 5 minutes
SECONDS_PER_MONTH = 30 * 24 * 3600
LAMBDA_PLATFORM_LOG_BYTES = 350  # START, END and REPORT lines per invocation
FULL_VCPU_MB = 1769  # Lambda gives one full vCPU at 1,769 MB, a proportional share below


@cache
def fetch_fan_out() -> tuple[int, int, int]:
    """The fetch worker's SQS batch size (messages), its FETCH_CONCURRENCY (the Parameter's
    default) and the dispatcher's FETCH_SOURCES_PER_MESSAGE, read once: every `Assumptions()`
    asks for them."""
    from devtools.artifact import load_template
    from devtools.template import sqs_batch_size

    template = load_template(ROOT / "template.yaml")
    batch = sqs_batch_size("FetchFeedsFunction", ROOT / "template.yaml")
    dispatcher = template["Resources"]["DispatchSourcesFunction"]["Properties"]["Environment"]["Variables"]
    per_message = int(dispatcher.get("FETCH_SOURCES_PER_MESSAGE", 1))
    return batch, int(template["Parameters"]["FetchConcurrency"]["Default"]), per_message


@dataclass(frozen=True)
class Assumptions:
    # A mix of big outlets (30-50 a day) and blogs (1-3 a day); `--new-per-day` changes it.
    new_entries_per_source_day: float = 5.0
    share_ignoring_validators: float = 0.2  # sources that answer 200 with the same feed every time
    share_changing_document: float = 0.05  # sources whose document changes every poll (a timestamp)
    registry_bytes_per_source: int = 500  # a source's registry item
    dispatch_seconds: float = 1.0  # one dispatcher tick (Query, BatchGetItem, SendMessageBatch)
    # Lambda's SQS event source long-polls each queue with at least 5 pollers, 20 s waits: 3
    # receives a minute each, billed even when empty.
    idle_sqs_requests_per_queue: float = 5 * 3 * 60 * 24 * 30
    feed_latency_s: float = 0.3  # one real feed request over the internet (TLS, server time)
    # Every feed answers in `feed_latency_s` (False), or latencies spread exponentially around
    # it, so a batch waits for its slowest source (True; `make cost` prints both).
    slowest_of_batch: bool = False
    # The fetch worker's FETCH_CONCURRENCY (the Parameter's default), its SQS batch of messages and
    # the sources each message holds, read from template.yaml.
    fetch_concurrency: int = field(default_factory=lambda: fetch_fan_out()[1])
    fetch_messages_per_invocation: int = field(default_factory=lambda: fetch_fan_out()[0])
    sources_per_fetch_message: int = field(default_factory=lambda: fetch_fan_out()[2])

    @property
    def sources_per_fetch_invocation(self) -> int:
        return self.fetch_messages_per_invocation * self.sources_per_fetch_message

    feed_requests: float = 1_000_000
    cloudfront_hit_ratio: float = 0.95  # feeds cached 60 s at the edge
    # A tick's polls, their state writes and the stories they bring reach the table within this
    # many seconds (the fan-out drains a tick in well under a minute, see the README).
    tick_work_seconds: float = 60.0


# -- the measured run ----------------------------------------------------------------------------------


def _configure(endpoint: str, extra: dict[str, str]) -> None:
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
            # Metrics on and INFO logs: both are CloudWatch Logs bytes, as in production.
            "POWERTOOLS_METRICS_DISABLED": "false",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "POWERTOOLS_SERVICE_NAME": "newsroom",
            "POWERTOOLS_METRICS_NAMESPACE": "Newsroom/cost",
            "CURSOR_SECRET": "cost-model-cursor-secret-0123456789",
            **extra,
        }
    )


def measure(echo_logs: TextIO | None = None) -> tuple[Counts, dict[str, Any]]:
    """Run every billed path once against moto and the sample feeds; return the counts."""
    import boto3

    from devtools.lambda_local import FakeLambdaContext, load_event, load_handler_module, sqs_event
    from devtools.moto_local import moto_server
    from devtools.sample_server import SampleServer
    from devtools.template import create_resources
    from newsroom.store.keys import SOURCE_STATES_PARTITION

    moto = moto_server()
    host, port = moto.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    _configure(endpoint, {})
    dynamodb = boto3.client("dynamodb")
    sqs = boto3.client("sqs")
    resources = create_resources(dynamodb, sqs, prefix="cost")
    samples = SampleServer().start()
    tmp = Path(tempfile.mkdtemp(prefix="newsroom-cost-"))
    _configure(
        endpoint,
        {
            "TABLE_NAME": resources.table_name,
            "QUEUE_URL": resources.queue_url,
            "SOURCES_FILE": str(samples.sources_file(tmp / "sources.json")),
            "PRICE_API_BASE_URL": f"{samples.base_url}/api/v3",
            "ALLOW_PRIVATE_NETWORK": "true",
            # As the template configures the fetcher: each poll runs its WebSub step (the sample
            # feeds name no hub, so no hub is asked; the subscription read is counted).
            "WEBSUB_CALLBACK_BASE_URL": "https://cost.example/v1",
        },
    )
    counts = Counts()
    real_stdout = sys.stdout
    sys.stdout = counts.log_stream(echo_logs)  # before the handlers import: Logger keeps its stream
    uninstall = install(counts)
    facts: dict[str, Any] = {}
    try:
        from newsroom.wiring import clients as runtime

        runtime.reset()
        fetch = load_handler_module("fetch_feeds")
        process = load_handler_module("process_articles")
        prices = load_handler_module("fetch_prices")
        api = load_handler_module("api")
        callback = load_handler_module("websub_callback")

        def call(module: Any, event: Any, name: str) -> Any:
            return counts.invoke(module.lambda_handler, event, FakeLambdaContext(function_name=name))

        def drain() -> int:
            processed = 0
            while True:
                resp = sqs.receive_message(
                    QueueUrl=resources.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, AttributeNames=["All"]
                )
                messages = resp.get("Messages", [])
                if not messages:
                    return processed
                result = call(process, sqs_event(messages, resources.queue_arn), "ProcessArticlesFunction")
                failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
                done = [m for m in messages if m["MessageId"] not in failed]
                if done:
                    sqs.delete_message_batch(
                        QueueUrl=resources.queue_url,
                        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
                    )
                processed += len(done)

        schedule = load_event("fetch_feeds_schedule")
        with counts.during("fetch-new"):
            facts["fetch-new"] = call(fetch, schedule, "FetchFeedsFunction")
        with counts.during("process-new"):
            facts["process-new"] = drain()
        states = [
            item
            for item in dynamodb.scan(TableName=resources.table_name)["Items"]
            if item["PK"]["S"] == SOURCE_STATES_PARTITION
        ]

        def rewrite_states(*drop: str) -> None:
            # Setup, not counted: edit every source's stored state as the next round needs it.
            # The failing sample source (404) is switched off, so a round's counts are those of
            # healthy sources only (a failure costs a write per poll; see the assumptions).
            for item in states:
                doc = json.loads(item["doc"]["S"])
                doc.update({key: None for key in drop})
                if doc.get("consecutive_failures"):
                    doc.update({"disabled": True, "disabled_reason": "left out of the cost run", "feed_url_for": None})
                dynamodb.put_item(TableName=resources.table_name, Item={**item, "doc": {"S": json.dumps(doc)}})

        rewrite_states()
        # Without `seen`: the run's states are first polls, whose digests are their documents'
        # few entries; the bill prices a state as it is after churn (`steady_seen_digests`).
        facts["state_doc_bytes"] = [item_size({k: v for k, v in i.items() if k != "seen"}) for i in states]
        with counts.during("fetch-304"):
            facts["fetch-304"] = call(fetch, schedule, "FetchFeedsFunction")

        # Servers that ignore validators: the same body again, answered 200.
        rewrite_states("etag", "last_modified")
        with counts.during("fetch-200-same"):
            facts["fetch-200-same"] = call(fetch, schedule, "FetchFeedsFunction")
        # A document that changed with no entry changed (a new lastBuildDate): parsed, nothing queued.
        rewrite_states("etag", "last_modified", "body_hash")
        with counts.during("fetch-200-changed"):
            facts["fetch-200-changed"] = call(fetch, schedule, "FetchFeedsFunction")
        with counts.during("process-same"):
            facts["process-same"] = drain()
        deliveries = _signed_deliveries(runtime.store(), DELIVERIES)  # setup: an active subscription
        with counts.during("websub-delivery"):
            for event in deliveries:
                facts.setdefault("websub-status", Counter())[
                    call(callback, event, "WebSubCallbackFunction")["statusCode"]
                ] += 1
        facts["websub-delivery"] = len(deliveries)
        facts["process-pushed"] = drain()  # stories like any new entry's, priced as those
        with counts.during("prices"):
            call(prices, load_event("fetch_prices_schedule"), "FetchPricesFunction")
        with counts.during("api-feeds"):
            for _ in range(5):
                for name in ("api_get_feed_rss", "api_get_feed_atom", "api_get_feed_json"):
                    response = call(api, load_event(name), "ApiFunction")
                    facts.setdefault("api-status", Counter())[response["statusCode"]] += 1
        stored = dynamodb.scan(TableName=resources.table_name)["Items"]
        facts["table_bytes"] = sum(item_size(i) for i in stored)
        facts["articles"] = sum(1 for i in stored if i["PK"]["S"].startswith("ART#") and i["SK"]["S"] == "ART")
    finally:
        uninstall()
        sys.stdout = real_stdout
        samples.stop()
        moto.stop()
    return counts, facts


DELIVERIES = 5  # the measured deliveries, one new entry each


def _signed_deliveries(store: Any, n: int) -> list[dict[str, Any]]:
    """An active subscription of the sample source defiliban (written directly, not counted) and
    `n` callback events from its hub, each signed and carrying one new entry."""
    import base64
    import hashlib
    import hmac
    from datetime import UTC, datetime, timedelta

    from devtools.lambda_local import load_event
    from newsroom.store.subscriptions import Subscription

    now = datetime.now(UTC)
    token, secret = "cost-" + "t" * 40, "cost-secret-" + "s" * 52
    store.put_subscription(
        Subscription(
            "defiliban",
            "https://hub.example/",
            "https://defiliban.io/feed",
            token,
            "active",
            now,
            864000,
            lease_expires=now + timedelta(days=10),
            verified_at=now,
        )
    )
    store.put_hub_secret("defiliban", secret)
    events = []
    for i in range(n):
        body = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>DeFi Liban</title><item>'
            f"<title>Pushed story {i} on Bitcoin markets</title><link>https://defiliban.io/pushed-{i}/</link>"
            f"<guid>pushed-{i}</guid><pubDate>{now.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
            "<description>Bitcoin traded higher as a hub pushed this story within seconds.</description>"
            "</item></channel></rss>"
        ).encode()
        event = load_event("websub_callback_deliver")
        event["pathParameters"] = {"source": "defiliban", "token": token}
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        event["headers"] = {**event["headers"], "X-Hub-Signature": signature}
        event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
        events.append(event)
    return events


# -- the model -----------------------------------------------------------------------------------------


def feed_wait_per_poll(a: Assumptions) -> float:
    """The invocation's network wait a poll is billed: a batch's sources are requested
    `fetch_concurrency` at a time, so the batch waits ceil(batch / concurrency) feed latencies,
    shared by its sources (a batch of 10 at concurrency 16 waits one latency for 10, not 10/16)."""
    batch = a.sources_per_fetch_invocation
    if a.slowest_of_batch:
        # The slowest of n exponential latencies of mean m takes m * (1 + 1/2 + ... + 1/n) on
        # average. Past `fetch_concurrency` a thread starts the next source as one ends: the
        # first (batch - c) ends come c at a time, m / c apart, then the last c drain.
        c = min(batch, a.fetch_concurrency)
        waits = (batch - c) / c + _harmonic(c)
        return a.feed_latency_s * waits / batch
    return a.feed_latency_s * math.ceil(batch / a.fetch_concurrency) / batch


def _harmonic(n: int) -> float:
    return sum(1 / k for k in range(1, n + 1))


def fetch_messages(polls: float, a: Assumptions) -> float:
    """Fetch messages a month for `polls`: each tick's due sources, `sources_per_fetch_message`
    a message, the last one of a tick partly filled (the tick's mean, rounded up)."""
    per_tick = polls / ROUNDS_PER_MONTH
    return ROUNDS_PER_MONTH * math.ceil(per_tick / a.sources_per_fetch_message - 1e-9) if polls else 0.0


def sqs_batches(messages: float, batch: int) -> float:
    """Calls to receive, or to delete, `messages` handed to Lambda in batches of `batch`:
    ReceiveMessage returns at most 10 and DeleteMessageBatch takes at most 10 (SQS API
    Reference, MaxNumberOfMessages and "a maximum of 10 messages"), so a batch of 20 takes two
    of each."""
    return messages / batch * math.ceil(batch / 10)


def function_memory() -> dict[str, int]:
    from devtools.artifact import functions, load_template

    template = load_template(ROOT / "template.yaml")
    default = int(template["Globals"]["Function"].get("MemorySize", 128))
    return {name: int(props.get("MemorySize", default)) for name, props in functions(template).items()}


def secrets() -> int:
    """Secrets Manager secrets in template.yaml (each billed monthly whatever the traffic)."""
    from devtools.artifact import load_template

    resources = load_template(ROOT / "template.yaml")["Resources"].values()
    return sum(1 for r in resources if r.get("Type") == "AWS::SecretsManager::Secret")


def alarm_metrics() -> int:
    """Alarm metrics of a stack deployed with the defaults (DetailedMetrics=false: the alarms
    under the `DetailedAlarms` condition do not exist)."""
    from devtools.artifact import load_template

    total = 0
    for resource in load_template(ROOT / "template.yaml")["Resources"].values():
        if resource.get("Type") == "AWS::CloudWatch::Alarm" and resource.get("Condition") != "DetailedAlarms":
            props = resource["Properties"]
            total += sum(1 for m in props.get("Metrics", []) if "MetricStat" in m) or 1
    return total


@dataclass
class Unit:
    """Billed quantities per one of something (a poll, an entry, a request)."""

    invocations: float = 0
    gb_seconds: float = 0
    read_units: float = 0
    write_units: float = 0
    sqs_requests: float = 0
    log_bytes: float = 0

    def scaled(self, factor: float) -> Unit:
        return Unit(*(getattr(self, f) * factor for f in self.__dataclass_fields__))

    def __add__(self, other: Unit) -> Unit:
        return Unit(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))


def _unit(counts: Counts, phase: str, per: float, memory_mb: int, *, io_wait_s: float = 0.0) -> Unit:
    s = counts.summary(phase)
    cpu_share = min(1.0, memory_mb / FULL_VCPU_MB)
    # The measured wall time is treated as CPU time (an upper bound: it includes moto's answers),
    # stretched by the vCPU share the function's memory buys; network waits are added apart.
    seconds = s["duration_ms"] / 1000 / cpu_share + io_wait_s * per
    return Unit(
        invocations=s["invocations"] / per,
        gb_seconds=seconds * memory_mb / 1024 / per,
        read_units=s["read_units"] / per,
        write_units=s["write_units"] / per,
        sqs_requests=s["sqs_requests"] / per,
        log_bytes=(s["log_bytes"] + LAMBDA_PLATFORM_LOG_BYTES * s["invocations"]) / per,
    )


# The processor's CPU per queue message, measured by `make bench` (bench_processing, "processor
# Lambda": batches of 10 messages decoded, built, deduplicated, joined to their events and stored;
# CPU time on one core, synthetic 3 KB articles): its own code (the in-memory DynamoDB's time
# inside each call taken out) plus botocore's work for its 27.8 DynamoDB calls, replayed through a
# client with the functions' own configuration and HTTP answered in process
# (`benchmarks.processor_step`, a floor: no TLS, no CRC32). On 2026-12-04 (second session) on this
# 2-core machine, five runs: 2.55-2.56 + 7.61-7.81 = 10.17-10.37 ms, the highest kept (rounded up),
# once the clients stopped validating each request and rebuilding their User-Agent
# (`config.client_config`): it was 2.47-2.52 + 11.25-11.51 = 13.75-14.03 ms before, in five runs
# the same day. The 12.4 ms before that was measured for 22.9 calls, before the outside review's
# mends of issue 18 had a join write its lookup items on more attempts (27.8 calls); it was 13.4 ms
# for 15.2 calls on 2026-12-03 (one transaction of many items took botocore more to serialize than
# the items apart), and 10.5 ms for 9.2 calls on 2026-12-02. The local run's wall time for new
# entries is mostly moto answering in this same process, which in AWS is a network wait, not the
# function's work; that wait is counted apart, per DynamoDB call the run made.
PROCESSOR_MS_PER_MESSAGE = 10.4
# "For most atomic operations, such as GetItem and PutItem, you can expect an average latency in
# single-digit milliseconds" (AWS Knowledge Center, "Why is my Amazon DynamoDB request latency
# high?"): the upper end of the single digits, for transactions and cold connections.
DYNAMODB_CALL_S = 0.008


def _processor_unit(counts: Counts, entries: int, memory_mb: int) -> Unit:
    """A new entry through the processor: its calls, capacity and logs from the local run, its
    Lambda time from `PROCESSOR_MS_PER_MESSAGE` (stretched by the vCPU share) plus a DynamoDB
    round trip per call the run made for it."""
    unit = _unit(counts, "process-new", entries, memory_mb)
    calls = sum(
        n for (phase, service, _), n in counts.calls.items() if phase == "process-new" and service == "dynamodb"
    )
    cpu_share = min(1.0, memory_mb / FULL_VCPU_MB)
    seconds = PROCESSOR_MS_PER_MESSAGE / 1000 / cpu_share + calls / entries * DYNAMODB_CALL_S
    unit.gb_seconds = seconds * memory_mb / 1024
    return unit


def dollars(u: Unit) -> dict[str, float]:
    return {
        "Lambda": u.invocations * PRICES["lambda_request"] + u.gb_seconds * PRICES["lambda_gb_second_arm64"],
        "DynamoDB": u.read_units * PRICES["dynamodb_read_unit"] + u.write_units * PRICES["dynamodb_write_unit"],
        "SQS": u.sqs_requests * PRICES["sqs_request"],
        "Logs": u.log_bytes / 1e9 * PRICES["logs_ingest_gb"],
    }


@dataclass(frozen=True)
class PollMix:
    """Polls a day of one source, and its health writes a day (one a `HEALTH_REFRESH` at most),
    in a mix of classes."""

    polls_per_day: float
    health_writes_per_day: float  # an unchanged poll writes once `last_success` is HEALTH_REFRESH old
    default_polls_per_day: float  # every source at the default interval, for comparison
    description: str
    # `seen` digests each corpus feed's state keeps once entries have come and gone
    seen_digests: tuple[int, ...]
    table: str = ""  # the freshness simulation's table, as `python -m devtools.freshness` prints it


def steady_seen_digests(entries_in_document: int) -> int:
    """The digests a source's state keeps once entries have come and gone: every entry of its
    document and older ones up to max(SEEN_MIN, 2 × the document's entries), SEEN_MAX at most
    (`fetch.seen.records`). A first poll keeps only the document's."""
    from newsroom.fetch.seen import SEEN_MAX, SEEN_MIN

    return min(SEEN_MAX, max(SEEN_MIN, 2 * entries_in_document))


def state_sizes(doc_bytes: int, digests: tuple[int, ...]) -> list[int]:
    """Each feed's state item in bytes: its document and its digests (8 bytes each, and the
    attribute's name); `doc_bytes` alone when no digests are given."""
    return [doc_bytes + len("seen") + 8 * n for n in digests] or [doc_bytes]


def health_refresh() -> timedelta:
    """How often an unchanged poll writes a healthy source's state (`poll.HEALTH_REFRESH`)."""
    from newsroom.fetch.poll import HEALTH_REFRESH

    return HEALTH_REFRESH


def poll_mix() -> PollMix:
    """The corpus's mix of feed classes polled by the rhythm (`devtools.freshness`)."""

    from devtools.freshness import compare, corpus_times, report
    from newsroom.sources.schedule import PollBounds

    times = corpus_times()
    fresh = compare(times, PollBounds())
    table = io.StringIO()
    report(fresh, table)
    feeds = sum(c.feeds for c in fresh.classes)
    refreshes = timedelta(days=1) / health_refresh()
    health = sum(min(c.polls_per_day_rhythm, refreshes) * c.feeds for c in fresh.classes) / feeds
    parts = ", ".join(f"{c.feeds} {c.klass} ({c.polls_per_day_rhythm:.0f} polls/day)" for c in fresh.classes)
    return PollMix(
        fresh.polls_per_source_day(),
        health,
        fresh.polls_per_source_day(rhythm=False),
        parts,
        tuple(steady_seen_digests(len(t)) for t in times.values()),
        table.getvalue(),
    )


@dataclass(frozen=True)
class Volumes:
    """A month of one scale's polling: the polls by what they find, and the new entries by how
    they arrive (found by a poll, or delivered by a hub)."""

    polls: float
    polls_new: float
    polls_changed: float
    polls_same: float
    polls_304: float
    health_writes: float
    polled_entries: float
    pushed_entries: float


def safety_net_polls_per_day() -> float:
    from newsroom.core.config import DEFAULT_WEBSUB_LIMITS

    return 86400 / DEFAULT_WEBSUB_LIMITS.safety_net_seconds


def volumes(sources: int, mix: PollMix, a: Assumptions, hub_share: float) -> Volumes:
    """`hub_share` of the sources are pushed: polled at the WebSub safety net (or their rhythm,
    when that is rarer: `schedule.pushed_next_poll` never polls sooner than the normal rule), and
    their new entries arrive by delivery; the others are polled on their rhythm."""
    safety = safety_net_polls_per_day()
    per_day = (1 - hub_share) * mix.polls_per_day + hub_share * min(safety, mix.polls_per_day)
    health_per_day = (1 - hub_share) * mix.health_writes_per_day + hub_share * min(safety, mix.health_writes_per_day)
    polls = sources * per_day * 30
    new_entries = sources * a.new_entries_per_source_day * 30
    pushed = hub_share * new_entries
    polls_new = min(polls, new_entries - pushed)
    rest = polls - polls_new
    polls_changed = a.share_changing_document * rest
    polls_same = a.share_ignoring_validators * rest
    return Volumes(
        polls=polls,
        polls_new=polls_new,
        polls_changed=polls_changed,
        polls_same=polls_same,
        polls_304=rest - polls_changed - polls_same,
        health_writes=sources * 30 * health_per_day,
        polled_entries=new_entries - pushed,
        pushed_entries=pushed,
    )


def model(
    counts: Counts,
    facts: dict[str, Any],
    a: Assumptions,
    out: TextIO,
    mix: PollMix | None = None,
    hubs: HubShare | None = None,
) -> dict[str, dict[str, float]]:
    from devtools.capacity import ALARMS_PER_DIMENSION
    from devtools.counting import read_units, write_units
    from devtools.story_writes import breakdown as story_writes

    mix = mix or poll_mix()
    hubs = hubs or measure_hub_share()

    memory = function_memory()
    fetch_mb = memory.get("FetchFeedsFunction", 512)
    process_mb = memory.get("ProcessArticlesFunction", 512)
    api_mb = memory.get("ApiFunction", 512)
    prices_mb = memory.get("FetchPricesFunction", 256)
    dispatch_mb = memory.get("DispatchSourcesFunction", 256)
    callback_mb = memory.get("WebSubCallbackFunction", 256)

    entries_new = max(1, facts["process-new"])
    io_per_poll = feed_wait_per_poll(a)

    # Per poll: the rounds poll every healthy sample source once in one invocation.
    poll_304 = _unit(counts, "fetch-304", max(1, facts["fetch-304"]["not_modified"]), fetch_mb, io_wait_s=io_per_poll)
    polled_same = facts["fetch-200-same"]["not_modified"] + facts["fetch-200-same"]["ok"]
    poll_same = _unit(counts, "fetch-200-same", max(1, polled_same), fetch_mb, io_wait_s=io_per_poll)
    poll_changed = _unit(
        counts, "fetch-200-changed", max(1, facts["fetch-200-changed"]["ok"]), fetch_mb, io_wait_s=io_per_poll
    )
    # The run polls every sample source in one invocation; a worker invocation polls a batch of
    # `sources_per_fetch_invocation`. Its log bytes (one summary line and the platform's lines;
    # a healthy source logs nothing) are per invocation, so they are spread over that batch.
    for unit, phase in ((poll_304, "fetch-304"), (poll_same, "fetch-200-same"), (poll_changed, "fetch-200-changed")):
        s = counts.summary(phase)
        per_invocation = (s["log_bytes"] + LAMBDA_PLATFORM_LOG_BYTES * s["invocations"]) / max(1, s["invocations"])
        unit.log_bytes = per_invocation / a.sources_per_fetch_invocation
    # Queueing one new entry: a poll finds one new entry at a time, so one SendMessageBatch each.
    queue_entry = Unit(sqs_requests=1.0)
    entry_new = _processor_unit(counts, entries_new, process_mb)
    entry_new.sqs_requests += 2 / 10  # the SQS event source's receive and delete, per batch of 10
    price_run = _unit(counts, "prices", 1, prices_mb)
    # A hub's delivery of one new entry: the callback's invocation, its reads and writes and the
    # entry's SendMessage (what `queue_entry` is for a polled entry), plus an API Gateway request.
    delivery = _unit(counts, "websub-delivery", max(1, facts.get("websub-delivery", 0)), callback_mb)
    feed_request = _unit(counts, "api-feeds", counts.invocations["api-feeds"], api_mb)
    # A state as it is after its feed has churned, feed by feed of the corpus: the largest
    # measured without its digests, plus the digests that feed's state keeps then. The Query
    # reads their mean size; a write costs each its own units (a feed of 50+ entries keeps 100+
    # digests: over 1 KB, two units).
    doc_bytes = max(facts["state_doc_bytes"] or [600])
    sizes = state_sizes(doc_bytes, mix.seen_digests)
    state_bytes = round(sum(sizes) / len(sizes))
    state_write = Unit(write_units=sum(write_units({"x": {"S": "x" * (size - 1)}}) for size in sizes) / len(sizes))
    state_read = read_units(max(sizes), consistent=False)

    print("Measured in one local run (per unit; Lambda GB-s at this template's memory sizes):", file=out)
    rows = [
        ("poll answered 304", poll_304),
        ("poll 200, same body", poll_same),
        ("poll 200, changed document", poll_changed),
        ("entry processed, new", entry_new),
        ("price refresh", price_run),
        ("feed request (API)", feed_request),
        ("hub delivery (WebSub callback)", delivery),
    ]
    print(f"  {'':32}{'GB-s':>9}{'RRU':>8}{'WRU':>8}{'SQS req':>9}{'log B':>8}", file=out)
    for label, u in rows:
        print(
            f"  {label:32}{u.gb_seconds:>9.4f}{u.read_units:>8.2f}{u.write_units:>8.2f}"
            f"{u.sqs_requests:>9.3f}{u.log_bytes:>8.0f}",
            file=out,
        )
    queued_again = facts["process-same"]
    print(
        f"  entries queued again by the 304 / same-body / changed-document rounds: {queued_again}; "
        f"source state item: {state_bytes} B on average ({doc_bytes} B measured without its digests + "
        f"{min(mix.seen_digests, default=0)}-{max(mix.seen_digests, default=0)} digests of 8 B, the corpus's "
        f"feeds after churn) ({state_write.write_units:.2f} WRU a write on average, "
        f"{state_read:g} RRU an eventually consistent read)",
        file=out,
    )
    print("  a new entry's write units by item family (python -m devtools.story_writes):", file=out)
    table = io.StringIO()
    results: dict[str, dict[str, float]] = {"story_writes": story_writes(counts, entries_new, table)}
    for line in table.getvalue().splitlines()[1:]:
        print(f"  {line}", file=out)
    print(
        f"  stored: {facts['articles']} stories in {facts['table_bytes'] / 1024:.0f} KB of items "
        f"({facts['table_bytes'] / max(1, facts['articles']) / 1024:.1f} KB a story, all its items)",
        file=out,
    )

    custom_metrics = _custom_metric_count(counts)
    alarms = alarm_metrics()
    fixed = custom_metrics * PRICES["custom_metric"] + alarms * PRICES["alarm_metric"]
    secret_count = secrets()
    secret_fee = secret_count * PRICES["secret"]
    print(
        f"\nPolls: each feed's rhythm, {mix.polls_per_day:.1f} polls a source a day (the default interval alone: "
        f"{mix.default_polls_per_day:.1f}; every 5 minutes: 288) in the corpus's mix of {mix.description}, "
        "simulated on its publication times (python -m devtools.freshness):",
        file=out,
    )
    for line in mix.table.splitlines():
        print(f"  {line}", file=out)
    print(
        f"Assumed: {a.new_entries_per_source_day:g} new entries per source a day, each found by its own poll "
        "(or delivered, for a pushed source); "
        f"{a.share_ignoring_validators:.0%} of sources ignore validators (200 with the same body) and "
        f"{a.share_changing_document:.0%} change their document on every poll without a new entry (a "
        "timestamp in the feed); a healthy source's state written once every "
        f"{health_refresh() / timedelta(hours=1):g} h at most (last_success, `HEALTH_REFRESH`); no "
        f"failing sources; {a.feed_latency_s * 1000:.0f} ms per feed request, every feed alike (a batch waits "
        "for its slowest source: spread latencies bill more), at concurrency "
        f"{a.fetch_concurrency} (template.yaml); {a.sources_per_fetch_invocation} sources per fetch invocation "
        f"({a.fetch_messages_per_invocation} message a batch of {a.sources_per_fetch_message} sources; a tick's "
        f"last message partly filled), so {feed_wait_per_poll(a) * 1000:.1f} ms of waiting billed a poll; the "
        "dispatcher "
        f"(not in the measured run) Queries the registry (~{a.registry_bytes_per_source} B a source) and every "
        f"state ({state_bytes} B a source on average, with its digests after churn) each tick, "
        f"{a.dispatch_seconds:g} s at "
        f"{dispatch_mb} MB; Lambda's SQS pollers make "
        f"{a.idle_sqs_requests_per_queue / 1e3:.0f} k empty receives a month on each of the 2 queues; "
        f"{a.feed_requests / 1e6:g} M feed requests a month. Prices: us-east-1 on-demand, {PRICES_DATE}; "
        "no free tier subtracted.",
        file=out,
    )
    print(
        f"Fixed: {custom_metrics} custom metrics × $0.30 + {alarms} alarm metrics × $0.10 = ${fixed:.2f}/month "
        f"(CW); {secret_count} Secrets Manager secret × $0.40 = ${secret_fee:.2f}/month (SM)",
        file=out,
    )
    header = (
        f"\n{'sources':>8} {'design':<30}{'Lambda':>9}{'DynamoDB':>9}{'SQS':>8}{'Logs':>7}{'API':>8}{'CW':>6}{'SM':>6}"
        f"{'total':>9}{'free tier':>10}"
    )
    print(header, file=out)
    capacity_rows: list[str] = []
    websub_rows: list[str] = []
    for sources in (100, 1_000, 10_000):
        # The fan-out (`dispatcher_month`: the dispatcher's ticks, the fetch queue and the pollers)
        # and the pipeline at this scale's volumes.
        def month(v: Volumes, sources: int = sources) -> tuple[Unit, Unit, Unit]:
            dispatcher = dispatcher_month(sources, v.polls, a, state_bytes=state_bytes, dispatch_mb=dispatch_mb)
            # Fetch invocations: a batch of sources each, not the run's one invocation for all samples.
            invocations = fetch_messages(v.polls, a) / a.fetch_messages_per_invocation
            fix = Unit(invocations=invocations - v.polls * poll_304.invocations)
            pipeline = (
                poll_304.scaled(v.polls_304)
                + poll_same.scaled(v.polls_same)
                + poll_changed.scaled(v.polls_changed + v.polls_new)
                + queue_entry.scaled(v.polled_entries)
                + delivery.scaled(v.pushed_entries)
                + entry_new.scaled(v.polled_entries + v.pushed_entries)
                + state_write.scaled(v.health_writes)
                + price_run.scaled(ROUNDS_PER_MONTH)
                + dispatcher
                + fix
            )
            return pipeline, dispatcher, fix

        vol = volumes(sources, mix, a, hubs.share)
        pipeline, dispatcher, invocations_fix = month(vol)
        # Every delivery is a request to the API stage (hubs call it directly, never the CDN).
        deliveries_fee = vol.pushed_entries * PRICES["apigw_rest_request"]
        unpushed = volumes(sources, mix, a, 0.0)
        without_push = sum(dollars(month(unpushed)[0]).values())
        with_push = sum(dollars(pipeline).values()) + deliveries_fee
        results[f"{sources}:websub"] = {
            "hub_share": hubs.share,
            "polls": vol.polls,
            "polls_without_push": unpushed.polls,
            "deliveries": vol.pushed_entries,
            "pipeline": with_push,
            "pipeline_without_push": without_push,
            "saving": without_push - with_push,
        }
        websub_rows.append(
            f"  {sources:>8}{unpushed.polls:>16,.0f}{vol.polls:>14,.0f}{vol.pushed_entries:>12,.0f}"
            f"{without_push:>11.2f}{with_push:>11.2f}{without_push - with_push:>9.2f}"
        )
        api_lambda = feed_request.scaled(a.feed_requests)
        api_rest = a.feed_requests * PRICES["apigw_rest_request"]
        origin = 1 - a.cloudfront_hit_ratio
        api_cdn = (
            a.feed_requests * PRICES["cloudfront_https_request"]
            + origin * a.feed_requests * (PRICES["apigw_rest_request"])
        )
        capacity_rows.append(_capacity(sources, pipeline + api_lambda.scaled(origin), dispatcher, a, results))
        provisioned = results[f"{sources}:capacity"]
        for design, base, api_unit, api_fee, cdn in (
            ("as built, REST API direct", pipeline, api_lambda, api_rest, 0.0),
            ("as built + CloudFront", pipeline, api_lambda.scaled(origin), api_cdn, a.feed_requests),
            ("+ CDN, provisioned table", pipeline, api_lambda.scaled(origin), api_cdn, a.feed_requests),
        ):
            total_unit = base + api_unit
            cost = dollars(total_unit)
            cost["API"] = api_fee + deliveries_fee
            cost["CW"] = fixed
            cost["SM"] = secret_fee
            free = free_tier_total(total_unit, cost, custom_metrics, alarms, cdn)
            if design == "+ CDN, provisioned table":
                # Sized with burst credit (devtools.capacity); its auto scaling alarms included.
                free += provisioned["provisioned, burst credit after free tier"] - cost["DynamoDB"]
                cost["DynamoDB"] = provisioned["provisioned, burst credit"]
            total = sum(cost.values())
            results[f"{sources}:{design}"] = {**cost, "total": total, "total_after_free_tier": free}
            print(
                f"{sources:>8} {design:<30}{cost['Lambda']:>9.2f}{cost['DynamoDB']:>9.2f}{cost['SQS']:>8.2f}"
                f"{cost['Logs']:>7.2f}{cost['API']:>8.2f}{cost['CW']:>6.2f}{cost['SM']:>6.2f}{total:>9.2f}{free:>10.2f}",
                file=out,
            )
        if sources == 1_000:
            results["1000:breakdown"] = _breakdown(
                {
                    "polls answered 304": poll_304.scaled(vol.polls_304),
                    "polls 200 same body": poll_same.scaled(vol.polls_same),
                    "polls 200 parsed (new entry or changed document)": poll_changed.scaled(
                        vol.polls_changed + vol.polls_new
                    ),
                    "queueing and processing new entries": queue_entry.scaled(vol.polled_entries)
                    + entry_new.scaled(vol.polled_entries + vol.pushed_entries),
                    "hub deliveries (WebSub callback)": delivery.scaled(vol.pushed_entries),
                    "health refresh writes": state_write.scaled(vol.health_writes),
                    "dispatcher and fetch queue": dispatcher + invocations_fix,
                    "prices": price_run.scaled(ROUNDS_PER_MONTH),
                }
            )
    safety_h = 24 / safety_net_polls_per_day()
    print(
        f"\nPushed sources (WebSub): {len(hubs.pushed)} of {hubs.feeds} corpus feeds name a usable hub "
        f"({hubs.share:.1%}; {', '.join(n.split('/')[-1] for n in hubs.pushed)}; "
        f"{len(hubs.refused)} hub links refused, e.g. CoinDesk's href=\"true\"), measured by the fetcher's "
        f"discovery (python -m devtools.hub_share). That share is polled every {safety_h:g} h (the safety net) "
        "instead of its rhythm, and its new entries arrive by hub delivery (measured above) instead of a poll. "
        "The pipeline before API, CloudWatch and the secret ($/month):",
        file=out,
    )
    print(
        f"  {'sources':>8}{'polls, no push':>16}{'polls':>14}{'deliveries':>12}{'no push':>11}{'pushed':>11}"
        f"{'saving':>9}",
        file=out,
    )
    for row in websub_rows:
        print(row, file=out)
    print(
        "\nThe table's capacity mode (DynamoDB throughput only, as built + CloudFront; devtools/capacity.py). "
        f"A tick's state reads in {a.dispatch_seconds:g} s, its other reads and writes in {a.tick_work_seconds:g} s; "
        f"provisioned adds {2 * ALARMS_PER_DIMENSION} auto scaling alarms "
        f"(${2 * ALARMS_PER_DIMENSION * PRICES['alarm_metric']:.2f}); the always-free tier covers 25 RCU + 25 WCU:",
        file=out,
    )
    print(
        f"  {'sources':>8}{'on demand':>11}{'peak RCU/WCU':>14}{'$':>8}{'free tier':>11}"
        f"{'burst-credit RCU/WCU':>22}{'$':>8}{'free tier':>11}  cheapest",
        file=out,
    )
    for row in capacity_rows:
        print(row, file=out)
    print("\nWhere the 1,000-source pipeline's money goes (before API, CloudWatch and the secret):", file=out)
    for label, amount in sorted(results["1000:breakdown"].items(), key=lambda kv: -kv[1]):
        print(f"  {label:<50}${amount:>7.2f}", file=out)
    idle_dispatcher = dispatcher_month(0, 0.0, a, state_bytes=state_bytes, dispatch_mb=dispatch_mb)
    results["idle"] = _idle(idle_dispatcher, price_run, alarms=alarms, secret_fee=secret_fee, out=out)
    _print_inputs(out)
    storage_gb = facts["table_bytes"] / max(1, facts["articles"]) * 1_000 * a.new_entries_per_source_day * 365 / 1e9
    print(
        f"\nStorage (not in the table): a year of 1,000 sources' stories is ~{storage_gb:.1f} GB of items "
        f"(${storage_gb * PRICES['dynamodb_storage_gb']:.2f}/month; the first 25 GB are free). X-Ray with "
        f"TracingMode=Active records up to one trace per request: ~${a.feed_requests * PRICES['xray_trace']:.2f}/month "
        "at 1 M requests, hence PassThrough in prod.",
        file=out,
    )
    return results


def _capacity(sources: int, total: Unit, dispatcher: Unit, a: Assumptions, results: dict[str, dict[str, float]]) -> str:
    """On demand against provisioned for one scale; records the figures in `results`."""
    from devtools.capacity import ALARMS_PER_DIMENSION, TickLoad, size_for_peak, size_with_burst_credit

    dispatch_reads = dispatcher.read_units / ROUNDS_PER_MONTH
    tick = TickLoad(
        dispatch_read_units=dispatch_reads,
        dispatch_seconds=a.dispatch_seconds,
        read_units=total.read_units / ROUNDS_PER_MONTH - dispatch_reads,
        write_units=total.write_units / ROUNDS_PER_MONTH,
        work_seconds=a.tick_work_seconds,
    )
    on_demand = total.read_units * PRICES["dynamodb_read_unit"] + total.write_units * PRICES["dynamodb_write_unit"]
    alarms = 2 * ALARMS_PER_DIMENSION * PRICES["alarm_metric"]
    peak, credit = size_for_peak(tick), size_with_burst_credit(tick)
    options = {
        "on demand": on_demand,
        "provisioned, peak": peak.monthly() + alarms,
        "provisioned, burst credit": credit.monthly() + alarms,
    }
    free = {
        "on demand": on_demand,
        "provisioned, peak": peak.monthly(free_tier=True) + alarms,
        "provisioned, burst credit": credit.monthly(free_tier=True) + alarms,
    }
    results[f"{sources}:capacity"] = {
        **{k: round(v, 4) for k, v in options.items()},
        **{f"{k} after free tier": round(v, 4) for k, v in free.items()},
        "peak_rcu": peak.rcu,
        "peak_wcu": peak.wcu,
        "credit_rcu": credit.rcu,
        "credit_wcu": credit.wcu,
    }
    cheapest = min(free, key=free.__getitem__)
    return (
        f"  {sources:>8}{on_demand:>11.2f}{f'{peak.rcu}/{peak.wcu}':>14}{options['provisioned, peak']:>8.2f}"
        f"{free['provisioned, peak']:>11.2f}{f'{credit.rcu}/{credit.wcu}':>22}"
        f"{options['provisioned, burst credit']:>8.2f}{free['provisioned, burst credit']:>11.2f}  {cheapest}"
    )


# Custom metrics still published by a stack with no sources and no requests: the price refresh's
# age. The fetch worker runs only for due sources and the processor only for entries, and
# CloudWatch meters a custom metric only in the hours it receives data ("charges are prorated
# by the hour and metered only when you send metrics to CloudWatch", Amazon CloudWatch pricing).
IDLE_METRICS = ("PriceAgeSeconds",)


def dispatcher_month(sources: int, polls: float, a: Assumptions, *, state_bytes: int, dispatch_mb: int) -> Unit:
    """A month of the dispatcher's ticks and the fetch queue: each tick Queries the registry and
    the states' partition (billed by their total size: `state_bytes` a source), reads the clock
    (strongly consistent) and the seed marker, writes the
    clock, and sends one SendMessageBatch per 10 fetch messages (`fetch_messages`: up to
    `sources_per_fetch_message` due sources each); the queue's receives and deletes (at most 10
    messages a call, `sqs_batches`) and both queues' idle pollers."""
    from devtools.counting import read_units

    messages = fetch_messages(polls, a)
    return Unit(
        invocations=ROUNDS_PER_MONTH,
        gb_seconds=ROUNDS_PER_MONTH * a.dispatch_seconds * dispatch_mb / 1024,
        read_units=ROUNDS_PER_MONTH
        * (
            read_units(sources * state_bytes, consistent=False)
            + read_units(sources * a.registry_bytes_per_source, consistent=False)
            + 1  # the clock, strongly consistent
            + 0.5  # the sources file's seed marker
        ),
        write_units=ROUNDS_PER_MONTH,
        sqs_requests=messages / 10
        + 2 * sqs_batches(messages, a.fetch_messages_per_invocation)
        + 2 * a.idle_sqs_requests_per_queue,
        log_bytes=ROUNDS_PER_MONTH * LAMBDA_PLATFORM_LOG_BYTES,
    )


def _idle(dispatcher: Unit, price_run: Unit, *, alarms: int, secret_fee: float, out: TextIO) -> dict[str, float]:
    """A deployed stack with no sources and no feed requests: the schedules still tick (the
    dispatcher finds nothing due, prices refresh), the SQS event sources still poll both queues,
    the alarms exist, and a provisioned table keeps its minimum capacity."""
    from devtools.capacity import ALARMS_PER_DIMENSION, TEMPLATE_MIN_CAPACITY, Provisioned

    custom_metrics_idle = len(IDLE_METRICS)
    cost = dollars(dispatcher + price_run.scaled(ROUNDS_PER_MONTH))
    cost["CW"] = custom_metrics_idle * PRICES["custom_metric"] + alarms * PRICES["alarm_metric"]
    cost["SM"] = secret_fee
    on_demand = sum(cost.values())
    minimum = Provisioned(TEMPLATE_MIN_CAPACITY, TEMPLATE_MIN_CAPACITY)
    provisioned = on_demand - cost["DynamoDB"] + minimum.monthly() + 2 * ALARMS_PER_DIMENSION * PRICES["alarm_metric"]
    parts = ", ".join(f"{k} {v:.2f}" for k, v in cost.items())
    print(
        f"\nIdle: a deployed stack with no sources and no requests costs ${on_demand:.2f}/month on demand "
        f"({parts}: the dispatcher's and the price refresh's {ROUNDS_PER_MONTH:,} ticks, both queues' "
        f"pollers, {custom_metrics_idle} custom metric still published, {alarms} alarm metrics"
        f"{' and the secrets' if cost['SM'] else ''}), "
        f"${provisioned:.2f} with a provisioned table at the template's minimum "
        f"{minimum.rcu} RCU / {minimum.wcu} WCU and its {2 * ALARMS_PER_DIMENSION} auto scaling alarms.",
        file=out,
    )
    return {**{k: round(v, 4) for k, v in cost.items()}, "on_demand": on_demand, "provisioned": provisioned}


# What each line of the bill is made of: measured by the local run (or `make bench`, or the corpus),
# and assumed (the `Assumptions` fields and constants above, printed with their values earlier).
BILL_INPUTS = (
    (
        "Lambda",
        "invocations and wall time per poll, feed request, price refresh and hub delivery (local run); "
        "processor CPU per message (make bench, PROCESSOR_MS_PER_MESSAGE); polls a day per class "
        "(corpus publication times)",
        "feed latency; 1 s dispatcher tick; 8 ms a DynamoDB call; arm64 (the fetch batch and "
        "concurrency are template.yaml's)",
    ),
    (
        "DynamoDB",
        "read and write units per poll, entry, request, refresh and delivery (local run, every call "
        "counted); the state item's size",
        "new entries per source a day; validator-ignoring and changing-document shares; health refresh "
        "writes; 500 B registry items; a tick's burst in 1 s (state reads) and 60 s (the rest)",
    ),
    (
        "SQS",
        "requests per entry and per delivery (local run)",
        "a tick's due sources in fetch messages of FETCH_SOURCES_PER_MESSAGE (template.yaml), the last one "
        "partly filled; a batch received and deleted 10 messages a call at most; 5 pollers per queue "
        "long-polling 20 s when idle",
    ),
    ("Logs", "bytes per invocation (local run)", "350 B of platform lines per invocation"),
    ("API", "the API function's time per feed request (local run)", "1 M requests a month; 95% CDN hit ratio"),
    (
        "CloudWatch",
        "custom metrics the run's handlers published; alarm metrics in template.yaml",
        "DetailedMetrics off (the default)",
    ),
    (
        "SM",
        "nothing: the secrets are counted in template.yaml (none since the cursor key is a table item)",
        "GetSecretValue calls left out; the cursor key's GetItem (one per API cold start) too",
    ),
)


def _print_inputs(out: TextIO) -> None:
    print("\nWhat each line of the bill rests on:", file=out)
    for line, measured, assumed in BILL_INPUTS:
        print(f"  {line:<11} measured: {measured}", file=out)
        print(f"  {'':<11} assumed:  {assumed}", file=out)


def _breakdown(parts: dict[str, Unit]) -> dict[str, float]:
    return {label: sum(dollars(u).values()) for label, u in parts.items()}


def free_tier_total(
    u: Unit, cost: dict[str, float], custom_metrics: int, alarms: int, cdn_requests: float = 0.0
) -> float:
    """The month's bill after AWS's always-free tier: 1 M Lambda requests and 400,000 GB-s, 1 M
    SQS requests, 5 GB of log ingestion, 10 custom metrics and 10 alarm metrics, 10 M CloudFront
    requests (DynamoDB on-demand requests and API Gateway have no always-free allowance)."""
    lambda_cost = (
        max(0.0, u.invocations - 1e6) * PRICES["lambda_request"]
        + max(0.0, u.gb_seconds - 400_000) * PRICES["lambda_gb_second_arm64"]
    )
    sqs_cost = max(0.0, u.sqs_requests - 1e6) * PRICES["sqs_request"]
    logs_cost = max(0.0, u.log_bytes / 1e9 - 5) * PRICES["logs_ingest_gb"]
    cw = max(0, custom_metrics - 10) * PRICES["custom_metric"] + max(0, alarms - 10) * PRICES["alarm_metric"]
    cdn_free = min(cdn_requests, 10e6) * PRICES["cloudfront_https_request"]
    return lambda_cost + cost["DynamoDB"] + sqs_cost + logs_cost + cost["API"] - cdn_free + cw + cost.get("SM", 0.0)


def _custom_metric_count(counts: Counts) -> int:
    """Distinct (metric, dimensions) pairs the handlers emitted: each is a billed custom metric."""
    return len(counts.metric_names) if counts.metric_names else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--show-logs", action="store_true", help="echo the handlers' log lines to stderr")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--new-per-day", type=float, default=Assumptions.new_entries_per_source_day)
    parser.add_argument("--no-validators", type=float, default=Assumptions.share_ignoring_validators)
    args = parser.parse_args(argv)
    counts, facts = measure(sys.stderr if args.show_logs else None)
    assumptions = Assumptions(new_entries_per_source_day=args.new_per_day, share_ignoring_validators=args.no_validators)
    # The corpus's poll mix and hub share, measured once for both pricings.
    mix, hubs = poll_mix(), measure_hub_share()
    results = model(counts, facts, assumptions, sys.stdout, mix=mix, hubs=hubs)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True))
    spread_assumptions = replace(assumptions, slowest_of_batch=True)
    spread = model(counts, facts, spread_assumptions, io.StringIO(), mix=mix, hubs=hubs)
    key = "+ CDN, provisioned table"
    print(
        f"If feed latencies spread exponentially around {assumptions.feed_latency_s * 1000:.0f} ms, a fetch batch "
        f"waits for its slowest source ({feed_wait_per_poll(spread_assumptions) * 1000:.0f} "
        f"ms billed a poll instead of {feed_wait_per_poll(assumptions) * 1000:.0f}): {key}, 1,000 sources "
        f"${spread[f'1000:{key}']['total']:.2f}, 10,000 sources ${spread[f'10000:{key}']['total']:.2f} "
        "(no feed latencies were measured here)"
    )
    for design in ("as built, REST API direct", "as built + CloudFront", "+ CDN, provisioned table"):
        total = results.get(f"1000:{design}", {}).get("total", math.inf)
        free = results.get(f"1000:{design}", {}).get("total_after_free_tier", math.inf)
        print(
            f"1,000 sources on their rhythm + 1 M feed requests, {design}: ${total:.2f}/month "
            f"(${free:.2f} within the always-free tier; target $5)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

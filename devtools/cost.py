"""`make cost`: the monthly bill, from what one local run of the real handlers measures.

The run (moto in server mode, the sample feeds, the handlers imported as Lambda imports them)
goes through every billed path once, counted by `devtools.counting`:

  fetch-new        a fetch round whose feeds answer 200 with entries (queued)
  process-new      the processor storing those entries
  fetch-304        the next round: every feed answers 304 Not Modified
  fetch-200-same   a round against feeds that ignore validators: 200, the same entries again
  process-same     the processor seeing those entries again (exact duplicates)
  prices           one price refresh
  api-feeds        the three feed formats, served by the API function

Per-unit figures (per poll, per entry, per request) are then scaled to N sources polled every
5 minutes (8,640 rounds a month) and 1 M feed requests a month, for the design as built and for
the changes that would bring it under budget. What is measured and what is assumed is printed.
Prices are us-east-1 on-demand list prices (see PRICES); no free tier is subtracted except where
a line says so.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "shared"))
sys.path.insert(0, str(ROOT))

from devtools.counting import Counts, install, item_size  # noqa: E402

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
}
ROUNDS_PER_MONTH = 30 * 24 * 12  # every 5 minutes
SECONDS_PER_MONTH = 30 * 24 * 3600
LAMBDA_PLATFORM_LOG_BYTES = 350  # START, END and REPORT lines per invocation
FULL_VCPU_MB = 1769  # Lambda gives one full vCPU at 1,769 MB, a proportional share below


@dataclass(frozen=True)
class Assumptions:
    # A mix of big outlets (30-50 a day) and blogs (1-3 a day); `--new-per-day` changes it.
    new_entries_per_source_day: float = 5.0
    entries_per_feed: float = 20.0  # entries in one feed document
    share_ignoring_validators: float = 0.2  # sources that answer 200 with the same feed every time
    feed_latency_s: float = 0.3  # one real feed request over the internet (TLS, server time)
    fetch_concurrency: int = 16
    sources_per_fetch_invocation: int = 10  # the fan-out worker's SQS batch of sources
    feed_requests: float = 1_000_000
    cloudfront_hit_ratio: float = 0.95  # feeds cached 60 s at the edge


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
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    from devtools.lambda_local import FakeLambdaContext, load_event, load_handler_module, sqs_event
    from devtools.sample_server import SampleServer
    from devtools.template import create_resources

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
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
        },
    )
    counts = Counts()
    real_stdout = sys.stdout
    sys.stdout = counts.log_stream(echo_logs)  # before the handlers import: Logger keeps its stream
    uninstall = install(counts)
    facts: dict[str, Any] = {}
    try:
        from newsroom import runtime

        runtime.reset()
        fetch = load_handler_module("fetch_feeds")
        process = load_handler_module("process_articles")
        prices = load_handler_module("fetch_prices")
        api = load_handler_module("api")

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
        with counts.during("fetch-304"):
            facts["fetch-304"] = call(fetch, schedule, "FetchFeedsFunction")
        # Forget every source's validators: the feeds now look like servers that ignore them.
        states = dynamodb.scan(
            TableName=resources.table_name,
            FilterExpression="begins_with(PK, :p)",
            ExpressionAttributeValues={":p": {"S": "SOURCE#"}},
        )["Items"]
        for item in states:
            dynamodb.delete_item(TableName=resources.table_name, Key={"PK": item["PK"], "SK": item["SK"]})
        with counts.during("fetch-200-same"):
            facts["fetch-200-same"] = call(fetch, schedule, "FetchFeedsFunction")
        with counts.during("process-same"):
            facts["process-same"] = drain()
        with counts.during("prices"):
            call(prices, load_event("fetch_prices_schedule"), "FetchPricesFunction")
        with counts.during("api-feeds"):
            for _ in range(5):
                for name in ("api_get_feed_rss", "api_get_feed_atom", "api_get_feed_json"):
                    response = call(api, load_event(name), "ApiFunction")
                    facts.setdefault("api-status", Counter())[response["statusCode"]] += 1
        stored = dynamodb.scan(TableName=resources.table_name)["Items"]
        facts["table_bytes"] = sum(item_size(i) for i in stored)
        facts["articles"] = sum(1 for i in stored if i["PK"]["S"].startswith("ART#"))
        facts["write_ratio_small_items"] = _small_item_ratio(stored)
    finally:
        uninstall()
        sys.stdout = real_stdout
        samples.stop()
        moto.stop()
    return counts, facts


def _small_item_ratio(items: list[dict[str, Any]]) -> float:
    """Write units of a story as stored now (one transaction: every item counted twice) against the
    same story written plainly with its document gzip-compressed and the listing entries as they are.
    Measured on the stored stories; used for the "small items" design line."""
    import gzip

    now_units = 0
    small_units = 0
    for item in items:
        key = item["PK"]["S"]
        size = item_size(item)
        if key.startswith("ART#"):
            doc = item["doc"]["S"].encode()
            small = size - len(doc) + len(gzip.compress(doc, 6))
        elif key.startswith(("LIST#", "GUID#")):
            small = size
        else:
            continue
        now_units += 2 * max(1, math.ceil(size / 1024))
        small_units += max(1, math.ceil(small / 1024))
    return small_units / now_units if now_units else 1.0


# -- the model -----------------------------------------------------------------------------------------


def function_memory() -> dict[str, int]:
    from devtools.artifact import functions, load_template

    template = load_template(ROOT / "template.yaml")
    default = int(template["Globals"]["Function"].get("MemorySize", 128))
    return {name: int(props.get("MemorySize", default)) for name, props in functions(template).items()}


def alarm_metrics() -> int:
    from devtools.artifact import load_template

    total = 0
    for resource in load_template(ROOT / "template.yaml")["Resources"].values():
        if resource.get("Type") == "AWS::CloudWatch::Alarm":
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


def dollars(u: Unit) -> dict[str, float]:
    return {
        "Lambda": u.invocations * PRICES["lambda_request"] + u.gb_seconds * PRICES["lambda_gb_second_arm64"],
        "DynamoDB": u.read_units * PRICES["dynamodb_read_unit"] + u.write_units * PRICES["dynamodb_write_unit"],
        "SQS": u.sqs_requests * PRICES["sqs_request"],
        "Logs": u.log_bytes / 1e9 * PRICES["logs_ingest_gb"],
    }


def model(counts: Counts, facts: dict[str, Any], a: Assumptions, out: TextIO) -> dict[str, dict[str, float]]:
    memory = function_memory()
    fetch_mb = memory.get("FetchFeedsFunction", 512)
    process_mb = memory.get("ProcessArticlesFunction", 512)
    api_mb = memory.get("ApiFunction", 512)
    prices_mb = memory.get("FetchPricesFunction", 256)

    new = facts["fetch-new"]
    ok_sources = max(1, new["ok"])
    entries_new = max(1, facts["process-new"])
    entries_same = max(1, facts["process-same"])
    per_feed_entries = new["entries"] / ok_sources  # measured entries per sample feed document
    io_per_poll = a.feed_latency_s / a.fetch_concurrency

    poll_304 = _unit(counts, "fetch-304", max(1, facts["fetch-304"]["not_modified"]), fetch_mb, io_wait_s=io_per_poll)
    poll_200 = _unit(counts, "fetch-200-same", ok_sources, fetch_mb, io_wait_s=io_per_poll)
    # A 200 poll's queueing part grows with the feed's size: scale the SQS share to `entries_per_feed`.
    poll_200.sqs_requests *= a.entries_per_feed / max(1.0, per_feed_entries)
    entry_new = _unit(counts, "process-new", entries_new, process_mb)
    entry_same = _unit(counts, "process-same", entries_same, process_mb)
    # The SQS event source's receives and deletes: one each per batch of 10.
    for entry in (entry_new, entry_same):
        entry.sqs_requests += 2 / 10
    price_run = _unit(counts, "prices", 1, prices_mb)
    feed_request = _unit(counts, "api-feeds", counts.invocations["api-feeds"], api_mb)

    print("Measured in one local run (per unit; Lambda GB-s at this template's memory sizes):", file=out)
    rows = [
        ("poll answered 304", poll_304),
        ("poll answered 200 (same feed)", poll_200),
        ("entry processed, new", entry_new),
        ("entry processed, duplicate", entry_same),
        ("price refresh", price_run),
        ("feed request (API)", feed_request),
    ]
    print(f"  {'':32}{'GB-s':>9}{'RRU':>8}{'WRU':>8}{'SQS req':>9}{'log B':>8}", file=out)
    for label, u in rows:
        print(
            f"  {label:32}{u.gb_seconds:>9.4f}{u.read_units:>8.2f}{u.write_units:>8.2f}"
            f"{u.sqs_requests:>9.3f}{u.log_bytes:>8.0f}",
            file=out,
        )
    print(
        f"  stored: {facts['articles']} stories in {facts['table_bytes'] / 1024:.0f} KB of items "
        f"({facts['table_bytes'] / max(1, facts['articles']) / 1024:.1f} KB a story, all its items)",
        file=out,
    )

    custom_metrics = _custom_metric_count(counts)
    alarms = alarm_metrics()
    fixed = custom_metrics * PRICES["custom_metric"] + alarms * PRICES["alarm_metric"]
    results: dict[str, dict[str, float]] = {}
    print(
        f"\nAssumed: {a.new_entries_per_source_day:g} new entries per source a day, {a.entries_per_feed:g} entries "
        f"per feed, {a.share_ignoring_validators:.0%} of sources ignore validators (200 every poll), "
        f"{a.feed_latency_s * 1000:.0f} ms per feed request at concurrency {a.fetch_concurrency}, "
        f"{a.sources_per_fetch_invocation} sources per fetch invocation, {a.feed_requests / 1e6:g} M feed requests "
        f"a month. Prices: us-east-1 on-demand, {PRICES_DATE}; no free tier subtracted.",
        file=out,
    )
    print(
        f"Fixed: {custom_metrics} custom metrics × $0.30 + {alarms} alarm metrics × $0.10 = ${fixed:.2f}/month",
        file=out,
    )
    header = (
        f"\n{'sources':>8} {'design':<30}{'Lambda':>9}{'DynamoDB':>9}{'SQS':>8}{'Logs':>7}{'API':>8}{'CW':>6}"
        f"{'total':>9}{'free tier':>10}"
    )
    print(header, file=out)
    for sources in (100, 1_000, 10_000):
        polls = sources * ROUNDS_PER_MONTH
        new_entries = sources * a.new_entries_per_source_day * 30
        polls_new = min(polls, new_entries)
        rest = polls - polls_new
        polls_200_same = a.share_ignoring_validators * rest
        polls_304 = rest - polls_200_same
        prices_month = price_run.scaled(ROUNDS_PER_MONTH)
        invocations_fix = Unit(invocations=polls / a.sources_per_fetch_invocation - polls * poll_304.invocations)

        # As built: a 304 writes the source's state; any 200 queues every entry of the feed.
        queued = (polls_new + polls_200_same) * a.entries_per_feed
        built = (
            poll_304.scaled(polls_304)
            + poll_200.scaled(polls_new + polls_200_same)
            + entry_new.scaled(new_entries)
            + entry_same.scaled(queued - new_entries)
            + prices_month
            + invocations_fix
        )
        # What it would take: no write on a 304 (state written only when it changes), entries
        # queued only when new or changed (the source state remembers recent entry keys and the
        # body's hash, so a same-body 200 is treated like a 304).
        lean_304 = Unit(
            invocations=poll_304.invocations, gb_seconds=poll_304.gb_seconds, read_units=poll_304.read_units
        )
        lean_200 = poll_200.scaled(1)
        lean_200.sqs_requests = poll_200.sqs_requests / a.entries_per_feed  # one new entry per such poll
        lean = (
            lean_304.scaled(polls_304 + polls_200_same)
            + lean_200.scaled(polls_new)
            + entry_new.scaled(new_entries)
            + prices_month
            + invocations_fix
        )
        # ...and small items: the story document gzip-compressed, written without a transaction
        # (a conditional put, then the listing entries), so a write unit is not paid twice.
        small_entry = entry_new.scaled(1)
        small_entry.write_units *= facts["write_ratio_small_items"]
        small = (
            lean_304.scaled(polls_304 + polls_200_same)
            + lean_200.scaled(polls_new)
            + small_entry.scaled(new_entries)
            + prices_month
            + invocations_fix
        )
        api_lambda = feed_request.scaled(a.feed_requests)
        api_rest = a.feed_requests * PRICES["apigw_rest_request"]
        origin = 1 - a.cloudfront_hit_ratio
        api_cdn = (
            a.feed_requests * PRICES["cloudfront_https_request"]
            + origin * a.feed_requests * (PRICES["apigw_rest_request"])
        )
        for design, pipeline, api_unit, api_fee, cdn in (
            ("as built, REST API direct", built, api_lambda, api_rest, 0.0),
            ("lean writes + CloudFront", lean, api_lambda.scaled(origin), api_cdn, a.feed_requests),
            ("lean + small items + CDN", small, api_lambda.scaled(origin), api_cdn, a.feed_requests),
        ):
            total_unit = pipeline + api_unit
            cost = dollars(total_unit)
            cost["API"] = api_fee
            cost["CW"] = fixed
            total = sum(cost.values())
            free = free_tier_total(total_unit, cost, custom_metrics, alarms, cdn)
            results[f"{sources}:{design}"] = {**cost, "total": total, "total_after_free_tier": free}
            print(
                f"{sources:>8} {design:<30}{cost['Lambda']:>9.2f}{cost['DynamoDB']:>9.2f}{cost['SQS']:>8.2f}"
                f"{cost['Logs']:>7.2f}{cost['API']:>8.2f}{cost['CW']:>6.2f}{total:>9.2f}{free:>10.2f}",
                file=out,
            )
    storage_gb = facts["table_bytes"] / max(1, facts["articles"]) * 1_000 * a.new_entries_per_source_day * 365 / 1e9
    print(
        f"\nStorage (not in the table): a year of 1,000 sources' stories is ~{storage_gb:.1f} GB of items "
        f"(${storage_gb * PRICES['dynamodb_storage_gb']:.2f}/month; the first 25 GB are free). X-Ray with "
        f"TracingMode=Active records up to one trace per request: ~${a.feed_requests * PRICES['xray_trace']:.2f}/month "
        "at 1 M requests, hence PassThrough in prod.",
        file=out,
    )
    return results


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
    return lambda_cost + cost["DynamoDB"] + sqs_cost + logs_cost + cost["API"] - cdn_free + cw


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
    results = model(counts, facts, assumptions, sys.stdout)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True))
    for design in ("as built, REST API direct", "lean + small items + CDN"):
        total = results.get(f"1000:{design}", {}).get("total", math.inf)
        free = results.get(f"1000:{design}", {}).get("total_after_free_tier", math.inf)
        print(
            f"1,000 sources every 5 minutes + 1 M feed requests, {design}: ${total:.2f}/month "
            f"(${free:.2f} within the always-free tier; target $5)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

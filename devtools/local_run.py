"""`make run`: the whole pipeline on this machine, no AWS account and no internet.

moto (server mode) stands in for DynamoDB, SQS and S3, created from template.yaml; a local server
stands in for the feeds and the price API. The real handlers run with real event shapes:
dispatch → fetch queue → fetch → article queue → process → store, then the API is served on
http://127.0.0.1:3000/v1 (PORT changes the port) through `devtools.apigw`, a local REST API
Gateway configured from template.yaml: its stage, routes, binary media types and limits.

One sample source (Push Wire) sits behind a WebSub hub on 127.0.0.1 (`devtools.sample_hub`): its
feed names the hub, the fetcher subscribes with the callback served by the same local gateway
(`WebSubCallbackFunction`), the hub verifies and pushes a new entry, and the summary says which
stories arrived by push and which by poll.

`--sources FILE` polls a real sources file instead (needs internet; private addresses stay refused).
`--sources FILE --allow-private-network` also reaches feeds on 127.0.0.1 and private networks
(your own feed server), and says so at start; the deployed stack never does.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "shared"))
sys.path.insert(0, str(ROOT))

from devtools import apigw  # noqa: E402
from devtools.lambda_local import (  # noqa: E402
    drain_queue,
    invoke,
    load_event,
    load_handler_module,
)
from devtools.moto_local import moto_server  # noqa: E402
from devtools.sample_hub import SampleHub  # noqa: E402
from devtools.sample_server import SAMPLES, SampleServer  # noqa: E402
from devtools.template import create_resources, function_environment  # noqa: E402


def say(message: str) -> None:
    print(message, flush=True)


def batches(n: int) -> str:
    return f"{n} SQS batch" + ("" if n == 1 else "es")


def start_moto() -> str:
    server = moto_server()
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}"


def configure_environment(endpoint: str, extra: dict[str, str]) -> None:
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "ERROR"),
            "POWERTOOLS_SERVICE_NAME": "newsroom-local",
            "POWERTOOLS_METRICS_NAMESPACE": "NewsroomLocal",
        }
    )
    # Plain (non-reference) values from template.yaml's Globals, as a deployed function would see them.
    for key, value in function_environment("ApiFunction").items():
        if isinstance(value, str | int):
            os.environ.setdefault(key, str(value))
    os.environ.update(extra)


PRIVATE_NETWORK_WARNING = (
    "!! --allow-private-network: the fetcher WILL contact loopback and private addresses "
    "(127.0.0.1, 10/8, 192.168/16, ...), the SSRF guard is OFF for this run; the deployed stack never does this."
)


PUSHED_ENTRY = SAMPLES / "pushed" / "pushwire-new.xml"  # what the sample hub delivers


def pushed_ids(entry: bytes) -> set[str]:
    """The guids and links of the entries a delivery carried: how the summary tells a pushed
    story (it is in no polled feed) from a polled one."""
    text = entry.decode("utf-8")
    return set(re.findall(r"<guid[^>]*>([^<]+)</guid>", text)) | set(re.findall(r"<link>([^<]+)</link>", text))


def run_pipeline(sources_file: Path | None, *, allow_private: bool, port: int = 3000) -> dict[str, Any]:
    import boto3

    user_base_url = os.environ.get("PUBLIC_BASE_URL")
    endpoint = start_moto()
    say(f"1. moto (AWS stand-in) on {endpoint}")
    configure_environment(endpoint, {})
    dynamodb = boto3.client("dynamodb")
    sqs = boto3.client("sqs")
    resources = create_resources(dynamodb, sqs, s3=boto3.client("s3"))
    say(
        f"2. created from template.yaml: table {resources.table_name}, the fetch and article queues with "
        f"their dead-letter queues, entry bucket {resources.entry_bucket}"
    )

    embedded = sources_file is None
    hub = SampleHub(PUSHED_ENTRY.read_bytes()).start() if embedded else None
    samples = SampleServer(hub_url=hub.url if hub else None).start()
    tmp = Path(tempfile.mkdtemp(prefix="newsroom-"))
    if sources_file is None:
        sources_file = samples.sources_file(tmp / "sources.json", pushed=True)
        say(f"3. sample feeds and price API on {samples.base_url}; a WebSub hub on {hub.url if hub else '-'}")
    else:
        say(f"3. polling the real sources in {sources_file}")
    configure_environment(
        endpoint,
        {
            "TABLE_NAME": resources.table_name,
            "QUEUE_URL": resources.queue_url,
            "FETCH_QUEUE_URL": resources.fetch_queue_url,
            "ENTRY_BUCKET": resources.entry_bucket,
            "SOURCES_FILE": str(sources_file),
            "PRICE_API_BASE_URL": f"{samples.base_url}/api/v3"
            if embedded
            else os.environ.get("PRICE_API_BASE_URL", "https://api.coingecko.com/api/v3"),
            "ALLOW_PRIVATE_NETWORK": "true" if allow_private else "false",
            # Links and redirects are built on this, never on the request's Host header: the
            # local gateway's stage URL, as the execute-api host's links name the stage.
            "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL")
            or f"http://127.0.0.1:{port}/{apigw.gateway_config().stage}",
            # The sample stories' article pages live on public hosts (defiliban.io...), which the
            # embedded run must not reach; tests/fetch/test_fulltext.py fetches local pages instead.
            **({"FULLTEXT_MAX_PAGES": "0"} if embedded else {}),
        },
    )
    from newsroom.wiring import clients as runtime

    runtime.reset()
    dispatcher = load_handler_module("dispatch_sources")
    fetch = load_handler_module("fetch_feeds")
    process = load_handler_module("process_articles")
    prices = load_handler_module("fetch_prices")
    api = load_handler_module("api")
    callback = load_handler_module("websub_callback")
    # The gateway serves the API and the WebSub callback from now on, so the hub can verify and
    # deliver while the fetcher subscribes; its request log is printed only once the run serves.
    serving = {"log": False}
    served = apigw.serve_module(
        api,
        port,
        others={"WebSubCallbackFunction": callback},
        log=lambda line: say(line) if serving["log"] else None,
    ).start()
    if embedded:
        # Only the bundled run: a real hub could never reach a callback on 127.0.0.1.
        os.environ["WEBSUB_CALLBACK_BASE_URL"] = served.base_url
    if port == 0 and not user_base_url:
        os.environ["PUBLIC_BASE_URL"] = served.base_url
    runtime.settings.cache_clear()

    tick = invoke(dispatcher, load_event("dispatch_sources_schedule"), "DispatchSourcesFunction")
    say(
        f"4. DispatchSourcesFunction: {tick['due']} of {tick['sources']} sources due, up to "
        f"{runtime.settings().fetch_sources_per_message} a fetch message ({tick['disabled']} disabled)"
    )
    polled = drain_queue(
        sqs, resources.fetch_queue_url, resources.fetch_queue_arn, fetch, function_name="FetchFeedsFunction"
    )
    totals = {key: sum(r[key] for r in polled.results) for key in ("sources", "entries", "not_modified", "failed")}
    say(
        f"5. FetchFeedsFunction: {batches(polled.batches)} from the fetch queue, {totals['sources']} sources "
        f"polled, {totals['entries']} entries queued, {totals['failed']} failed"
    )
    from newsroom.sources.registry import known_sources

    states = runtime.store().get_source_states([s.id for s in known_sources(runtime.store())])
    for state in states.values():
        if state.last_error:
            say(f"   - {state.source_id}: failed and recorded ({state.last_error}); retried with backoff")
    if hub is not None:
        # The hub verifies and delivers on its own threads, moments after the fetcher asked.
        hub.delivered.wait(timeout=10)
        for push in hub.pushes:
            sub_of = next((s for s in known_sources(runtime.store()) if push.topic == s.feed_url), None)
            name = sub_of.id if sub_of else push.topic
            say(
                f"   - {name}: its feed names a WebSub hub; subscribed, the hub verified the callback and pushed "
                f"a new entry to WebSubCallbackFunction {push.seconds:.2f} s after the request (HTTP {push.status})"
            )
        if not hub.pushes:
            say("   - the WebSub hub delivered nothing (the subscription was not verified)")
    drained = drain_queue(sqs, resources.queue_url, resources.queue_arn, process)
    say(
        f"6. ProcessArticlesFunction: {drained.processed} entries in {batches(drained.batches)}, "
        f"{drained.failed} failed"
    )
    again = invoke(dispatcher, load_event("dispatch_sources_schedule"), "DispatchSourcesFunction")
    next_polls = sorted(s.next_poll for s in states.values() if s.next_poll and not s.last_error)
    when = f"; next poll {next_polls[0]:%H:%M} UTC" if next_polls else ""
    say(f"7. the next dispatcher tick: {again['due']} of {again['sources']} sources due{when}")
    forced = invoke(fetch, load_event("fetch_feeds_schedule"), "FetchFeedsFunction")
    say(
        f"8. FetchFeedsFunction on a schedule event polls every source now: {forced['not_modified']} of "
        f"{forced['sources']} answered 304 Not Modified, {forced['entries']} entries queued"
    )
    priced = invoke(prices, load_event("fetch_prices_schedule"), "FetchPricesFunction")
    say(f"9. FetchPricesFunction: {priced['stored']} pairs stored ({', '.join(priced['pairs'])})")
    pushed = pushed_ids(PUSHED_ENTRY.read_bytes()) if hub is not None and hub.pushes else set()
    return {"api": api, "resources": resources, "served": served, "serving": serving, "pushed": pushed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=Path, help="a real sources file to poll (needs internet)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--no-serve", action="store_true", help="run the pipeline, print a summary and exit")
    parser.add_argument(
        "--allow-private-network",
        action="store_true",
        help="with --sources: also fetch feeds on 127.0.0.1 and private addresses (your own feed server)",
    )
    args = parser.parse_args(argv)
    if args.allow_private_network and args.sources is None:
        parser.error("--allow-private-network goes with --sources (the bundled samples always run on 127.0.0.1)")
    if args.allow_private_network:
        say(PRIVATE_NETWORK_WARNING)
        print(PRIVATE_NETWORK_WARNING, file=sys.stderr, flush=True)

    state = run_pipeline(
        args.sources,
        allow_private=args.sources is None or args.allow_private_network,
        port=0 if args.no_serve else args.port,
    )
    from newsroom.wiring import clients as runtime

    page = runtime.store().list_articles("all", limit=100, cursor=None)
    say(f"10. {len(page.items)} stories stored, one per story:")
    stories = runtime.store().get_articles([a.id for a in page.items])
    pushed: set[str] = state["pushed"]
    by_push = [a for a in stories if a.guid in pushed or a.url in pushed]
    for article in stories:
        copies = f"; also published by {', '.join(c.source_name for c in article.copies)}" if article.copies else ""
        how = "by push" if article in by_push else "by poll"
        say(f"   - {article.category.value:<10} {article.title}")
        say(f"     {article.reading_minutes} min read · {article.credit_line}{copies} · arrived {how}")
    titles = "".join(f" ({a.source_name}: {a.title})" for a in by_push)
    say(f"   arrived by push (WebSub): {len(by_push)}{titles}; by poll: {len(stories) - len(by_push)}")
    served: apigw.ServedGateway = state["served"]
    if args.no_serve:
        served.stop()
        return 0
    state["serving"]["log"] = True
    base = served.base_url
    # Links in pages and feeds name the local stage (behind AWS it is the execute-api domain or
    # the configured site); an explicit PUBLIC_BASE_URL wins.
    os.environ.setdefault("PUBLIC_BASE_URL", base)
    runtime.settings.cache_clear()
    say(f"\nAPI (ApiFunction behind the local API Gateway, stage {served.gateway.config.stage}) on {base} — try:")
    for path in (
        "/articles",
        "/articles?category=policy",
        "/articles?coin=SOL",
        "/feed.json",
        "/feed.rss",
        "/feed.atom",
        "/prices",
    ):
        say(f"   {base}{path}")
    if page.items:
        say(f"   {base}/articles/{page.items[-1].id}")
    say("Ctrl-C to stop.")
    try:
        served.server.serve_forever()
    except KeyboardInterrupt:
        say("stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

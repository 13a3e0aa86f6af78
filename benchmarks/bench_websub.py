"""From a hub's delivery to the story served by the API (issue 19), beside a polled source's delay.

The real code path in one process, AWS as moto: a hub on 127.0.0.1 POSTs a signed delivery to the
packaged callback function behind the local API Gateway (from template.yaml); the article queue is
drained into the packaged processor, as the SQS event source mapping does; then GET
`/articles?source=` through the packaged API function shows the story. Timed from the hub's POST
to the story in the API's answer, ROUNDS times with a new story each.

Not counted here, and added in the table: the queue's MaximumBatchingWindowInSeconds (5 s in
template.yaml, the most the event source mapping waits to fill a batch). A polled source's delay
is its interval: a story published at a random moment waits half an interval on average and a
whole one at worst, plus up to one dispatcher tick (5 minutes).
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from devtools import apigw
from devtools.lambda_local import api_event, drain_queue, invoke, load_handler_module
from devtools.stack import local_stack
from newsroom.store.subscriptions import Subscription
from newsroom.wiring import clients as runtime
from tests.websub.localhub import LocalHub

ROUNDS = 20
BATCHING_WINDOW_S = 5.0  # ArticleQueue's event source mapping in template.yaml
POLL_INTERVAL_S = 15 * 60
TICK_S = 5 * 60
TOKEN = "bench-" + "t" * 37
SECRET = "cd" * 32
TOPIC = "https://defiliban.example/feed"


def _delivery(guid: str) -> bytes:
    stamp = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>DeFi Liban</title><item>'
        f"<title>Pushed {guid}: Bitcoin and Ether move</title><link>https://defiliban.example/{guid}</link>"
        f"<guid>{guid}</guid><pubDate>{stamp}</pubDate>"
        "<description>A story pushed by a hub and served by the API.</description></item></channel></rss>"
    ).encode()


def main() -> None:
    saved = dict(os.environ)
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_NAMESPACE": "NewsroomBench",
        }
    )
    try:
        with tempfile.TemporaryDirectory() as workdir, local_stack(os.environ.__setitem__, Path(workdir)) as stack:
            runtime.reset()
            api = load_handler_module("api")
            process = load_handler_module("process_articles")
            gateway = apigw.serve_module(api, others={"WebSubCallbackFunction": load_handler_module("websub_callback")})
            gateway.start()
            try:
                store = runtime.store()
                now = datetime.now(UTC)
                store.put_subscription(
                    Subscription("defiliban", "https://hub.example/", TOPIC, TOKEN, "subscribing", now, 864000)
                )
                store.put_hub_secret("defiliban", SECRET)
                callback = f"{gateway.base_url}/websub/defiliban/{TOKEN}"
                hub = LocalHub()
                assert hub.verify(callback, "subscribe", TOPIC, "go", lease=864000) == (200, "go")
                delays = []
                for i in range(ROUNDS):
                    guid = f"bench-{i}"
                    started = time.perf_counter()
                    assert hub.publish(callback, _delivery(guid), secret=SECRET)[0] == 202
                    drain_queue(stack.sqs, stack.resources.queue_url, stack.resources.queue_arn, process)
                    event = api_event("GET", "/articles?source=defiliban&limit=100", {"Host": "127.0.0.1:3000"})
                    body = invoke(api, event, "ApiFunction")["body"]
                    assert f"Pushed {guid}:" in json.dumps(json.loads(body)), "the story is not served"
                    delays.append(time.perf_counter() - started)
            finally:
                gateway.stop()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        runtime.reset()
    median, worst = statistics.median(delays), max(delays)
    print(f"{'path':<46} {'median s':>10} {'worst s':>10}")
    print(f"{'push: hub POST -> served (measured, in process)':<46} {median:>10.3f} {worst:>10.3f}")
    window = BATCHING_WINDOW_S
    print(f"{'push: + queue batching window (<= 5 s)':<46} {median + window:>10.1f} {worst + window:>10.1f}")
    print(
        f"{'poll every 15 min (+ one 5 min tick)':<46} {POLL_INTERVAL_S / 2:>10.0f} {POLL_INTERVAL_S + TICK_S:>10.0f}"
    )

"""The feed API: render time per format, DynamoDB calls per request, cold import of the handler.

1. Rendering a 50-item page (the sample stories, built by the real processing code and
   repeated under new ids) as the /articles JSON, JSON Feed, RSS and Atom: median of 30 runs.
2. DynamoDB calls per request, counted on the boto3 client the store uses, with the real
   handler over moto holding 60 stories.
3. Cold import of functions/api/app.py in a fresh interpreter (`python -I`, only the function's
   folder and the layer on the path, as Lambda lays them out), against the baseline every
   Python Lambda that touches DynamoDB pays: `import boto3` plus creating one client. Each is
   measured 7 times, alternating, in this same run; medians and their ratio are printed
   (target: at most 1.3x). A last row adds what the first paging request of a cold start pays
   for the cursor key: one GetItem of its table item on the store's client (against moto in
   server mode on loopback, so the network round trip to the real service, a few ms in-region,
   is not in it).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from devtools.sample_server import SAMPLES
from newsroom.core.config import parse_sources
from newsroom.core.models import Article
from newsroom.fetch.feeds import parse_feed
from newsroom.process.build import ProcessingContext, build_article
from newsroom.serve.formats.api_json import article_summary_json
from newsroom.serve.formats.atom import render_atom
from newsroom.serve.formats.common import FeedMeta
from newsroom.serve.formats.jsonfeed import render_json_feed
from newsroom.serve.formats.rss import render_rss

ROOT = Path(__file__).resolve().parent.parent
PAGE = 50
RENDER_RUNS = 30
IMPORT_RUNS = 7
TARGET_RATIO = 1.3

_IMPORT_APP = (
    "import sys, time; sys.path[:0] = [sys.argv[1], sys.argv[2]]; t = time.perf_counter(); "
    "import app; print(time.perf_counter() - t)"
)
# What the first request adds: the store's boto3 client, created lazily on first use.
_IMPORT_APP_AND_CLIENT = (
    "import sys, time; sys.path[:0] = [sys.argv[1], sys.argv[2]]; t = time.perf_counter(); "
    "import app; from newsroom.wiring import clients as runtime; runtime.dynamodb(); print(time.perf_counter() - t)"
)
# What the first paging request adds after that: the cursor key, read once from its table item
# (one GetItem on the client the store already has), timed alone so the import's noise is not in it.
_CURSOR_KEY_READ = (
    "import sys, time; sys.path[:0] = [sys.argv[1], sys.argv[2]]; "
    "import app; from newsroom.wiring import clients as runtime; runtime.dynamodb(); t = time.perf_counter(); "
    "runtime.store().stored_cursor_key(); print(time.perf_counter() - t)"
)
_IMPORT_BOTO3 = (
    "import time; t = time.perf_counter(); import boto3; boto3.client('dynamodb'); print(time.perf_counter() - t)"
)


def sample_articles(count: int) -> list[Article]:
    """`count` stories: the sample feeds' stories built by the real pipeline, repeated under new ids."""
    sources = parse_sources((SAMPLES / "sources.json").read_text().replace("{base}", "http://127.0.0.1"))
    ctx = ProcessingContext.build(
        sources,
        site_name="CryptoCompass",
        desk_name="CryptoCompass newsroom",
        editorial_image_base_url="https://cdn.example/editorial",
        max_body_bytes=180_000,
        now=datetime(2026, 6, 1, tzinfo=UTC),
    )
    built: list[Article] = []
    for path in sorted((SAMPLES / "feeds").glob("*.xml")):
        parsed = parse_feed(path.read_bytes(), source_id=path.stem, base_url="https://x.example/", fetched_at=ctx.now)
        for entry in parsed.entries:
            result = build_article(entry, ctx)
            article = getattr(result, "article", result)
            if isinstance(article, Article):
                built.append(article)
    if not built:
        raise RuntimeError("the sample feeds built no articles")
    start = datetime(2026, 5, 31, 12, tzinfo=UTC)
    return [
        replace(
            built[i % len(built)],
            id=f"{i:020x}",
            published=start - timedelta(minutes=7 * i),
            updated=start - timedelta(minutes=7 * i),
        )
        for i in range(count)
    ]


def _median_ms(func: Callable[[], str]) -> tuple[float, str]:
    times = []
    out = ""
    for _ in range(RENDER_RUNS):
        t0 = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000, out


def bench_render(articles: list[Article]) -> None:
    meta = FeedMeta(
        title="CryptoCompass",
        home_page_url="https://cryptocompass.example",
        feed_url="https://api.example/v1/feed",
        description="CryptoCompass: crypto news",
        next_url="https://api.example/v1/feed?cursor=abc",
    )
    cases: list[tuple[str, Callable[[], str]]] = [
        ("/articles JSON", lambda: json.dumps({"items": [article_summary_json(a) for a in articles]})),
        ("JSON Feed 1.1", lambda: render_json_feed(meta, articles)),
        ("RSS 2.0", lambda: render_rss(meta, articles)),
        ("Atom 1.0", lambda: render_atom(meta, articles)),
    ]
    print(f"Render a {len(articles)}-item page (median of {RENDER_RUNS})")
    print(f"{'format':<18}{'ms/page':>10}{'KB':>10}")
    for label, func in cases:
        ms, out = _median_ms(func)
        print(f"{label:<18}{ms:>10.2f}{len(out.encode()) / 1024:>10.1f}")


class _CountingClient:
    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name.startswith("_") or name in ("exceptions", "meta") or not callable(attr):
            return attr

        def call(**kwargs: Any) -> Any:
            self.calls[name] += 1
            return attr(**kwargs)

        return call


def bench_calls(articles: list[Article]) -> None:
    import boto3
    from moto import mock_aws

    from devtools.lambda_local import FakeLambdaContext, api_event
    from devtools.template import create_resources
    from newsroom.core.config import Settings
    from newsroom.serve.api import build_resolver
    from newsroom.store.dynamo import DynamoStore

    env = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with mock_aws():
            dynamodb = boto3.client("dynamodb", region_name="us-east-1")
            resources = create_resources(dynamodb, boto3.client("sqs", region_name="us-east-1"))
            client = _CountingClient(dynamodb)
            store = DynamoStore(client, resources.table_name, b"bench-cursor-secret")
            for article in articles:
                store.create_article(article, guid=None)
            config = Settings.from_env({"TABLE_NAME": resources.table_name})

            @cache
            def settings() -> Settings:
                return config

            app = build_resolver(lambda: store, settings)
            first = articles[0].id
            routes = [
                "/articles?limit=50",
                "/articles?limit=20&category=policy",
                "/articles?limit=20&since=2026-05-31",
                f"/articles/{first}",
                "/feed.json?limit=50",
                "/feed.rss?limit=50",
                "/feed.atom?limit=50&coin=BTC",
                "/prices",
            ]
            print("\nDynamoDB calls per request (real handler, moto; latency is moto's, not DynamoDB's)")
            print(f"{'request':<40}{'Query':>7}{'BatchGet':>10}{'GetItem':>9}{'Scan':>6}{'ms':>8}")
            for path in routes:
                client.calls.clear()
                t0 = time.perf_counter()
                resp = app.resolve(api_event("GET", path, {"Host": "api.example"}), FakeLambdaContext())
                ms = (time.perf_counter() - t0) * 1000
                if resp["statusCode"] != 200:
                    raise RuntimeError(f"{path} answered {resp['statusCode']}: {resp['body'][:200]}")
                c = client.calls
                print(f"{path:<40}{c['query']:>7}{c['batch_get_item']:>10}{c['get_item']:>9}{c['scan']:>6}{ms:>8.1f}")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _time_subprocess(code: str, *args: str, extra_env: dict[str, str] | None = None) -> float:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "POWERTOOLS_SERVICE_NAME": "bench",
        "POWERTOOLS_METRICS_NAMESPACE": "Bench",
        **(extra_env or {}),
    }
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-I", "-c", code, *args],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd="/",
        timeout=120,
    )
    return float(out.stdout.strip().splitlines()[-1])


def _cursor_key_server() -> tuple[Any, dict[str, str]]:
    """moto in server mode holding the stack's table with its cursor key, and the environment
    that points a function at it."""
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    from devtools.template import create_table
    from newsroom.store.dynamo import DynamoStore

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",  # noqa: S106 - moto's dummy credentials
    )
    create_table(client, "bench")
    DynamoStore(client, "bench", None).stored_cursor_key()  # created once, as the first page does
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "TABLE_NAME": "bench",
        "CURSOR_KEY_IN_TABLE": "true",
    }
    return server, env


def bench_cold_import() -> None:
    app_dir, layer = str(ROOT / "functions" / "api"), str(ROOT / "shared")
    server, key_env = _cursor_key_server()
    _time_subprocess(_IMPORT_APP, app_dir, layer)  # warm the page cache and .pyc files once
    _time_subprocess(_IMPORT_BOTO3)
    times: dict[str, list[float]] = {"boto3": [], "app": [], "app+client": [], "key": []}
    try:
        for _ in range(IMPORT_RUNS):
            times["boto3"].append(_time_subprocess(_IMPORT_BOTO3))
            times["app"].append(_time_subprocess(_IMPORT_APP, app_dir, layer))
            times["app+client"].append(_time_subprocess(_IMPORT_APP_AND_CLIENT, app_dir, layer))
            times["key"].append(_time_subprocess(_CURSOR_KEY_READ, app_dir, layer, extra_env=key_env))
    finally:
        server.stop()
    ms = {key: statistics.median(values) * 1000 for key, values in times.items()}
    print(f"\nCold import in a fresh interpreter (median of {IMPORT_RUNS}, alternating, same run)")
    print(f"{'what':<52}{'ms':>8}{'min':>8}{'max':>8}{'ratio':>8}")
    for key, label in (
        ("boto3", "baseline: import boto3 + boto3.client('dynamodb')"),
        ("app", "import functions/api/app.py (no boto3 at import)"),
        ("app+client", "import app.py + the store's DynamoDB client"),
        ("key", "then the cursor key alone (one GetItem)"),
    ):
        low, high = min(times[key]) * 1000, max(times[key]) * 1000
        print(f"{label:<52}{ms[key]:>8.1f}{low:>8.1f}{high:>8.1f}{ms[key] / ms['boto3']:>7.2f}x")
    ratio = ms["app"] / ms["boto3"]
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    print(f"handler import / baseline = {ratio:.2f}x ({verdict} the {TARGET_RATIO}x target)")


def main() -> None:
    articles = sample_articles(60)
    bench_render(articles[:PAGE])
    bench_calls(articles)
    bench_cold_import()


if __name__ == "__main__":
    for extra in (ROOT / "shared", ROOT):
        if str(extra) not in sys.path:
            sys.path.insert(0, str(extra))
    main()

"""`make run` end to end: the local run serves the bundled stories over real HTTP on loopback,
one of them pushed by the sample WebSub hub."""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PUSHED_TITLE = "Bitcoin Miners Move Coins to Exchanges as Hashprice Slides"  # samples/pushed/pushwire-new.xml


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_local_run_serves_deduped_attributed_feeds_and_the_ticker() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "devtools.local_run", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 90
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            output.append(line)
            if "Ctrl-C to stop" in line:
                break
        text = "".join(output)
        assert "Ctrl-C to stop" in text, text
        assert "8 stories stored" in text
        # The deployed path: the dispatcher queues the due sources, workers poll them from SQS.
        assert "DispatchSourcesFunction: 5 of 5 sources due" in text
        assert "5 sources polled, 9 entries queued, 1 failed" in text
        # Push Wire's feed names the sample hub: subscribed, verified, one new entry pushed.
        assert "pushwire: its feed names a WebSub hub; subscribed, the hub verified the callback and pushed" in text
        assert "ProcessArticlesFunction: 10 entries" in text  # the 9 polled and the 1 pushed
        assert "the next dispatcher tick: 0 of 5 sources due" in text
        assert "4 of 5 answered 304 Not Modified, 0 entries queued" in text
        assert "Read original article on defiliban.io; also published by Crypto Wire Daily · arrived by poll" in text
        assert f"{PUSHED_TITLE}\n     1 min read · Read original article on pushwire.example · arrived by push" in text
        assert f"arrived by push (WebSub): 1 (Push Wire: {PUSHED_TITLE}); by poll: 7" in text
        base = f"http://127.0.0.1:{port}/v1"  # served through the local API Gateway's stage
        assert f"on {base}" in text
        with urllib.request.urlopen(f"{base}/articles?limit=100", timeout=10) as resp:
            items = json.load(resp)["items"]
        assert len(items) == 8
        with urllib.request.urlopen(f"{base}/articles?source=pushwire", timeout=10) as resp:
            assert PUSHED_TITLE in [i["title"] for i in json.load(resp)["items"]]
        with urllib.request.urlopen(f"{base}/sources", timeout=10) as resp:
            (pushwire,) = [s for s in json.load(resp)["items"] if s["id"] == "pushwire"]
        assert pushwire["push"]["state"] == "active" and pushwire["push"]["deliveries"] == 1
        with urllib.request.urlopen(f"{base}/feed.rss", timeout=10) as resp:
            assert resp.headers["Content-Type"].startswith("application/rss+xml")
            assert b"Read original article on defiliban.io" in resp.read()
        with urllib.request.urlopen(f"{base}/prices", timeout=10) as resp:
            displays = [i["display"] for i in json.load(resp)["items"]]
        assert displays[0] == "$68,420 +2.8%"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/articles?limit=0", timeout=10)
        assert refused.value.code == 400
        assert refused.value.headers["Content-Type"] == "application/problem+json"
        # What the template does not define is API Gateway's own 403, as behind the real stage.
        with pytest.raises(urllib.error.HTTPError) as no_stage:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/articles", timeout=10)
        assert no_stage.value.code == 403
        # A feed reader's gzip arrives as gzip, not as base64 text labelled gzip.
        zipped = urllib.request.Request(f"{base}/feed.rss", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(zipped, timeout=10) as resp:
            assert resp.headers["Content-Encoding"] == "gzip"
            assert b"Read original article on defiliban.io" in gzip.decompress(resp.read())
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _run_own_sources(tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """`local_run --sources FILE --no-serve` against one feed served on 127.0.0.1 (the bundled
    sample server stands in for the user's own feed server; prices too, so nothing leaves)."""
    import os

    from devtools.sample_server import SampleServer

    samples = SampleServer().start()
    try:
        sources = tmp_path / "my-sources.json"
        sources.write_text(
            json.dumps(
                [
                    {
                        "id": "myfeed",
                        "name": "My Feed",
                        "feed_url": f"{samples.base_url}/feeds/cryptowire.xml",
                        "homepage": "https://my.example",
                    }
                ]
            )
        )
        env = {
            **os.environ,
            "PRICE_API_BASE_URL": f"{samples.base_url}/api/v3",
            "PRICE_FALLBACK_BASE_URL": samples.base_url,
        }
        return subprocess.run(
            [sys.executable, "-m", "devtools.local_run", "--sources", str(sources), "--no-serve", *flags],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        samples.stop()


def test_own_feeds_on_loopback_are_read_with_allow_private_network_and_the_run_says_so(tmp_path: Path) -> None:
    run = _run_own_sources(tmp_path, "--allow-private-network")

    assert run.returncode == 0, run.stdout + run.stderr
    first_line = run.stdout.splitlines()[0]
    assert first_line.startswith("!! --allow-private-network") and "SSRF guard is OFF" in first_line
    assert "--allow-private-network" in run.stderr  # loud on both streams
    assert "1 sources polled, 3 entries queued, 0 failed" in run.stdout
    assert "6 pairs stored" in run.stdout


def test_own_feeds_on_loopback_stay_refused_without_the_flag(tmp_path: Path) -> None:
    run = _run_own_sources(tmp_path)

    assert run.returncode == 0, run.stdout + run.stderr
    assert "allow-private-network" not in run.stdout
    assert "1 sources polled, 0 entries queued, 1 failed" in run.stdout
    assert "myfeed: failed and recorded (blocked-address" in run.stdout


def test_allow_private_network_without_sources_is_a_usage_error() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "devtools.local_run", "--allow-private-network", "--no-serve"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    assert "--allow-private-network goes with --sources" in run.stderr

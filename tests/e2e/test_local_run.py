"""`make run` end to end: the local run serves the bundled stories over real HTTP on loopback."""

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
        assert "6 stories stored" in text
        # The deployed path: the dispatcher queues the due sources, workers poll them from SQS.
        assert "DispatchSourcesFunction: 4 of 4 sources due" in text
        assert "4 sources polled, 8 entries queued, 1 failed" in text
        assert "the next dispatcher tick: 0 of 4 sources due" in text
        assert "3 of 4 answered 304 Not Modified, 0 entries queued" in text
        assert "Read original article on defiliban.io; also published by Crypto Wire Daily" in text
        base = f"http://127.0.0.1:{port}/v1"  # served through the local API Gateway's stage
        assert f"on {base}" in text
        with urllib.request.urlopen(f"{base}/articles?limit=100", timeout=10) as resp:
            items = json.load(resp)["items"]
        assert len(items) == 6
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

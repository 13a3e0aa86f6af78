"""Feed and price servers that hang, drip, reset, truncate or send the wrong thing.

Through the real fetch handlers: each failure is fast (bounded by the configured timeouts, not
by the Lambda's), recorded (the source's stored state names the reason; the price function
reports nothing stored and keeps the last prices), and asked exactly once per round — the
fetcher never retries a broken server in a loop.

Guards: http.py's connect/read timeouts and total deadline (service.fetch_policy passes the
total), the fetcher's per-source isolation and recorded state, and the absence of any retry
loop around a failed fetch.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.lambda_local import invoke, load_event
from devtools.sample_server import SAMPLES
from newsroom.wiring import clients as runtime

from .conftest import Stack

TIMEOUT = 0.5  # FETCH_CONNECT_TIMEOUT and FETCH_READ_TIMEOUT for these tests
GOOD_FEED = (SAMPLES / "feeds" / "defiliban.xml").read_bytes()
HTML_PAGE = b"<!doctype html><html><head><title>Welcome</title></head><body><p>Not a feed.</p></body></html>"


class FaultServer:
    """A raw-socket HTTP server on 127.0.0.1 that misbehaves according to the request path."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._stop = threading.Event()
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            path = data.split(b" ", 2)[1].decode().split("?")[0]
            fault = path.strip("/").split("/")[0]
            with self._lock:
                self.requests[fault] += 1
            with contextlib.suppress(OSError):  # the client gave up first: that is the point
                self._misbehave(conn, fault.removeprefix("fallback-"))

    def _send(self, conn: socket.socket, body: bytes, content_type: str, length: int | None = None) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {length or len(body)}\r\n\r\n"
        conn.sendall(head.encode() + body)

    def _misbehave(self, conn: socket.socket, fault: str) -> None:
        if fault == "hang":  # accepts, then says nothing
            self._stop.wait(10)
        elif fault == "drip":  # a byte every 0.2 s: each read succeeds, the whole never ends
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: 100000\r\n\r\n")
            for byte in GOOD_FEED:
                if self._stop.wait(0.2):
                    return
                conn.sendall(bytes([byte]))
        elif fault == "reset":  # RST instead of an answer
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif fault == "truncated":  # promises 5,000 bytes, sends 300, hangs up
            self._send(conn, GOOD_FEED[:300], "application/rss+xml", length=5000)
        elif fault == "html":
            self._send(conn, HTML_PAGE, "text/html; charset=utf-8")
        elif fault == "binary":
            self._send(conn, bytes(range(256)) * 40, "image/png")
        elif fault == "json":
            self._send(conn, b'{"error": "rate limited"}', "application/json")
        elif fault == "good":
            self._send(conn, GOOD_FEED, "application/rss+xml")
        else:
            conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")


FEED_FAULTS = ("hang", "drip", "reset", "truncated", "html", "binary", "json")
PRICE_FAULTS = ("hang", "drip", "reset", "truncated", "html", "binary")


@pytest.fixture
def faults(stack: Stack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FaultServer]:
    with FaultServer() as server:
        sources = [
            {
                "id": f"src-{fault}",
                "name": f"Source {fault}",
                "feed_url": f"{server.base_url}/{fault}/feed.xml",
                "homepage": f"https://{fault}.example",
                "role": "original",
            }
            for fault in (*FEED_FAULTS, "good")
        ]
        path = tmp_path / "fault-sources.json"
        path.write_text(json.dumps({"sources": sources}))
        monkeypatch.setenv("SOURCES_FILE", str(path))
        monkeypatch.setenv("FETCH_CONNECT_TIMEOUT", str(TIMEOUT))
        monkeypatch.setenv("FETCH_READ_TIMEOUT", str(TIMEOUT))
        runtime.reset()
        yield server


def source_states(stack: Stack) -> dict[str, dict[str, Any]]:
    items = stack.dynamodb.scan(TableName=stack.resources.table_name)["Items"]
    return {i["SK"]["S"]: json.loads(i["doc"]["S"]) for i in items if i["PK"]["S"] == "STATES"}


def test_broken_feed_servers_fail_fast_are_recorded_and_asked_once(stack: Stack, faults: FaultServer) -> None:
    started = time.monotonic()
    summary = stack.run_fetch()
    elapsed = time.monotonic() - started

    # Bounded by connect + 2 reads (1.5 s here) with every source polled at once, not by the
    # 300 s the Lambda would allow; generous margin for a loaded CI machine.
    assert elapsed < 6, f"a broken server held the fetch round for {elapsed:.1f} s"
    assert summary["failed"] == len(FEED_FAULTS)
    assert summary["ok"] == 1 and summary["entries"] > 0  # the good source was not held up
    assert faults.requests == {fault: 1 for fault in (*FEED_FAULTS, "good")}, "a broken server was retried"

    states = source_states(stack)
    expected = {
        "hang": "timeout",
        "drip": "timeout",
        "reset": "connection",
        "truncated": "connection",
        "html": "not-a-feed",
        "binary": "not-a-feed",
        "json": "not-a-feed",
    }
    for fault, reason in expected.items():
        state = states[f"src-{fault}"]
        assert state["last_error"] and state["last_error"].startswith(reason), (fault, state["last_error"])
        assert state["consecutive_failures"] == 1
    assert states["src-good"].get("last_error") is None  # unset fields are left out of the doc

    # A second round asks each broken server at most once more (or not at all, while it is
    # backed off): never a retry loop.
    stack.run_fetch()
    assert all(faults.requests[fault] <= 2 for fault in FEED_FAULTS), faults.requests


@pytest.mark.parametrize("fault", PRICE_FAULTS)
def test_broken_price_server_fails_fast_keeps_last_prices_and_is_asked_once(
    stack: Stack, faults: FaultServer, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    first = invoke(stack.prices, load_event("fetch_prices_schedule"), "FetchPricesFunction")
    assert first["stored"] == 6  # good prices from the sample server
    before = json.loads(stack.get("/prices")["body"])["items"]

    monkeypatch.setenv("PRICE_API_BASE_URL", f"{faults.base_url}/{fault}/api/v3")
    monkeypatch.setenv("PRICE_FALLBACK_BASE_URL", f"{faults.base_url}/fallback-{fault}")  # just as broken
    runtime.reset()
    started = time.monotonic()
    result = invoke(stack.prices, load_event("fetch_prices_schedule"), "FetchPricesFunction")
    elapsed = time.monotonic() - started

    # Provider and fallback each bounded by connect + 2 reads (1.5 s here), not by the 30 s the
    # Lambda would allow.
    assert elapsed < 6, f"{fault}: the price function waited {elapsed:.1f} s"
    assert result["stored"] == 0
    # One request to the provider, and at most one per pair to the fallback provider (Coinbase
    # is asked per product): no retry loop around either.
    assert faults.requests[fault] == 1, f"{fault}: asked {faults.requests[fault]} times"
    assert faults.requests[f"fallback-{fault}"] <= 6, faults.requests
    after = json.loads(stack.get("/prices")["body"])["items"]
    assert [(p["pair"], p["price"]) for p in after] == [(p["pair"], p["price"]) for p in before]

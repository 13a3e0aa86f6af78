"""A WebSub hub on 127.0.0.1 for the local run (`make run`): the publisher's side of a pushed source.

It takes a subscription request (WebSub 5.1: a form-encoded POST, answered 202 Accepted), then,
as a hub does, verifies the subscriber's intent with a GET to the callback carrying
`hub.challenge` (5.3) and, once the challenge came back, delivers the publisher's new entry: a
POST of the feed document to the callback, signed `X-Hub-Signature: sha256=...` with the
subscription's `hub.secret` (7, 8). An unsubscribe request is verified the same way and delivers
nothing. Everything stays on loopback; `pushes` records what was delivered, for the run's summary.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

__all__ = ["Push", "SampleHub"]


@dataclass(frozen=True, slots=True)
class Push:
    topic: str
    callback: str
    status: int  # the callback's answer to the delivery (202 when it took it)
    seconds: float  # from the subscription request to the delivery's answer


class SampleHub:
    """`new_entry`: the feed document the hub delivers to each verified subscriber."""

    def __init__(self, new_entry: bytes, host: str = "127.0.0.1") -> None:
        self.new_entry = new_entry
        self.requests: list[dict[str, str]] = []
        self.pushes: list[Push] = []
        self.delivered = threading.Event()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode("utf-8", "replace")))
                usable = form.get("hub.mode") in ("subscribe", "unsubscribe") and all(
                    urlsplit(form.get(key, "")).hostname == "127.0.0.1" for key in ("hub.callback", "hub.topic")
                )
                self.send_response(202 if usable else 400)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if usable:
                    hub.requests.append(form)
                    # The hub verifies after answering the request (5.3), as a real one does.
                    asked = time.monotonic()
                    threading.Thread(target=hub._verify_then_deliver, args=(form, asked), daemon=True).start()

            def log_message(self, format: str, *args: object) -> None:
                return

        self._httpd = ThreadingHTTPServer((host, 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/hub"

    def start(self) -> SampleHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _verify_then_deliver(self, form: dict[str, str], asked: float) -> None:
        callback, topic, mode = form["hub.callback"], form["hub.topic"], form["hub.mode"]
        challenge = secrets.token_urlsafe(16)
        params = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge}
        if mode == "subscribe":
            params["hub.lease_seconds"] = form.get("hub.lease_seconds") or "864000"
        status, body = _call(urllib.request.Request(f"{callback}?{urlencode(params)}", method="GET"))
        if mode != "subscribe" or status != 200 or body != challenge:
            return  # not verified: the subscriber did not ask for this, so nothing is delivered
        headers = {"Content-Type": "application/rss+xml"}
        secret = form.get("hub.secret")
        if secret:
            digest = hmac.new(secret.encode(), self.new_entry, hashlib.sha256).hexdigest()
            headers["X-Hub-Signature"] = f"sha256={digest}"
        answer, _ = _call(urllib.request.Request(callback, data=self.new_entry, headers=headers, method="POST"))
        self.pushes.append(Push(topic, callback, answer, time.monotonic() - asked))
        self.delivered.set()


def _call(request: urllib.request.Request) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # 127.0.0.1 only (checked above)
            return int(response.status), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:
        return 0, ""

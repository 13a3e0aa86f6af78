"""A small WebSub hub on 127.0.0.1 for tests: takes subscription requests (POST, form-encoded),
verifies intent by calling the subscriber's callback (GET with hub.challenge), and publishes
(POST to the callback, signed with the subscription's hub.secret as section 8 says)."""

from __future__ import annotations

import hashlib
import hmac
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode


@dataclass
class HubSubscription:
    topic: str
    callback: str
    secret: str | None
    lease_seconds: int | None


@dataclass
class LocalHub:
    """`answer` is the status the hub gives a subscription request; `redirect` sends the first
    request elsewhere with that status (301, 302, 307, 308)."""

    answer: int = 202
    redirect: tuple[int, str] | None = None
    requests: list[dict[str, str]] = field(default_factory=list)
    subscriptions: dict[str, HubSubscription] = field(default_factory=dict)

    def __post_init__(self) -> None:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                if hub.redirect and self.path == "/":
                    status, target = hub.redirect
                    self.send_response(status)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                hub.requests.append({**form, "_path": self.path, "_content_type": self.headers["Content-Type"]})
                if hub.answer == 202 and form.get("hub.mode") == "subscribe":
                    lease = form.get("hub.lease_seconds")
                    hub.subscriptions[form["hub.callback"]] = HubSubscription(
                        form["hub.topic"], form["hub.callback"], form.get("hub.secret"), int(lease) if lease else None
                    )
                self.send_response(hub.answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll interval: shutdown() waits for it (0.5 s by default, per test).
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def __enter__(self) -> LocalHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- the hub calling the subscriber --------------------------------------------------------

    def verify(self, callback: str, mode: str, topic: str, challenge: str, lease: int | None = None) -> tuple[int, str]:
        params: dict[str, str] = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge}
        if lease is not None:
            params["hub.lease_seconds"] = str(lease)
        return _call(urllib.request.Request(f"{callback}?{urlencode(params)}", method="GET"))

    def publish(
        self, callback: str, body: bytes, *, secret: str | None, headers: Mapping[str, str] | None = None
    ) -> tuple[int, str]:
        sent = {"Content-Type": "application/rss+xml", **(headers or {})}
        if secret is not None:
            sent["X-Hub-Signature"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return _call(urllib.request.Request(callback, data=body, headers=sent, method="POST"))


def _call(request: urllib.request.Request) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # 127.0.0.1 only
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()

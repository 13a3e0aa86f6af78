"""The internet stand-in for the local run: bundled sample feeds and a CoinGecko-shaped price API.

Feeds are served with ETag and Last-Modified and answer conditional GETs with 304, so a second
fetch round shows the polite path. Unknown paths are 404 (the sample "Gone Gazette" source uses
that to show a failing source being recorded without stopping the others).

With a `hub_url` (the local run's `SampleHub`), the feeds under `/pushed/` (samples/pushed) are
served too, each naming that hub and itself in `Link` headers (WebSub 4, header discovery), so
the fetcher subscribes to them.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

SAMPLES = Path(__file__).resolve().parent / "samples"
STARTED = formatdate(time.time(), usegmt=True)


class _Handler(BaseHTTPRequestHandler):
    server_version = "NewsroomSamples/1.0"

    def log_message(self, format: str, *args: object) -> None:  # quiet: the local run prints its own progress
        return

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/api/v3/simple/price":
            data = json.loads((SAMPLES / "coingecko-simple-price.json").read_text())
            now = int(time.time())
            for coin in data.values():
                coin["last_updated_at"] = now
            self._send(200, json.dumps(data).encode(), "application/json")
            return
        hub_url = getattr(self.server, "hub_url", None)
        folder = "feeds" if path.startswith("/feeds/") else "pushed" if path.startswith("/pushed/") and hub_url else ""
        if folder:
            file = SAMPLES / folder / Path(path).name
            if file.is_file() and file.suffix == ".xml":
                body = file.read_bytes()
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                validators = {"ETag": etag, "Last-Modified": STARTED}
                if folder == "pushed":
                    host, port = cast(tuple[str, int], self.server.server_address)[:2]
                    self_url = f"http://{host}:{port}{path}"
                    validators["Link"] = f'<{hub_url}>; rel="hub", <{self_url}>; rel="self"'
                if self.headers.get("If-None-Match") == etag:
                    self._send(304, b"", "application/rss+xml", validators)
                    return
                self._send(200, body, "application/xml; charset=utf-8", validators)
                return
        self._send(404, b"not found\n", "text/plain")


class SampleServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, hub_url: str | None = None) -> None:
        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.hub_url = hub_url  # type: ignore[attr-defined]  # read by the handler
        # serve_forever checks for shutdown() once per poll interval (0.5 s by default): every test
        # stack stops its server, and half a second each was most of an end-to-end test's setup.
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SampleServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def sources_file(self, target: Path, *, pushed: bool = False) -> Path:
        """The bundled sources list with its feed URLs pointed at this server; `pushed` adds the
        sources whose feeds name the hub (samples/pushed/sources.json)."""
        data = json.loads((SAMPLES / "sources.json").read_text().replace("{base}", self.base_url))
        if pushed:
            extra = json.loads((SAMPLES / "pushed" / "sources.json").read_text().replace("{base}", self.base_url))
            data["sources"].extend(extra["sources"])
        target.write_text(json.dumps(data, indent=2))
        return target

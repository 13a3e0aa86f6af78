"""A programmable HTTP server on 127.0.0.1 for tests that need a real socket.

Routes are matched on the path without its query string and answer with a `Reply` (status,
headers, body, a delay before answering, optional gzip) or with a function of the recorded
request that returns one. Every request is recorded. Unknown paths get a 404.

    with LocalHTTPServer() as server:
        server.route("/feed", Reply(body=b"<rss/>", headers={"ETag": '"v1"'}))
        http_get(server.url("/feed"), ...)
        assert server.requests[0].headers["user-agent"].startswith("NewsroomBot")

As a pytest fixture named `http_server`: `from tests.httpserver import http_server_fixture  # noqa: F401`
in a test module (or a conftest), then take `http_server: LocalHTTPServer` as an argument.
"""

from __future__ import annotations

import gzip as gzip_module
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

import pytest


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before sending anything
    gzip: bool = False  # compress `body` and say so in Content-Encoding
    # Send the body in pieces of this size with `chunk_delay` between them (0: all at once).
    chunk_size: int = 0
    chunk_delay: float = 0.0
    # Leave out Content-Length (the body then ends when the connection closes).
    omit_length: bool = False


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # with the query string
    headers: Mapping[str, str]  # lower-case names


Responder = Reply | Callable[[RecordedRequest], Reply]


class LocalHTTPServer:
    def __init__(self) -> None:
        self._routes: dict[str, Responder] = {}
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _QuietServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def route(self, path: str, responder: Responder) -> None:
        with self._lock:
            self._routes[path] = responder

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def start(self) -> LocalHTTPServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LocalHTTPServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _record(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self._requests.append(request)
            responder = self._routes.get(urlsplit(request.path).path)
        if responder is None:
            return Reply(status=404, body=b"no such route")
        if isinstance(responder, Reply):
            return responder
        return responder(request)

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless the server is stopping; False when it is (the handler should give up)."""
        return not self._stopping.wait(seconds) if seconds > 0 else True


class _QuietServer(ThreadingHTTPServer):
    # socketserver's default listen backlog is 5: a hundred clients connecting at once would see
    # SYNs dropped and retried a second later, which measures the kernel, not the code under test.
    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients in these tests hang up on purpose (caps, timeouts); that is not a server bug.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


def _make_handler(server: LocalHTTPServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; with Nagle on, the body waits for the
        # client's delayed ACK (~40 ms per response), which would dominate every timing here.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            recorded = RecordedRequest(
                method="GET",
                path=self.path,
                headers={name.lower(): value for name, value in self.headers.items()},
            )
            reply = server._record(recorded)
            if not server._sleep(reply.delay):
                return
            body = gzip_module.compress(reply.body) if reply.gzip else reply.body
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.gzip:
                    self.send_header("Content-Encoding", "gzip")
                if reply.omit_length:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                else:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self._write_body(body, reply)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _write_body(self, body: bytes, reply: Reply) -> None:
            if reply.status in (204, 304) or not body:
                return
            if reply.chunk_size <= 0:
                self.wfile.write(body)
                return
            for start in range(0, len(body), reply.chunk_size):
                self.wfile.write(body[start : start + reply.chunk_size])
                self.wfile.flush()
                if not server._sleep(reply.chunk_delay):
                    return

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

    return Handler


@pytest.fixture(name="http_server")
def http_server_fixture() -> Iterator[LocalHTTPServer]:
    with LocalHTTPServer() as server:
        yield server

"""http_get against a real local server: validators, decompression, caps, timeouts, redirects, SSRF."""

from __future__ import annotations

import gzip
import ipaddress
import socket
import struct
import threading
import time
import tracemalloc
import zlib
from pathlib import Path

import pytest

from newsroom.fetch import addresses
from newsroom.fetch import http as http_module
from newsroom.fetch.addresses import parse_ip_literal
from newsroom.fetch.http import FetchError, FetchPolicy, http_get, make_pool
from tests.httpserver import LocalHTTPServer, RecordedRequest, Reply, http_server_fixture  # noqa: F401

LOCAL = FetchPolicy(connect_timeout=2.0, read_timeout=2.0, allow_private=True)
PUBLIC_ONLY = FetchPolicy(connect_timeout=2.0, read_timeout=2.0, allow_private=False)
FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'


def never_resolve(host: str) -> list[str]:
    raise AssertionError(f"a literal address must not be resolved, got {host!r}")


def test_plain_get_sends_polite_headers_and_lowercases_response_headers(http_server: LocalHTTPServer) -> None:
    http_server.route("/feed", Reply(body=FEED, headers={"Content-Type": "application/rss+xml", "X-Thing": "a"}))

    result = http_get(http_server.url("/feed"), LOCAL, pool=make_pool())

    assert result.status == 200
    assert result.body == FEED
    assert result.url == http_server.url("/feed")
    assert result.headers["content-type"] == "application/rss+xml"
    assert result.headers["x-thing"] == "a"
    assert not result.not_modified
    assert result.permanent_redirect_to is None
    sent = http_server.requests[0].headers
    assert sent["user-agent"] == LOCAL.user_agent
    assert sent["accept-encoding"] == "gzip, deflate"
    assert "application/rss+xml" in sent["accept"]
    assert "if-none-match" not in sent
    assert "if-modified-since" not in sent


def test_conditional_get_sends_validators_and_304_is_not_modified(http_server: LocalHTTPServer) -> None:
    last_modified = "Fri, 12 Dec 2025 22:20:18 GMT"

    def conditional(request: RecordedRequest) -> Reply:
        if request.headers.get("if-none-match") == '"v1"':
            return Reply(status=304, headers={"ETag": '"v1"'})
        return Reply(body=FEED, headers={"ETag": '"v1"', "Last-Modified": last_modified})

    http_server.route("/feed", conditional)

    first = http_get(http_server.url("/feed"), LOCAL)
    assert (first.status, first.etag, first.last_modified) == (200, '"v1"', last_modified)

    second = http_get(http_server.url("/feed"), LOCAL, etag=first.etag, last_modified=first.last_modified)

    assert second.status == 304
    assert second.not_modified
    assert second.body == b""
    assert second.etag == '"v1"'
    assert second.last_modified == last_modified  # kept from the request: the 304 did not repeat it
    sent = http_server.requests[1].headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == last_modified


def test_gzip_body_is_decompressed(http_server: LocalHTTPServer) -> None:
    http_server.route("/feed", Reply(body=FEED * 50, gzip=True))

    result = http_get(http_server.url("/feed"), LOCAL)

    assert result.headers["content-encoding"] == "gzip"
    assert result.body == FEED * 50


@pytest.mark.parametrize(
    "compressed",
    [
        pytest.param(zlib.compress(FEED), id="zlib-wrapped deflate"),
        pytest.param(zlib.compress(FEED)[2:-4], id="raw deflate"),
    ],
)
def test_deflate_body_is_decompressed(http_server: LocalHTTPServer, compressed: bytes) -> None:
    http_server.route("/feed", Reply(body=compressed, headers={"Content-Encoding": "deflate"}))

    assert http_get(http_server.url("/feed"), LOCAL).body == FEED


def test_concatenated_gzip_members_are_all_decoded(http_server: LocalHTTPServer) -> None:
    body = gzip.compress(b"first half ") + gzip.compress(b"second half")
    http_server.route("/feed", Reply(body=body, headers={"Content-Encoding": "gzip"}))

    assert http_get(http_server.url("/feed"), LOCAL).body == b"first half second half"


def test_corrupt_gzip_is_bad_encoding(http_server: LocalHTTPServer) -> None:
    http_server.route("/feed", Reply(body=b"this is not gzip at all", headers={"Content-Encoding": "gzip"}))

    with pytest.raises(FetchError) as caught:
        http_get(http_server.url("/feed"), LOCAL)
    assert caught.value.reason == "bad-encoding"


def _gzip_bomb(decompressed_size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1024 * 1024)
    parts = [compressor.compress(block) for _ in range(decompressed_size // len(block))]
    parts.append(compressor.flush())
    return b"".join(parts)


def test_gzip_bomb_stops_at_the_decompressed_cap(http_server: LocalHTTPServer) -> None:
    bomb = _gzip_bomb(64 * 1024 * 1024)  # 64 MiB of zeros in about 64 KB
    assert len(bomb) < 128 * 1024
    http_server.route("/bomb", Reply(body=bomb, headers={"Content-Encoding": "gzip"}))
    cap = 1024 * 1024
    policy = FetchPolicy(read_timeout=2.0, allow_private=True, max_bytes=cap)

    tracemalloc.start()
    try:
        with pytest.raises(FetchError) as caught:
            http_get(http_server.url("/bomb"), policy)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert caught.value.reason == "too-large"
    # Decompression is bounded per read: memory stays near the cap, nowhere near 64 MiB.
    assert peak < 4 * cap


@pytest.mark.parametrize("omit_length", [False, True], ids=["with Content-Length", "streamed to close"])
def test_oversize_plain_body_stops_at_cap(http_server: LocalHTTPServer, omit_length: bool) -> None:
    http_server.route("/big", Reply(body=b"x" * 300_000, omit_length=omit_length))
    policy = FetchPolicy(read_timeout=2.0, allow_private=True, max_bytes=100_000)

    with pytest.raises(FetchError) as caught:
        http_get(http_server.url("/big"), policy)
    assert caught.value.reason == "too-large"


def test_body_exactly_at_cap_is_accepted(http_server: LocalHTTPServer) -> None:
    http_server.route("/fits", Reply(body=b"y" * 50_000, gzip=True))
    policy = FetchPolicy(read_timeout=2.0, allow_private=True, max_bytes=50_000)

    assert len(http_get(http_server.url("/fits"), policy).body) == 50_000


def test_slow_server_times_out_quickly(http_server: LocalHTTPServer) -> None:
    http_server.route("/slow", Reply(body=FEED, delay=5.0))
    policy = FetchPolicy(connect_timeout=1.0, read_timeout=0.3, allow_private=True)

    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        http_get(http_server.url("/slow"), policy)

    assert caught.value.reason == "timeout"
    assert time.monotonic() - started < 1.5


def test_dripping_body_hits_total_time_limit(http_server: LocalHTTPServer) -> None:
    # Every single read is fast, so only the total limit can stop this.
    http_server.route("/drip", Reply(body=b"z" * 200, chunk_size=1, chunk_delay=0.05))
    policy = FetchPolicy(read_timeout=1.0, total_timeout=0.5, allow_private=True)

    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        http_get(http_server.url("/drip"), policy)

    assert caught.value.reason == "timeout"
    assert time.monotonic() - started < 2.0


class _TricklingServer:
    """Reads the request, then sends the status line and headers one byte at a time, with a
    pause between bytes: each read is quick, so only a deadline that covers headers stops it."""

    def __init__(self, pause: float) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.pause = pause
        self.bytes_sent = 0
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/feed"

    def close(self) -> None:
        self._sock.close()

    def _serve(self) -> None:
        try:
            conn, _ = self._sock.accept()
        except OSError:
            return
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            head = b"HTTP/1.1 200 OK\r\n" + b"X-Padding: " + b"p" * 400 + b"\r\nContent-Length: 0\r\n\r\n"
            try:
                for byte in head:
                    conn.sendall(bytes([byte]))
                    self.bytes_sent += 1
                    time.sleep(self.pause)
            except OSError:
                return


def test_the_total_time_limit_covers_a_status_line_and_headers_sent_a_byte_at_a_time() -> None:
    # Issue 14: each header byte arrived well inside the read timeout, so a fetch was held for
    # the whole trickle (74 s against a 25 s limit). One deadline runs from connect to last byte.
    server = _TricklingServer(pause=0.02)
    policy = FetchPolicy(connect_timeout=1.0, read_timeout=1.0, total_timeout=0.3, allow_private=True)
    try:
        started = time.monotonic()
        with pytest.raises(FetchError) as caught:
            http_get(server.url, policy, pool=make_pool())
        elapsed = time.monotonic() - started
    finally:
        server.close()

    assert caught.value.reason == "timeout"
    assert elapsed < 1.0  # the trickle alone takes 9 s
    assert server.bytes_sent < 200


class _TricklingTLSServer:
    """Accepts, reads the ClientHello, then answers with the header of a 16 KB TLS handshake
    record and trickles its body (`limit` bytes at most), a byte per `pause`: the handshake's
    reads each succeed, so only the fetch's deadline can stop it."""

    def __init__(self, pause: float, limit: int) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.pause = pause
        self.limit = limit
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self._sock.getsockname()[1]}/feed"

    def close(self) -> None:
        self._sock.close()

    def _serve(self) -> None:
        try:
            conn, _ = self._sock.accept()
        except OSError:
            return
        with conn:
            try:
                conn.recv(4096)
                conn.sendall(b"\x16\x03\x03\x40\x00\x02")
                for _ in range(self.limit):
                    conn.sendall(b"\x00")
                    time.sleep(self.pause)
            except OSError:
                return


def test_the_total_time_limit_covers_a_tls_handshake_sent_a_byte_at_a_time() -> None:
    # A guard, not a fix: CPython bounds the whole handshake by the socket timeout (one deadline
    # for all its reads), and `_send` caps that timeout at what is left of the fetch.
    server = _TricklingTLSServer(pause=0.02, limit=150)
    policy = FetchPolicy(connect_timeout=1.0, read_timeout=1.0, total_timeout=0.3, allow_private=True)
    try:
        started = time.monotonic()
        with pytest.raises(FetchError) as caught:
            http_get(server.url, policy, pool=make_pool())
        elapsed = time.monotonic() - started
    finally:
        server.close()

    assert caught.value.reason == "timeout"
    assert elapsed < 1.0  # the trickle alone takes 3 s


def test_permanent_redirect_is_followed_and_recorded(http_server: LocalHTTPServer) -> None:
    http_server.route("/old", Reply(status=301, headers={"Location": "/new"}))
    http_server.route("/new", Reply(body=FEED))

    result = http_get(http_server.url("/old"), LOCAL)

    assert result.body == FEED
    assert result.url == http_server.url("/new")
    assert result.permanent_redirect_to == http_server.url("/new")
    assert [request.path for request in http_server.requests] == ["/old", "/new"]


def test_temporary_redirect_after_permanent_one_keeps_only_the_permanent_target(
    http_server: LocalHTTPServer,
) -> None:
    http_server.route("/a", Reply(status=308, headers={"Location": http_server.url("/b")}))
    http_server.route("/b", Reply(status=302, headers={"Location": "/c"}))
    http_server.route("/c", Reply(status=301, headers={"Location": "/d"}))
    http_server.route("/d", Reply(body=FEED))

    result = http_get(http_server.url("/a"), LOCAL)

    assert result.url == http_server.url("/d")
    assert result.permanent_redirect_to == http_server.url("/b")


def test_temporary_redirect_is_not_recorded(http_server: LocalHTTPServer) -> None:
    http_server.route("/old", Reply(status=302, headers={"Location": "/new"}))
    http_server.route("/new", Reply(body=FEED))

    result = http_get(http_server.url("/old"), LOCAL)

    assert result.url == http_server.url("/new")
    assert result.permanent_redirect_to is None


def test_redirect_loop_is_stopped(http_server: LocalHTTPServer) -> None:
    http_server.route("/a", Reply(status=302, headers={"Location": "/b"}))
    http_server.route("/b", Reply(status=301, headers={"Location": "/a"}))

    with pytest.raises(FetchError) as caught:
        http_get(http_server.url("/a"), LOCAL)

    assert caught.value.reason == "redirect-loop"
    assert len(http_server.requests) == 2


def test_too_many_redirects_are_stopped(http_server: LocalHTTPServer) -> None:
    for hop in range(10):
        http_server.route(f"/{hop}", Reply(status=302, headers={"Location": f"/{hop + 1}"}))
    policy = FetchPolicy(read_timeout=2.0, allow_private=True, max_redirects=3)

    with pytest.raises(FetchError) as caught:
        http_get(http_server.url("/0"), policy)

    assert caught.value.reason == "too-many-redirects"
    assert len(http_server.requests) == 4


def test_redirect_without_location_is_an_error(http_server: LocalHTTPServer) -> None:
    http_server.route("/a", Reply(status=301))

    with pytest.raises(FetchError) as caught:
        http_get(http_server.url("/a"), LOCAL)
    assert caught.value.reason == "bad-redirect"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/feed.xml",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "gopher://example.com/",
        "example.com/feed",
    ],
)
def test_non_http_scheme_is_refused(url: str) -> None:
    with pytest.raises(FetchError) as caught:
        http_get(url, PUBLIC_ONLY, resolver=never_resolve)
    assert caught.value.reason == "bad-scheme"


@pytest.mark.parametrize("url", ["http:///feed", "http://[::1/feed", "https://exa mple.com:99999/"])
def test_malformed_url_is_bad_url(url: str) -> None:
    with pytest.raises(FetchError) as caught:
        http_get(url, PUBLIC_ONLY, resolver=never_resolve)
    assert caught.value.reason == "bad-url"


def test_malformed_redirect_location_is_refused(http_server: LocalHTTPServer) -> None:
    http_server.route("/a", Reply(status=302, headers={"Location": "http://[zz/feed"}))

    with pytest.raises(FetchError) as caught:
        http_get(http_server.url("/a"), LOCAL)
    assert caught.value.reason == "bad-redirect"


def test_redirect_to_non_http_scheme_is_refused(http_server: LocalHTTPServer) -> None:
    http_server.route("/a", Reply(status=302, headers={"Location": "file:///etc/passwd"}))

    with pytest.raises(FetchError) as caught:
        http_get(http_server.url("/a"), LOCAL)
    assert caught.value.reason == "bad-scheme"


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:{port}",
        "10.0.0.1",
        "169.254.169.254",
        "[::ffff:127.0.0.1]:{port}",
        "2130706433:{port}",  # 127.0.0.1 as one decimal number
        "0177.0.0.1:{port}",  # octal first part
        "0x7f.1:{port}",  # hex, two-part form
        "127.1:{port}",
        "127.0.0.1.:{port}",  # trailing dot
        "[::1]:{port}",
        "0.0.0.0:{port}",
        "[::]:{port}",
        "[fd00:ec2::254]",
        "[64:ff9b::a00:1]",  # NAT64 spelling of 10.0.0.1
        "[2002:a00:1::]",  # 6to4 wrapping 10.0.0.1
        "100.64.0.1",  # shared address space (CGNAT)
        "224.0.0.1",  # multicast
        "240.0.0.1",  # reserved
        "192.168.1.1",
        "172.16.0.1",
    ],
)
def test_private_addresses_are_refused_without_connecting(http_server: LocalHTTPServer, host: str) -> None:
    url = f"http://{host.format(port=http_server.port)}/feed"
    http_server.route("/feed", Reply(body=FEED))

    with pytest.raises(FetchError) as caught:
        http_get(url, PUBLIC_ONLY, resolver=never_resolve)

    assert caught.value.reason == "blocked-address"
    assert http_server.requests == []


@pytest.mark.parametrize(
    "addresses",
    [["10.1.2.3"], ["93.184.216.34", "127.0.0.1"], ["::ffff:169.254.169.254"], ["fe80::1%1"]],
)
def test_hostname_resolving_to_any_private_address_is_refused(addresses: list[str]) -> None:
    asked: list[str] = []

    def resolver(host: str) -> list[str]:
        asked.append(host)
        return addresses

    with pytest.raises(FetchError) as caught:
        http_get("https://feeds.example.test/rss", PUBLIC_ONLY, resolver=resolver)

    assert caught.value.reason == "blocked-address"
    assert asked == ["feeds.example.test"]


def test_localhost_is_refused_with_the_real_resolver(http_server: LocalHTTPServer) -> None:
    http_server.route("/feed", Reply(body=FEED))

    with pytest.raises(FetchError) as caught:
        http_get(f"http://localhost:{http_server.port}/feed", PUBLIC_ONLY)

    assert caught.value.reason == "blocked-address"
    assert http_server.requests == []


def test_resolution_failure_is_dns_error() -> None:
    def failing(host: str) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(FetchError) as caught:
        http_get("https://no-such-host.example.test/", PUBLIC_ONLY, resolver=failing)
    assert caught.value.reason == "dns"


@pytest.fixture
def loopback_is_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """Treat exactly 127.0.0.1 as a public address, so a deployed-mode (PUBLIC_ONLY) fetch can
    reach the local server; every other address keeps the real rule."""
    real = addresses.is_forbidden_address

    def patched(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return False if address == ipaddress.ip_address("127.0.0.1") else real(address)

    monkeypatch.setattr(addresses, "is_forbidden_address", patched)


def test_every_redirect_hop_is_validated(http_server: LocalHTTPServer, loopback_is_public: None) -> None:
    # "feeds.example.test" resolves to the (public, for this test) local server, which then
    # redirects to the metadata service, to another loopback address and to a name that now
    # resolves inside: each hop is validated again and refused before any connection.
    answers = {"feeds.example.test": ["127.0.0.1"], "inside.example.test": ["10.0.0.7"]}

    def resolver(host: str) -> list[str]:
        return answers[host]

    port = http_server.port
    http_server.route("/meta", Reply(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}))
    http_server.route("/loop", Reply(status=301, headers={"Location": f"http://127.0.0.2:{port}/secret"}))
    http_server.route("/name", Reply(status=307, headers={"Location": f"http://inside.example.test:{port}/secret"}))
    http_server.route("/secret", Reply(body=b"internal"))

    for path in ("/meta", "/loop", "/name"):
        with pytest.raises(FetchError) as caught:
            http_get(f"http://feeds.example.test:{port}{path}", PUBLIC_ONLY, resolver=resolver)
        assert caught.value.reason == "blocked-address"

    assert [request.path for request in http_server.requests] == ["/meta", "/loop", "/name"]


def test_dns_rebinding_cannot_redirect_the_connection(
    http_server: LocalHTTPServer, loopback_is_public: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The attacker's DNS answers a public address to the check and 169.254.169.254 to anyone
    # asking after that. The fetch must resolve once and connect to the address it validated.
    http_server.route("/feed", Reply(body=FEED))
    asked: list[str] = []

    def rebinding(host: str) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"] if len(asked) == 1 else ["169.254.169.254"]

    system_lookups: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def system_resolver(host: object, *args: object, **kwargs: object) -> object:
        if isinstance(host, str) and parse_ip_literal(host) is None:
            system_lookups.append(host)
            return real_getaddrinfo("169.254.169.254", *args, **kwargs)  # type: ignore[arg-type]
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", system_resolver)
    url = f"http://rebind.example.test:{http_server.port}/feed"

    result = http_get(url, PUBLIC_ONLY, resolver=rebinding, pool=make_pool())

    assert result.body == FEED
    assert asked == ["rebind.example.test"]  # one resolution, the one that was validated
    assert system_lookups == []  # urllib3 never resolved the name on its own
    assert http_server.requests[0].headers["host"] == f"rebind.example.test:{http_server.port}"

    # The next fetch resolves again, gets the internal answer and is refused before connecting.
    with pytest.raises(FetchError) as caught:
        http_get(url, PUBLIC_ONLY, resolver=rebinding, pool=make_pool())
    assert caught.value.reason == "blocked-address"
    assert len(http_server.requests) == 1


def test_addresses_are_tried_in_order_when_one_refuses(http_server: LocalHTTPServer) -> None:
    # "localhost" often answers ::1 first; a server listening on IPv4 only is still reached.
    http_server.route("/feed", Reply(body=FEED))

    result = http_get(
        f"http://dual.example.test:{http_server.port}/feed", LOCAL, resolver=lambda host: ["::1", "127.0.0.1"]
    )

    assert result.body == FEED
    assert http_server.requests[0].headers["host"] == f"dual.example.test:{http_server.port}"


def test_default_port_is_left_out_of_the_host_header(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, str]] = []

    class FakePool:
        def urlopen(self, method: str, url: str, headers: dict[str, str], **kwargs: object) -> object:
            sent.append(headers)
            raise http_module.NewConnectionError(None, "refused")  # type: ignore[arg-type]

    class FakeManager:
        def connection_from_host(self, host: str, port: int, scheme: str, pool_kwargs: dict[str, str]) -> FakePool:
            sent.append({"dial": f"{scheme}://{host}:{port}", **pool_kwargs})
            return FakePool()

    with pytest.raises(FetchError):
        http_get(
            "https://news.example.test:443/rss",
            PUBLIC_ONLY,
            resolver=lambda host: ["93.184.216.34"],
            pool=FakeManager(),  # type: ignore[arg-type]
        )
    dial, headers = sent
    assert dial == {
        "dial": "https://93.184.216.34:443",
        "server_hostname": "news.example.test",
        "assert_hostname": "news.example.test",
    }
    assert headers["Host"] == "news.example.test"


def test_template_never_allows_private_networks() -> None:
    template = (Path(__file__).resolve().parents[2] / "template.yaml").read_text(encoding="utf-8")
    assert "ALLOW_PRIVATE_NETWORK" not in template


@pytest.mark.parametrize("status", [404, 410, 500, 503])
def test_error_status_raises_http_reason(http_server: LocalHTTPServer, status: int) -> None:
    http_server.route("/feed", Reply(status=status, body=b"nope"))

    with pytest.raises(FetchError) as caught:
        http_get(http_server.url("/feed"), LOCAL)

    assert caught.value.reason == f"http-{status}"
    assert caught.value.status == status


def test_429_keeps_retry_after(http_server: LocalHTTPServer) -> None:
    http_server.route("/feed", Reply(status=429, headers={"Retry-After": "120"}))

    with pytest.raises(FetchError) as caught:
        http_get(http_server.url("/feed"), LOCAL)

    assert caught.value.reason == "http-429"
    assert caught.value.retry_after == "120"
    assert "Retry-After: 120" in str(caught.value)


def test_connection_refused_is_connection_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    with pytest.raises(FetchError) as caught:
        http_get(f"http://127.0.0.1:{closed_port}/", LOCAL)
    assert caught.value.reason == "connection"


def test_unsupported_content_encoding_is_refused(http_server: LocalHTTPServer) -> None:
    http_server.route("/feed", Reply(body=b"\x00\x01", headers={"Content-Encoding": "br"}))

    with pytest.raises(FetchError) as caught:
        http_get(http_server.url("/feed"), LOCAL)
    assert caught.value.reason == "bad-encoding"


def test_pool_is_reused_across_requests(http_server: LocalHTTPServer) -> None:
    http_server.route("/feed", Reply(body=FEED))
    pool = make_pool()

    for _ in range(3):
        assert http_get(http_server.url("/feed"), LOCAL, pool=pool).body == FEED
    assert len(http_server.requests) == 3


def test_public_address_passes_validation_and_then_connects() -> None:
    # Validation passes for a public literal; the test guard then refuses the real connect,
    # which proves the address check is what stopped the private cases above.
    with pytest.raises(FetchError) as caught:
        http_get("http://93.184.216.34/", PUBLIC_ONLY, resolver=never_resolve)
    assert caught.value.reason == "connection"


class _OneRequestPerConnection:
    """Answers the first request on a connection with keep-alive implied, then closes the
    connection when a second request arrives on it, unanswered: the race where a server's idle
    timeout closes a kept-alive connection just as the client reuses it, made deterministic.
    `reset=True` answers every request on a new connection with a TCP reset instead."""

    def __init__(self, *, reset_fresh: bool = False) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.reset_fresh = reset_fresh
        self.connections = 0
        self.answered = 0
        self._threads: list[threading.Thread] = []
        accept = threading.Thread(target=self._accept, daemon=True)
        accept.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/feed"

    def close(self) -> None:
        self._sock.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _read_request(self, conn: socket.socket) -> bool:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return False
            data += chunk
        return True

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            if not self._read_request(conn):
                return
            if self.reset_fresh:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            self.answered += 1  # before the answer, so the client never sees it uncounted
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(FEED), FEED))
            self._read_request(conn)  # the reuse: closed without an answer


def test_a_kept_alive_connection_closed_under_the_request_is_retried_once_on_a_new_one() -> None:
    server = _OneRequestPerConnection()
    pool = make_pool()
    try:
        assert http_get(server.url, LOCAL, pool=pool).body == FEED
        # The second GET takes the pooled connection (still open, so urllib3's check passes),
        # the server closes it unanswered, and the GET goes again on a new connection.
        assert http_get(server.url, LOCAL, pool=pool).body == FEED
        assert server.connections == 2
        assert server.answered == 2
    finally:
        server.close()


def test_a_new_connection_reset_is_not_retried() -> None:
    server = _OneRequestPerConnection(reset_fresh=True)
    try:
        with pytest.raises(FetchError) as caught:
            http_get(server.url, LOCAL, pool=make_pool())
        assert caught.value.reason == "connection"
        assert server.connections == 1
    finally:
        server.close()

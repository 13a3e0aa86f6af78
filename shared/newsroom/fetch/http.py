"""A polite, bounded HTTP GET for feeds and price APIs.

Rules this module keeps, whoever calls it:

- Only `http` and `https` URLs are fetched. Redirects are followed by hand, at most
  `max_redirects` hops, and every hop is validated again exactly like the first URL, because a
  public URL may redirect to an internal one. A URL seen twice in one chain is a loop.
- Unless the policy allows private addresses, the host is resolved and refused ("blocked-address")
  when any of its addresses is not publicly routable: private, loopback, link-local, multicast,
  reserved, unspecified, shared (CGNAT) and cloud-metadata addresses, including IPv4 addresses
  hidden inside IPv6 (IPv4-mapped, NAT64, 6to4, Teredo) and the legacy numeric spellings the C
  resolver accepts ("2130706433", "0177.0.0.1", "0x7f.1"). The host is checked as urllib3 parses
  it, so the check and the connection cannot disagree about which host is meant. The resolver is
  injectable.
- The host is resolved exactly once per hop and the connection goes to the *validated address*
  (a connection pool per resolved IP, with the `Host` header and the TLS SNI/certificate name
  set to the URL's host), so a DNS answer that changes between the check and the connect (DNS
  rebinding) can never steer us to an internal address. Addresses are tried in resolver order
  when one refuses the connection.
- The body is capped at `max_bytes` *after* decompression, while streaming: decompression is
  bounded per chunk, so a gzip bomb costs at most the cap plus one chunk of memory.
- Connect and read timeouts apply to each socket operation; `total_timeout` is one deadline
  carried from the first connection to the last byte, through redirects, the status line and
  headers as well as the body: every read waits at most for what is left of it, so a server that
  drips one byte per second (headers included) cannot hold a Lambda invocation hostage.
- Conditional GET: validators are sent when given, and a 304 comes back as `not_modified` with an
  empty body (keeping the validators we sent when the 304 does not repeat them).
- A kept-alive connection that the server closed under our request (no answer at all) is
  retried once on a new connection, as browsers and Go's net/http do; a failure on a new
  connection is never retried, so a broken server is asked once per poll.
- Every failure is a `FetchError` with a short machine `reason` ("timeout", "too-large",
  "http-404", "blocked-address", ...) and a readable message; nothing else escapes.
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import socket
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol
from urllib.parse import urldefrag, urljoin

import urllib3
import urllib3.connection
from urllib3.exceptions import (
    HTTPError,
    LocationValueError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    SSLError,
)
from urllib3.exceptions import TimeoutError as Urllib3TimeoutError
from urllib3.util import parse_url

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], list[str]]

DEFAULT_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
ALLOWED_SCHEMES = frozenset({"http", "https"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECT_STATUSES = frozenset({301, 308})

# Raw bytes read per step. Small enough that one step of decompression stays bounded, large
# enough that a typical 100 KB feed takes a handful of reads.
_CHUNK_BYTES = 16 * 1024
# A redirect or error body up to this size is read and thrown away so the keep-alive connection
# can be reused; anything larger (or of unknown length) is cheaper to drop with the connection.
_DRAIN_LIMIT_BYTES = 64 * 1024

# Metadata endpoints are named explicitly even where a broader rule also covers them, so that a
# future loosening of the broad rules cannot quietly reopen them.
_METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
        ipaddress.ip_address("169.254.170.2"),  # ECS task metadata
        ipaddress.ip_address("fd00:ec2::254"),  # AWS IMDS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)
_NAT64_PREFIXES = (
    ipaddress.ip_network("64:ff9b::/96"),
    ipaddress.ip_network("64:ff9b:1::/48"),
)


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    max_bytes: int = 5 * 1024 * 1024
    user_agent: str = "NewsroomBot/1.0 (+https://cryptocompass.example/crawler)"
    allow_private: bool = False
    max_redirects: int = 5
    total_timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.connect_timeout <= 0 or self.read_timeout <= 0 or self.total_timeout <= 0:
            raise ValueError("timeouts must be positive")
        if self.max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        if self.max_redirects < 0:
            raise ValueError("max_redirects must not be negative")


@dataclass(frozen=True, slots=True)
class HttpResult:
    status: int
    url: str  # the final URL, after redirects
    body: bytes
    headers: Mapping[str, str]  # lower-case names; repeated headers joined with ", "
    not_modified: bool
    etag: str | None
    last_modified: str | None
    # Where a leading chain of 301/308 redirects ended: the URL to poll from now on.
    permanent_redirect_to: str | None


class FetchError(Exception):
    """A fetch that produced no usable response; `reason` is short and stable for metrics."""

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        retry_after: str | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.url = url
        self.status = status
        self.retry_after = retry_after


class _ConnectionReuse(threading.local):
    """Per thread: did the last connection taken from a pool come kept-alive, and must the next
    one be new. Threads, because a fetch round polls its sources on a thread pool."""

    reused: bool = False
    fresh_only: bool = False


_reuse = _ConnectionReuse()


class _ReuseAwareMixin:
    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        if _reuse.fresh_only and conn.sock is not None:
            conn.close()  # reopened by the request, on a new socket
        _reuse.reused = conn.sock is not None
        return conn


class _FetchClock(threading.local):
    """Per thread: the deadline of the fetch in progress (monotonic seconds), None outside one."""

    deadline: float | None = None


_clock = _FetchClock()


class _DeadlineReader(io.RawIOBase):
    """The socket as a response reads it, every read given what is left of the fetch's deadline.

    A per-operation read timeout never fires on a server that sends one byte at a time, and
    http.client reads the status line and headers in many small reads before urllib3 hands us a
    response; so each read here waits at most min(read timeout, time left), and none starts once
    the deadline has passed. Status line, headers and body are all read through this."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._raw = sock.makefile("rb", buffering=0)
        self._deadline = deadline
        self._read_timeout = sock.gettimeout()  # what urllib3 set for this request

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("total time limit reached")
        self._sock.settimeout(remaining if self._read_timeout is None else min(self._read_timeout, remaining))
        return self._raw.readinto(buffer)

    def close(self) -> None:
        self._raw.close()
        super().close()


class _DeadlineResponse(http.client.HTTPResponse):
    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        deadline = _clock.deadline
        if deadline is not None:
            self.fp.close()  # the plain reader http.client made; the socket stays open
            self.fp = io.BufferedReader(_DeadlineReader(sock, deadline))


class _DeadlineHTTPConnection(urllib3.connection.HTTPConnection):
    response_class = _DeadlineResponse


class _DeadlineHTTPSConnection(urllib3.connection.HTTPSConnection):
    response_class = _DeadlineResponse


class _HTTPPool(_ReuseAwareMixin, urllib3.HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _HTTPSPool(_ReuseAwareMixin, urllib3.HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


def make_pool() -> urllib3.PoolManager:
    """A connection pool for `http_get`; create one per process and reuse it across invocations."""
    manager = urllib3.PoolManager(num_pools=32, maxsize=4, block=False, retries=False)
    manager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
    return manager


_shared_pool: urllib3.PoolManager | None = None


def shared_pool() -> urllib3.PoolManager:
    """The process-wide pool used when a caller passes none (a warm Lambda keeps it)."""
    global _shared_pool
    if _shared_pool is None:
        _shared_pool = make_pool()
    return _shared_pool


def resolve_host(host: str) -> list[str]:
    """Every address the system resolver gives for `host`, in its order, without duplicates."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def http_get(
    url: str,
    policy: FetchPolicy,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    accept: str = DEFAULT_ACCEPT,
    pool: urllib3.PoolManager | None = None,
    resolver: Resolver = resolve_host,
) -> HttpResult:
    """GET `url` under `policy`; see the module docstring for the rules. Raises FetchError."""
    manager = pool if pool is not None else shared_pool()
    deadline = time.monotonic() + policy.total_timeout
    _clock.deadline = deadline
    try:
        return _get(manager, url, policy, deadline, etag, last_modified, accept, resolver)
    finally:
        _clock.deadline = None


def _get(
    manager: urllib3.PoolManager,
    url: str,
    policy: FetchPolicy,
    deadline: float,
    etag: str | None,
    last_modified: str | None,
    accept: str,
    resolver: Resolver,
) -> HttpResult:
    headers = _request_headers(policy, accept, etag, last_modified)
    current = _without_fragment(url.strip(), url)
    visited: set[str] = set()
    permanent_target: str | None = None
    only_permanent_so_far = True

    for _hop in range(policy.max_redirects + 1):
        if current in visited:
            raise FetchError("redirect-loop", f"redirect loop back to {current}", url=current)
        visited.add(current)
        addresses = check_url(current, policy, resolver)
        response = _send(manager, current, addresses, headers, policy, deadline)
        try:
            status = response.status
            if status in REDIRECT_STATUSES:
                target = _redirect_target(response, current)
                if only_permanent_so_far and status in PERMANENT_REDIRECT_STATUSES:
                    permanent_target = target
                else:
                    only_permanent_so_far = False
                _discard(response)
                current = target
                continue
            if status == 304:
                _discard(response)
                return HttpResult(
                    status=304,
                    url=current,
                    body=b"",
                    headers=_response_headers(response),
                    not_modified=True,
                    etag=response.headers.get("etag") or etag,
                    last_modified=response.headers.get("last-modified") or last_modified,
                    permanent_redirect_to=permanent_target,
                )
            if not 200 <= status < 300:
                _discard(response)
                raise _status_error(response, current)
            body = _read_body(response, policy.max_bytes, deadline, current)
            return HttpResult(
                status=status,
                url=current,
                body=body,
                headers=_response_headers(response),
                not_modified=False,
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                permanent_redirect_to=permanent_target,
            )
        finally:
            response.release_conn()

    raise FetchError("too-many-redirects", f"more than {policy.max_redirects} redirects from {url}", url=current)


def check_url(url: str, policy: FetchPolicy, resolver: Resolver = resolve_host) -> list[IPAddress]:
    """The addresses to connect to for `url`, each validated under `policy` (scheme, then
    address); raises FetchError when the URL may not be fetched. Resolves at most once."""
    try:
        parsed = parse_url(url)
    except LocationValueError as exc:
        raise FetchError("bad-url", f"unparseable URL {url!r}: {exc}", url=url) from exc
    scheme = (parsed.scheme or "").lower()
    if scheme not in ALLOWED_SCHEMES:
        raise FetchError("bad-scheme", f"only http and https are fetched, not {url!r}", url=url)
    if not parsed.host:
        raise FetchError("bad-url", f"no host in URL {url!r}", url=url)
    return _resolve_checked(parsed.host, url, resolver, check=not policy.allow_private)


def is_forbidden_address(address: IPAddress) -> bool:
    """True for any address a crawler must not reach: everything not publicly routable."""
    if address in _METADATA_ADDRESSES:
        return True
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return True  # a zone index only means something on a local link
        if any(is_forbidden_address(inner) for inner in _embedded_ipv4(address)):
            return True
    return (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a host names literally, as the C resolver would read it; None for a name.

    Besides canonical IPv4 and bracketed IPv6 this accepts inet_aton's legacy forms (one to four
    parts, each decimal, 0-prefixed octal or 0x-prefixed hex), because getaddrinfo connects to
    "2130706433" and "0177.0.0.1" without any DNS lookup.
    """
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if text.endswith("."):
        text = text[:-1]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    return _parse_legacy_ipv4(text)


def _parse_legacy_ipv4(text: str) -> ipaddress.IPv4Address | None:
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values: list[int] = []
    for part in parts:
        value = _parse_inet_aton_number(part)
        if value is None:
            return None
        values.append(value)
    # The last part fills all the bytes the earlier parts did not: a, a.b (8.24), a.b.c (8.8.16).
    *leading, last = values
    if any(value > 0xFF for value in leading) or last >= 1 << (8 * (4 - len(leading))):
        return None
    number = 0
    for value in leading:
        number = (number << 8) | value
    number = (number << (8 * (4 - len(leading)))) | last
    return ipaddress.IPv4Address(number)


def _parse_inet_aton_number(part: str) -> int | None:
    lowered = part.lower()
    try:
        if lowered.startswith("0x"):
            return int(lowered[2:], 16) if lowered[2:] else 0
        if not lowered.isdigit() or not lowered.isascii():
            return None
        if len(lowered) > 1 and lowered.startswith("0"):
            return int(lowered, 8)
        return int(lowered, 10)
    except ValueError:
        return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    embedded: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        embedded.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        embedded.append(address.sixtofour)
    if address.teredo is not None:
        embedded.extend(address.teredo)
    if any(address in prefix for prefix in _NAT64_PREFIXES):
        embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return embedded


def _resolve_checked(host: str, url: str, resolver: Resolver, *, check: bool) -> list[IPAddress]:
    literal = parse_ip_literal(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        try:
            resolved = resolver(host)
        except (OSError, UnicodeError) as exc:
            raise FetchError("dns", f"cannot resolve {host}: {exc}", url=url) from exc
        if not resolved:
            raise FetchError("dns", f"{host} resolves to no address", url=url)
        addresses = []
        for text in resolved:
            try:
                addresses.append(ipaddress.ip_address(text))
            except ValueError as exc:
                raise FetchError("blocked-address", f"{host} resolved to unreadable address {text!r}", url=url) from exc
    for address in addresses:
        if check and is_forbidden_address(address):
            raise FetchError("blocked-address", f"{host} is {address}, which is not a public address", url=url)
    return addresses


def _request_headers(policy: FetchPolicy, accept: str, etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {
        "User-Agent": policy.user_agent,
        "Accept": accept,
        "Accept-Encoding": "gzip, deflate",
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def _send(
    manager: urllib3.PoolManager,
    url: str,
    addresses: list[IPAddress],
    headers: Mapping[str, str],
    policy: FetchPolicy,
    deadline: float,
) -> urllib3.BaseHTTPResponse:
    """Send the request to one of the validated `addresses`, never to a fresh DNS answer."""
    parsed = parse_url(url)
    scheme = (parsed.scheme or "http").lower()
    host = parsed.host or ""
    default_port = 443 if scheme == "https" else 80
    port = parsed.port or default_port
    host_header = host if parsed.port in (None, default_port) else f"{host}:{parsed.port}"
    pool_kwargs: dict[str, Any] = {}
    if scheme == "https" and parse_ip_literal(host) is None:
        # SNI and certificate checks use the URL's name, not the address we dial.
        pool_kwargs = {"server_hostname": host, "assert_hostname": host}
    request_headers = {**headers, "Host": host_header}
    last_error: FetchError | None = None
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError("timeout", f"gave up on {url}: total time limit reached", url=url)
        timeout = urllib3.Timeout(
            connect=min(policy.connect_timeout, remaining), read=min(policy.read_timeout, remaining)
        )
        try:
            pool = manager.connection_from_host(str(address), port=port, scheme=scheme, pool_kwargs=pool_kwargs)
            _reuse.reused = False  # set by the pool when it hands out a kept-alive connection
            try:
                return _urlopen(pool, parsed.request_uri, request_headers, timeout)
            except ProtocolError:
                if not _reuse.reused:
                    raise
            # The kept-alive connection had been closed by the server, its FIN crossing our
            # request: nothing was answered, so the GET goes once more on a new connection (what
            # browsers and Go's net/http do). A fresh connection that fails is not retried.
            _reuse.fresh_only = True
            try:
                return _urlopen(pool, parsed.request_uri, request_headers, timeout)
            finally:
                _reuse.fresh_only = False
        except NewConnectionError as exc:
            # This address refuses (an IPv6 answer on an IPv4-only host): try the next one.
            last_error = _transport_error(exc, url)
        except (HTTPError, OSError) as exc:
            raise _transport_error(exc, url) from exc
    raise last_error or FetchError("connection", f"no address to connect to for {url}", url=url)


def _urlopen(
    pool: urllib3.HTTPConnectionPool, request_uri: str, headers: Mapping[str, str], timeout: urllib3.Timeout
) -> urllib3.BaseHTTPResponse:
    return pool.urlopen(
        "GET",
        request_uri,
        headers=headers,
        redirect=False,
        retries=False,
        assert_same_host=False,
        preload_content=False,
        decode_content=False,
        timeout=timeout,
    )


def _transport_error(exc: Exception, url: str) -> FetchError:
    # Order matters: NewConnectionError is a subclass of ConnectTimeoutError in urllib3 2.x.
    if isinstance(exc, NameResolutionError):
        return FetchError("dns", f"cannot resolve host of {url}: {exc}", url=url)
    if isinstance(exc, NewConnectionError):
        return FetchError("connection", f"cannot connect to {url}: {exc}", url=url)
    if isinstance(exc, Urllib3TimeoutError | socket.timeout):
        return FetchError("timeout", f"timed out fetching {url}", url=url)
    if isinstance(exc, SSLError):
        return FetchError("tls", f"TLS failure fetching {url}: {exc}", url=url)
    if isinstance(exc, LocationValueError):
        return FetchError("bad-url", f"unusable URL {url!r}: {exc}", url=url)
    return FetchError("connection", f"connection failed fetching {url}: {exc}", url=url)


def _redirect_target(response: urllib3.BaseHTTPResponse, current: str) -> str:
    location = (response.headers.get("location") or "").strip()
    if not location:
        raise FetchError(
            "bad-redirect",
            f"HTTP {response.status} from {current} without a Location",
            url=current,
            status=response.status,
        )
    try:
        joined = urljoin(current, location)
    except ValueError as exc:
        raise FetchError("bad-redirect", f"unusable Location {location!r} from {current}", url=current) from exc
    return _without_fragment(joined, current)


def _without_fragment(url: str, context: str) -> str:
    try:
        return urldefrag(url).url
    except ValueError as exc:  # urllib.parse rejects e.g. an unclosed IPv6 bracket
        raise FetchError("bad-url", f"unparseable URL {url!r}", url=context) from exc


def _status_error(response: urllib3.BaseHTTPResponse, url: str) -> FetchError:
    status = response.status
    retry_after = response.headers.get("retry-after")
    message = f"HTTP {status} from {url}"
    if retry_after:
        shown = retry_after if len(retry_after) <= 64 else retry_after[:63] + "…"  # the server's, any length
        message += f" (Retry-After: {shown})"
    return FetchError(f"http-{status}", message, url=url, status=status, retry_after=retry_after)


def _discard(response: urllib3.BaseHTTPResponse) -> None:
    """Finish with a response whose body we do not want, keeping the connection when cheap."""
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) <= _DRAIN_LIMIT_BYTES:
        try:
            response.drain_conn()
            return
        except (HTTPError, OSError):
            pass
    response.close()


def _response_headers(response: urllib3.BaseHTTPResponse) -> Mapping[str, str]:
    return MappingProxyType({name.lower(): value for name, value in response.headers.itermerged()})


class _Decoder(Protocol):
    def decode(self, data: bytes, limit: int) -> bytes:
        """Decoded bytes for `data`; stops early once `limit` (>= 1) bytes have been produced."""

    def flush(self) -> bytes: ...


class _IdentityDecoder:
    def decode(self, data: bytes, limit: int) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


class _GzipDecoder:
    """gzip, including several concatenated members; trailing garbage after a member is ignored."""

    _WBITS = 16 + zlib.MAX_WBITS

    def __init__(self) -> None:
        self._inflater = zlib.decompressobj(self._WBITS)
        self._members_done = 0
        self._finished = False

    def decode(self, data: bytes, limit: int) -> bytes:
        produced = bytearray()
        while data and not self._finished:
            if self._inflater.eof:
                self._inflater = zlib.decompressobj(self._WBITS)
                self._members_done += 1
            try:
                # max_length bounds the output of this one call: the heart of bomb safety.
                produced += self._inflater.decompress(data, limit - len(produced))
            except zlib.error:
                if self._members_done == 0:
                    raise
                self._finished = True  # junk after a complete member, as browsers tolerate
                break
            if len(produced) >= limit:
                break
            data = self._inflater.unused_data if self._inflater.eof else b""
        return bytes(produced)

    def flush(self) -> bytes:
        return b"" if self._finished else self._inflater.flush()


class _DeflateDecoder:
    """HTTP "deflate" is meant to be zlib-wrapped, but some servers send raw deflate."""

    def __init__(self) -> None:
        self._inflater = zlib.decompressobj()
        self._first = True

    def decode(self, data: bytes, limit: int) -> bytes:
        if self._first and data:
            self._first = False
            try:
                return self._inflater.decompress(data, limit)
            except zlib.error:
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._inflater.decompress(data, limit)

    def flush(self) -> bytes:
        return self._inflater.flush()


def _make_decoder(content_encoding: str, url: str) -> _Decoder:
    coding = content_encoding.strip().lower()
    if coding in ("", "identity"):
        return _IdentityDecoder()
    if coding in ("gzip", "x-gzip"):
        return _GzipDecoder()
    if coding == "deflate":
        return _DeflateDecoder()
    raise FetchError("bad-encoding", f"unsupported Content-Encoding {content_encoding!r} from {url}", url=url)


def _read_body(response: urllib3.BaseHTTPResponse, max_bytes: int, deadline: float, url: str) -> bytes:
    decoder = _make_decoder(response.headers.get("content-encoding", ""), url)
    declared = response.headers.get("content-length", "")
    if isinstance(decoder, _IdentityDecoder) and declared.isdigit() and int(declared) > max_bytes:
        response.close()
        raise _too_large(url, max_bytes)
    body = bytearray()
    try:
        # read1 makes at most one socket read per call, so the deadline is checked between
        # packets rather than after a whole chunk has trickled in.
        while chunk := response.read1(_CHUNK_BYTES, decode_content=False):
            body += decoder.decode(chunk, max_bytes - len(body) + 1)
            if len(body) > max_bytes:
                response.close()
                raise _too_large(url, max_bytes)
            if time.monotonic() > deadline:
                response.close()
                raise FetchError("timeout", f"gave up reading {url}: total time limit reached", url=url)
        body += decoder.flush()
    except zlib.error as exc:
        response.close()
        raise FetchError("bad-encoding", f"corrupt compressed body from {url}: {exc}", url=url) from exc
    except (HTTPError, OSError) as exc:
        response.close()
        raise _transport_error(exc, url) from exc
    if len(body) > max_bytes:
        raise _too_large(url, max_bytes)
    return bytes(body)


def _too_large(url: str, max_bytes: int) -> FetchError:
    return FetchError("too-large", f"body of {url} exceeds {max_bytes} bytes", url=url)

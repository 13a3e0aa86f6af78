"""A polite, bounded HTTP GET for feeds and price APIs.

Rules this module keeps, whoever calls it:

- Every hop's address is validated before any connection (`addresses`: the SSRF rules), and
  redirects are followed by hand, at most `max_redirects` hops, each validated again exactly like
  the first URL, because a public URL may redirect to an internal one. A URL seen twice in one
  chain is a loop.
- The host is resolved exactly once per hop and the connection goes to the *validated address*
  (a connection pool per resolved IP, with the `Host` header and the TLS SNI/certificate name
  set to the URL's host), so a DNS answer that changes between the check and the connect (DNS
  rebinding) can never steer us to an internal address. Addresses are tried in resolver order
  when one refuses the connection.
- The body is capped at `max_bytes` after decompression, while streaming, and one deadline,
  `total_timeout`, runs from the first connection to the last byte (`body`); connect and read
  timeouts apply to each socket operation.
- Conditional GET: validators are sent when given, and a 304 comes back as `not_modified` with an
  empty body (keeping the validators we sent when the 304 does not repeat them).
- A kept-alive connection that the server closed under our request (no answer at all) is
  retried once on a new connection, as browsers and Go's net/http do; a failure on a new
  connection is never retried, so a broken server is asked once per poll.
- Every failure is a `FetchError` with a short machine `reason` ("timeout", "too-large",
  "http-404", "blocked-address", ...) and a readable message; nothing else escapes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import urldefrag, urlencode, urljoin

import urllib3
import urllib3.connection
from urllib3.exceptions import HTTPError, NewConnectionError, ProtocolError
from urllib3.util import parse_url

from newsroom.fetch.addresses import IPAddress, Resolver, check_url, parse_ip_literal, resolve_host
from newsroom.fetch.body import DeadlineResponse, deadline_clock, read_body
from newsroom.fetch.contract import FetchError, FetchPolicy, transport_error

# FetchPolicy and FetchError are the client's terms: callers import them from here.
__all__ = [
    "DEFAULT_ACCEPT",
    "FetchError",
    "FetchPolicy",
    "HttpResult",
    "http_get",
    "http_post_form",
    "make_pool",
    "shared_pool",
]

DEFAULT_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECT_STATUSES = frozenset({301, 308})

# A redirect or error body up to this size is read and thrown away so the keep-alive connection
# can be reused; anything larger (or of unknown length) is cheaper to drop with the connection.
_DRAIN_LIMIT_BYTES = 64 * 1024


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


class _DeadlineHTTPConnection(urllib3.connection.HTTPConnection):
    response_class = DeadlineResponse


class _DeadlineHTTPSConnection(urllib3.connection.HTTPSConnection):
    response_class = DeadlineResponse


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
    deadline_clock.deadline = deadline
    try:
        return _get(manager, url, policy, deadline, etag, last_modified, accept, resolver)
    finally:
        deadline_clock.deadline = None


def http_post_form(
    url: str,
    fields: Mapping[str, str],
    policy: FetchPolicy,
    *,
    pool: urllib3.PoolManager | None = None,
    resolver: Resolver = resolve_host,
) -> HttpResult:
    """POST `fields` form-encoded to `url` under the same address rules and deadline as a GET
    (a WebSub hub is reached like a feed: http/https, public addresses, validated on every hop).
    A redirect is followed with the same POST, as WebSub's hub redirects ask (the implementation
    report's subscriber tests 203 and 204); any other non-2xx raises FetchError."""
    manager = pool if pool is not None else shared_pool()
    deadline = time.monotonic() + policy.total_timeout
    deadline_clock.deadline = deadline
    body = urlencode(dict(fields)).encode()
    headers = {
        "User-Agent": policy.user_agent,
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept-Encoding": "identity",
    }
    current = _without_fragment(url.strip(), url)
    try:
        for _hop in range(policy.max_redirects + 1):
            response = _send(
                manager, current, check_url(current, policy, resolver), headers, policy, deadline, "POST", body
            )
            try:
                if response.status in REDIRECT_STATUSES:
                    target = _redirect_target(response, current)
                    _discard(response)
                    current = target
                    continue
                if not 200 <= response.status < 300:
                    _discard(response)
                    raise _status_error(response, current)
                answer = read_body(response, min(policy.max_bytes, 64 * 1024), deadline, current)
                return HttpResult(
                    status=response.status,
                    url=current,
                    body=answer,
                    headers=_response_headers(response),
                    not_modified=False,
                    etag=None,
                    last_modified=None,
                    permanent_redirect_to=None,
                )
            finally:
                response.release_conn()
        raise FetchError("too-many-redirects", f"more than {policy.max_redirects} redirects from {url}", url=current)
    finally:
        deadline_clock.deadline = None


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
            body = read_body(response, policy.max_bytes, deadline, current)
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
    method: str = "GET",
    body: bytes | None = None,
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
                return _urlopen(pool, parsed.request_uri, request_headers, timeout, method, body)
            except ProtocolError:
                if not _reuse.reused:
                    raise
            # The kept-alive connection had been closed by the server, its FIN crossing our
            # request: nothing was answered, so the GET goes once more on a new connection (what
            # browsers and Go's net/http do). A fresh connection that fails is not retried.
            _reuse.fresh_only = True
            try:
                return _urlopen(pool, parsed.request_uri, request_headers, timeout, method, body)
            finally:
                _reuse.fresh_only = False
        except NewConnectionError as exc:
            # This address refuses (an IPv6 answer on an IPv4-only host): try the next one.
            last_error = transport_error(exc, url)
        except (HTTPError, OSError) as exc:
            raise transport_error(exc, url) from exc
    raise last_error or FetchError("connection", f"no address to connect to for {url}", url=url)


def _urlopen(
    pool: urllib3.HTTPConnectionPool,
    request_uri: str,
    headers: Mapping[str, str],
    timeout: urllib3.Timeout,
    method: str = "GET",
    body: bytes | None = None,
) -> urllib3.BaseHTTPResponse:
    return pool.urlopen(
        method,
        request_uri,
        body=body,
        headers=headers,
        redirect=False,
        retries=False,
        assert_same_host=False,
        preload_content=False,
        decode_content=False,
        timeout=timeout,
    )


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

"""Reading a response body within bounds: the deadline every socket read obeys, and the
decompression that stops at the size cap.

- The body is capped at `max_bytes` *after* decompression, while streaming: decompression is
  bounded per chunk, so a gzip bomb costs at most the cap plus one chunk of memory.
- `total_timeout` is one deadline carried from the first connection to the last byte, through
  redirects, the status line and headers as well as the body: every read waits at most for what
  is left of it, so a server that drips one byte per second (headers included) cannot hold a
  Lambda invocation hostage. The client sets the deadline (`deadline_clock`) for the fetch in
  progress; its connections read their responses through `DeadlineResponse`.
"""

from __future__ import annotations

import http.client
import io
import socket
import threading
import time
import zlib
from typing import Any, Protocol

import urllib3
from urllib3.exceptions import HTTPError

from newsroom.fetch.contract import FetchError, transport_error

__all__ = ["DeadlineResponse", "deadline_clock", "read_body"]

# Raw bytes read per step. Small enough that one step of decompression stays bounded, large
# enough that a typical 100 KB feed takes a handful of reads.
_CHUNK_BYTES = 16 * 1024


class _FetchClock(threading.local):
    """Per thread: the deadline of the fetch in progress (monotonic seconds), None outside one."""

    deadline: float | None = None


deadline_clock = _FetchClock()


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


class DeadlineResponse(http.client.HTTPResponse):
    """A response read through `_DeadlineReader` when a fetch's deadline is set."""

    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        deadline = deadline_clock.deadline
        if deadline is not None:
            self.fp.close()  # the plain reader http.client made; the socket stays open
            self.fp = io.BufferedReader(_DeadlineReader(sock, deadline))


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


def read_body(response: urllib3.BaseHTTPResponse, max_bytes: int, deadline: float, url: str) -> bytes:
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
        raise transport_error(exc, url) from exc
    if len(body) > max_bytes:
        raise _too_large(url, max_bytes)
    return bytes(body)


def _too_large(url: str, max_bytes: int) -> FetchError:
    return FetchError("too-large", f"body of {url} exceeds {max_bytes} bytes", url=url)

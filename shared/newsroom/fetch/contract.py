"""What every fetch promises its caller: the policy it runs under (`FetchPolicy`) and the one
error it raises (`FetchError`, with a short machine `reason`), including the reasons transport
failures map to. The client (`http`), the address rules (`addresses`) and the body reader
(`body`) all raise it."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass

from urllib3.exceptions import (
    LocationValueError,
    NameResolutionError,
    NewConnectionError,
    SSLError,
)
from urllib3.exceptions import TimeoutError as Urllib3TimeoutError

from newsroom.core.config import FETCH_PARSES_AT_ONCE

__all__ = ["HEAVY_STEPS", "FetchError", "FetchPolicy", "transport_error"]

# One bound for a fetch worker's CPU-heavy steps, a feed's parse and an article page's
# extraction (`config.FETCH_PARSES_AT_ONCE`); a thread never holds it while it fetches.
HEAVY_STEPS = threading.BoundedSemaphore(FETCH_PARSES_AT_ONCE)


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


def transport_error(exc: Exception, url: str) -> FetchError:
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

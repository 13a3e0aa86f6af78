"""Property-based fuzzing of the fetch path: generated HTTP answers (status, the headers the
fetcher reads, compression, and a generated feed or junk as the body) from a server on
127.0.0.1, polled with the real `http_get` through `fetch.apply.poll_source`.

Invariant: `poll_source` promises never to raise for a source's own faults; whatever escapes it
is what `fetch_all` records as `internal: …` (the status and any Retry-After lost). So every
answer must come back as a state with its outcome recorded and a next poll scheduled (or the
source disabled after 410).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from newsroom.core.models import Source, SourceState
from newsroom.fetch.apply import poll_source
from newsroom.fetch.http import FetchPolicy
from tests.httpserver import LocalHTTPServer, Reply

from .feeds import NAUGHTY, document, feeds

NOW = datetime(2026, 6, 1, tzinfo=UTC)
POLICY = FetchPolicy(connect_timeout=5, read_timeout=5, total_timeout=15, max_bytes=512 * 1024, allow_private=True)
STATUSES = st.sampled_from([200, 200, 200, 203, 204, 301, 302, 304, 308, 400, 403, 404, 410, 429, 500, 503])
SANE_RETRY_AFTER = st.one_of(
    st.integers(0, 10**6).map(str),
    st.sampled_from(["Sun, 31 May 2026 10:00:00 GMT", "Wed, 03 Jun 2026 10:00:00 GMT", "-5", "soon", ""]),
)
ODD_RETRY_AFTER = st.one_of(
    st.integers(19, 20_000).map(lambda n: "9" * n),
    st.builds(
        lambda d, off: d.strftime("%a, %d %b %Y %H:%M:%S ") + off,
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
        st.sampled_from(["GMT", "+1400", "-1200", "+9959", "-9959", "UT", "EST"]),
    ),
)
HEADER_TEXT = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40),
    st.sampled_from(NAUGHTY).filter(lambda s: s.isascii() and s.isprintable()),
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/rss+xml",
        "application/atom+xml; charset=utf-16",
        "text/xml; charset=iso-8859-1",
        "text/html",
        "application/json",
        "application/feed+json",
        "",
        "text/xml; charset=x-no-such",
    ]
)


@st.composite
def answers(draw: st.DrawFn, retry_after: st.SearchStrategy[str] = SANE_RETRY_AFTER) -> Reply:
    status = draw(STATUSES)
    body = draw(st.one_of(feeds(max_items=2).map(document), st.binary(max_size=200), st.just(b"")))
    headers = {"Content-Type": draw(CONTENT_TYPES)}
    optional = {
        "Retry-After": retry_after,
        "ETag": HEADER_TEXT,
        "Last-Modified": st.one_of(HEADER_TEXT, st.sampled_from(["Fri, 31 Dec 9999 23:59:59 GMT"])),
        "Cache-Control": st.one_of(st.integers(-5, 10**12).map(lambda n: f"max-age={n}"), HEADER_TEXT),
        "Expires": st.sampled_from(["0", "-1", "Thu, 01 Jan 1970 00:00:00 GMT", "garbage"]),
        "Location": st.sampled_from(["/moved", "https://other.example/feed", "javascript:alert(1)", "", "//x"]),
        "Content-Encoding": st.sampled_from(["gzip", "deflate", "br", "identity", "x-unknown"]),
    }
    for name, values in optional.items():
        if draw(st.booleans()):
            headers[name] = draw(values)
    gzip = "Content-Encoding" not in headers and draw(st.booleans())
    return Reply(status=status, body=body, headers=headers, gzip=gzip)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalHTTPServer]:
    with LocalHTTPServer() as running:
        running.route("/moved", Reply(body=b"<rss version='2.0'><channel><title>m</title></channel></rss>"))
        yield running


def poll(server: LocalHTTPServer, answer: Reply) -> tuple[SourceState, str | None]:
    server.route("/feed", answer)
    source = Source(id="fuzz", name="Fuzz", feed_url=server.url("/feed"))
    state = SourceState(source_id="fuzz", etag='"old"', last_modified="Sun, 31 May 2026 10:00:00 GMT")
    # What `fetch_all` does with anything poll_source raises: records it as internal.
    try:
        new_state, _entries, report = poll_source(source, state, POLICY, now=NOW)
    except Exception as exc:
        return state, f"internal: {type(exc).__name__}: {exc}"[:300]
    return new_state, report.error


def check_recorded(new_state: SourceState, error: str | None) -> None:
    assert not (error or "").startswith("internal"), error
    assert new_state.last_attempt == NOW
    if new_state.disabled:
        assert new_state.next_poll is None and new_state.disabled_reason
    else:
        assert new_state.next_poll is not None and new_state.next_poll > NOW - timedelta(seconds=1)
    if error is not None:
        assert (new_state.last_error and new_state.last_status is None) or new_state.last_status >= 300


@given(answers())
@settings(max_examples=80)
def test_any_answer_is_recorded_with_its_outcome(server: LocalHTTPServer, answer: Reply) -> None:
    check_recorded(*poll(server, answer))


@given(st.sampled_from([429, 503]), ODD_RETRY_AFTER)
@settings(max_examples=40)
@example(429, "9" * 5000)
@example(503, "Fri, 31 Dec 9999 23:59:59 -1200")
def test_any_retry_after_is_recorded_with_the_status(server: LocalHTTPServer, status: int, retry_after: str) -> None:
    new_state, error = poll(server, Reply(status=status, headers={"Retry-After": retry_after}))
    check_recorded(new_state, error)
    assert new_state.last_status == status

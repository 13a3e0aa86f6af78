"""The HTTP-caching layer: how a route's answer goes on the wire.

Each success carries an ETag (per content coding, so a gzip body and a plain one never share a
strong validator), Cache-Control suited to the route and `Vary: Origin` (CORS headers are only
sent to requests that carry an Origin, so a shared cache must key on it), plus `Accept-Encoding`
where the route compresses. A matching `If-None-Match` gets a bodyless 304. There is no
`Last-Modified`: a page is assembled per request from several stories, and no stored time moves
with every change to it (a back-dated story, an attached copy, an expired story dropping off),
so only the content hash can say "unchanged"; RFC 9110 §13.1.3 then has `If-Modified-Since` ignored.

Compression happens here, in the function, never in API Gateway (the template sets no
`MinimumCompressionSize`): the function then names the coding in the ETag and in `Vary`, and
can measure what it returns against Lambda's 6 MB. The API declares `BinaryMediaTypes: */*`, so
API Gateway decodes the base64 the function returns for a gzip body whatever the client's
`Accept` header (README, "API").
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import Response

if TYPE_CHECKING:
    from newsroom.core.models import Article
    from newsroom.serve.routes import RouteSpec

# Lambda quotas (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html): a
# synchronous invocation's response payload is at most 6 MB; API Gateway answers a bigger one 502.
LAMBDA_RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024
# What one response body may take of it, as the Lambda response carries it (JSON-escaped text,
# or base64 of gzip): the rest is the margin for headers, the envelope and estimate error.
RESPONSE_BODY_BUDGET_BYTES = 5 * 1024 * 1024
# Below this, gzip saves too little to be worth its CPU (API Gateway's own setting is commonly 1 KB).
MIN_COMPRESS_BYTES = 1024


def coding_weights(accept_encoding: str) -> dict[str, float]:
    """Each coding an `Accept-Encoding` names, lower-cased, with its q-value (RFC 9110 §12.5.3;
    a q that is not a number counts as 0, "not acceptable")."""
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        name, *params = (p.strip() for p in item.split(";"))
        if not name:
            continue
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = 0.0
        weights[name.lower()] = weight
    return weights


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether `Accept-Encoding` allows gzip (RFC 9110 §12.5.3).

    `gzip` (or its alias `x-gzip`) with q > 0, or `*` with q > 0 when gzip is not named. No
    header means "any coding" in the RFC, but clients that decode gzip say so, and API Gateway
    reads no header as no compression; identity it is.
    """
    if not accept_encoding:
        return False
    named = coding_weights(accept_encoding)
    for alias in ("gzip", "x-gzip"):
        if alias in named:
            return named[alias] > 0
    return named.get("*", 0.0) > 0


def gzip_body(data: bytes) -> bytes:
    """gzip with no timestamp, so one body always compresses to the same bytes."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def encoded_size(text: str, *, gzipped: bool) -> int:
    """Bytes `text` takes in the Lambda response: base64 of its gzip, or the JSON string it is.

    JSON-escaped with `ensure_ascii` (every non-ASCII character as \\uXXXX), the larger of the
    forms a runtime may write, so the estimate errs on the safe side.
    """
    if gzipped:
        return len(base64.b64encode(gzip_body(text.encode("utf-8"))))
    return len(json.dumps(text))


def etag(text: str, *, gzipped: bool) -> str:
    """A strong validator of the representation: the body's hash, and the content coding, since
    the gzip bytes and the plain ones are different representations (RFC 9110 §8.8.3)."""
    return f'"{hashlib.sha256(text.encode()).hexdigest()[:32]}{"-gzip" if gzipped else ""}"'


def matches(if_none_match: str | None, current: str) -> bool:
    """Whether `If-None-Match` names `current` (RFC 9110 §13.1.2: weak comparison, or `*`)."""
    if if_none_match is None:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return current in tags or "*" in tags


def will_gzip(text: str, accept_encoding: str | None) -> bool:
    return accepts_gzip(accept_encoding) and len(text.encode("utf-8")) >= MIN_COMPRESS_BYTES


def gzip_response(status: int, content_type: str, text: str, headers: dict[str, str]) -> Response:
    """A Powertools response carrying `text` gzip-compressed, as base64 with isBase64Encoded.

    Encoded here rather than handed over as bytes: Powertools would run bytes with a JSON
    content type through its JSON serializer.
    """
    packed = base64.b64encode(gzip_body(text.encode("utf-8"))).decode("ascii")
    response = Response(status, content_type, packed, {**headers, "Content-Encoding": "gzip"}, compress=False)
    response.base64_encoded = True
    return response


# --- a route's answer ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Body:
    """What a route answers with, before the HTTP caching headers are added."""

    text: str
    next_url: str | None = None
    media_type: str | None = None  # a negotiated representation (the HTML page); None: the route's
    # A shorter cache time than the route's, for this answer only (a story whose event may grow).
    max_age: int | None = None


def respond(spec: RouteSpec, body: Body, request_headers: Mapping[str, str]) -> Response:
    """`body` as the route's response: validators, caching and coding headers, or a 304."""
    vary = "Accept-Encoding, Origin" if spec.compress else "Origin"
    vary = f"Accept, {vary}" if spec.html_page else vary
    if spec.max_age is None:
        return Response(200, spec.content_type, body.text, {"Cache-Control": "no-store", "Vary": vary})
    gzipped = spec.compress and will_gzip(body.text, request_headers.get("accept-encoding"))
    validator = etag(body.text, gzipped=gzipped)
    max_age = spec.max_age if body.max_age is None else min(spec.max_age, body.max_age)
    headers: dict[str, str] = {
        "ETag": validator,
        "Cache-Control": f"public, max-age={max_age}",
        "Vary": vary,
    }
    if body.next_url:
        headers["Link"] = f'<{body.next_url}>; rel="next"'
    if matches(request_headers.get("if-none-match"), validator):
        # compress=False: Powertools would otherwise gzip the empty body into 20 bytes.
        return Response(status_code=304, body="", headers=headers, compress=False)
    content_type = body.media_type or spec.content_type
    if gzipped:
        # Base64 with isBase64Encoded; BinaryMediaTypes */* has API Gateway decode it.
        return gzip_response(200, content_type, body.text, headers)
    return Response(200, content_type, body.text, headers, compress=False)


# --- the byte budget of a page ---------------------------------------------------------------


def sent_size(text: str, accept_encoding: str | None) -> int:
    """Bytes `text` takes in the Lambda response, encoded as it will be sent to this client."""
    return encoded_size(text, gzipped=will_gzip(text, accept_encoding))


def fits(text: str, accept_encoding: str | None) -> bool:
    """Whether `text`, encoded as it will be sent, is within the response body budget."""
    # No character takes more than 12 bytes once escaped (an astral one as two \uXXXX):
    # a page below budget / 12 characters fits without encoding it to find out.
    budget = RESPONSE_BODY_BUDGET_BYTES
    return len(text) * 12 <= budget or sent_size(text, accept_encoding) <= budget


def bounded(
    articles: tuple[Article, ...],
    cursor: str | None,
    render: Callable[[tuple[Article, ...], str | None], str],
    refetch: Callable[[int], tuple[tuple[Article, ...], str | None]],
    accept_encoding: str | None,
) -> tuple[tuple[Article, ...], str | None, str]:
    """The page cut to what one response can carry: its items, `next` cursor and text.

    Lambda returns at most 6 MB (a bigger response is API Gateway's 502), and `limit` times
    MaxBodyBytes can pass that many times over. So a page stops adding items before its
    body, encoded as it will be sent (`encoded_size`), would pass `RESPONSE_BODY_BUDGET_BYTES`,
    and its `next` cursor continues after the last item it kept: `refetch(n)`, a Query for that
    many items, gives the cursor (and the items, should the listing have moved meanwhile). At
    least one item is kept, so paging always advances.
    """
    budget = RESPONSE_BODY_BUDGET_BYTES
    text = render(articles, cursor)
    if len(articles) <= 1 or fits(text, accept_encoding):
        return articles, cursor, text
    # Each item's share: the page with it alone less the empty page. Exact for JSON-escaped
    # text; for gzip, compressing items apart never beats compressing them together.
    stand_in = cursor or "x" * 200  # a cursor's length, for the next link in the page
    empty = sent_size(render((), stand_in), accept_encoding)
    total, keep = empty, 0
    for article in articles:
        total += sent_size(render((article,), stand_in), accept_encoding) - empty
        if total > budget:
            break
        keep += 1
    keep = max(keep, 1)
    while True:
        kept, next_cursor = refetch(keep)
        text = render(kept, next_cursor)
        if keep == 1 or fits(text, accept_encoding):
            return kept, next_cursor, text
        keep -= 1

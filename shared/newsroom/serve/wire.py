"""How a response body goes on the wire: its content coding and its size as Lambda returns it.

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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response

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
    from aws_lambda_powertools.event_handler import Response

    packed = base64.b64encode(gzip_body(text.encode("utf-8"))).decode("ascii")
    response = Response(status, content_type, packed, {**headers, "Content-Encoding": "gzip"}, compress=False)
    response.base64_encoded = True
    return response

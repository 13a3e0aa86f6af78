"""Property-based fuzzing of the API handler: generated requests (every route, every parameter,
the request headers it reads, every cursor form) into the real Lambda handler over the loaded
moto stack, in process (as tests/e2e/test_api_contract.py does).

Invariants: never a 5xx; a 4xx is an RFC 9457 problem that leaks no Python internals; no HTML
page carries executable markup; request headers never steer links, redirects or the Link
header to another site or scheme.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from devtools.lambda_local import api_event, invoke
from devtools.stack import TEST_CURSOR_SECRET
from newsroom.core.models import Category
from tests.e2e.conftest import Stack
from tests.e2e.test_api_contract import body_of
from tests.e2e.test_hostile_input import executable

from .feeds import NAUGHTY

EXAMPLES = 60
FUZZ = settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture])


def signed(payload: bytes, secret: bytes = TEST_CURSOR_SECRET.encode()) -> str:
    """A cursor as the API signs them (newsroom.store.cursor.CursorCodec), around any payload."""
    signature = hmac.new(secret, payload, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(signature + payload).decode().rstrip("=")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
LISTINGS = st.sampled_from(["all", "cat#policy", "coin#BTC", "src#defiliban", "/sources", ""])
# Cursors whose payload is the object the API signs: a listing and a key, of any shape.
WELL_FORMED_CURSORS = st.builds(
    lambda listing, key: signed(json.dumps({"l": listing, "k": key}).encode()),
    LISTINGS,
    st.one_of(st.text(max_size=40), st.sampled_from(["2026-05-31T08:30:00Z#0123456789abcdef0123", "", "#", "\x00"])),
)
CURSORS = st.one_of(
    st.text(max_size=60),
    st.sampled_from(NAUGHTY),
    st.binary(max_size=64).map(lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")),
    WELL_FORMED_CURSORS,
    st.builds(lambda p: signed(p, b"some other key"), st.binary(max_size=40)),
)
# Payloads that are not the object at all: a list, a number, a string, invalid JSON.
ODD_CURSORS = st.one_of(
    _JSON.filter(lambda v: not isinstance(v, dict)).map(lambda v: signed(json.dumps(v).encode())),
    st.binary(max_size=40).map(signed),
    st.dictionaries(st.sampled_from(["l", "k", "x"]), _JSON, max_size=3).map(lambda v: signed(json.dumps(v).encode())),
)
NUMBERS = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(["", " 5", "5 ", "+5", "0x10", "1e3", "1_0", "٣", "NaN", "inf", "10.0", "9" * 4000]),
    st.text(max_size=8),
)
LONG_NUMBERS = st.integers(4_301, 20_000).map(lambda n: "1" * n)
DATES = st.one_of(
    st.sampled_from(["2026-05-31", "2026-05-31T08:00:00Z", "0001-01-01", "9999-12-31T23:59:59+14:00", "2026-13-45"]),
    st.datetimes().map(lambda d: d.isoformat()),
    st.text(max_size=30),
)
CATEGORIES = st.one_of(
    st.sampled_from([c.value for c in Category] + [c.value.lower() for c in Category]), st.text(max_size=12)
)
PARAMETERS = st.fixed_dictionaries(
    {},
    optional={
        "limit": NUMBERS,
        "cursor": CURSORS,
        "category": CATEGORIES,
        "coin": st.one_of(st.sampled_from(["BTC", "eth", "SOL", "X", "TOOLONGTICKER1"]), st.text(max_size=12)),
        "source": st.one_of(st.sampled_from(["defiliban", "cryptowire", "nope", "../x"]), st.text(max_size=70)),
        "since": DATES,
        "unknown": st.text(max_size=10),
    },
)
PATHS = st.one_of(
    st.sampled_from(
        [
            "/",
            "/health",
            "/openapi.json",
            "/articles",
            "/feed.json",
            "/feed.rss",
            "/feed.atom",
            "/prices",
            "/sources",
            "/static/site.css",
            "/category/policy",
            "/category/nope",
            "/articles/0123456789abcdef0123",
            "/news/some-story-0123456789abcdef0123",
        ]
    ),
    st.builds(lambda s: "/articles/" + quote(s, safe=""), st.text(max_size=30)),
    st.builds(lambda s: "/news/" + quote(s, safe=""), st.one_of(st.text(max_size=30), st.sampled_from(NAUGHTY))),
    st.builds(lambda s: "/" + quote(s, safe="/"), st.text(max_size=20)),
)
HOSTILE_HOSTS = ["//evil.example", "evil.example", "127.0.0.1:3000/@evil.example", "a b", "", "x" * 300]
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "Accept": st.sampled_from(["text/html", "application/json", "*/*", "text/html;q=0", "", "x/y;q=abc"]),
        "Accept-Encoding": st.sampled_from(["gzip", "br, gzip;q=0", "identity", "*", "", "g" * 200]),
        "If-None-Match": st.one_of(st.sampled_from(["*", '"x"', 'W/"x"', ""]), st.text(max_size=40)),
        "If-Modified-Since": st.one_of(
            st.sampled_from(["Fri, 31 Dec 9999 23:59:59 GMT", "garbage"]), st.text(max_size=30)
        ),
        "Origin": st.sampled_from(["https://front.example", "null", "javascript:alert(1)"]),
        # Hostile Host / X-Forwarded-Proto values: test_request_headers_never_steer_links (issue 14).
        "Host": st.sampled_from(["127.0.0.1:3000", "abc123.execute-api.us-east-1.amazonaws.com"]),
        "X-Forwarded-Proto": st.sampled_from(["http", "https"]),
    },
)
METHODS = st.sampled_from(["GET", "GET", "GET", "HEAD", "POST", "OPTIONS", "DELETE"])


def request(stack: Stack, method: str, path: str, params: dict[str, str], headers: dict[str, str]) -> dict[str, Any]:
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())
    event = api_event(method, f"{path}?{query}" if query else path, headers)
    # The decoded values, as API Gateway passes them (api_event keeps the raw query's pairs).
    if params:
        event["queryStringParameters"] = dict(params)
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in params.items()}
    response = invoke(stack.api, event, "ApiFunction")
    headers_out = dict(response.get("headers") or {})
    headers_out.update({k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items() if v})
    response["headers"] = headers_out
    return response


_PYTHON_LEAKS = re.compile(r"Traceback|sys\.set_int_max_str_digits|Exceeds the limit|File \"/|Error\(|object has no")


def check_answer(response: dict[str, Any]) -> None:
    status = response["statusCode"]
    assert status < 500, (status, body_of(response)[:300])
    html = "text/html" in response["headers"].get("Content-Type", "")
    if status >= 400 and status != 405 and not html:  # a browser's 404 is the not-found page
        assert response["headers"].get("Content-Type") == "application/problem+json", response["headers"]
        problem = json.loads(response["body"])
        assert problem["status"] == status and problem["detail"]
        assert not _PYTHON_LEAKS.search(problem["detail"]), problem["detail"][:300]
    if html:
        assert not executable(body_of(response))


@given(method=METHODS, path=PATHS, params=PARAMETERS, headers=HEADERS)
@FUZZ
@example(method="GET", path="/articles", params={"cursor": signed(b'{"l":"all","k":""}')}, headers={})
def test_no_request_gets_a_5xx_or_leaks_internals(
    loaded: Stack, method: str, path: str, params: dict[str, str], headers: dict[str, str]
) -> None:
    check_answer(request(loaded, method, path, params, headers))


@given(path=st.sampled_from(["/articles", "/feed.json", "/feed.rss", "/feed.atom", "/sources"]), limit=LONG_NUMBERS)
@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_limit_of_any_length_is_a_400(loaded: Stack, path: str, limit: str) -> None:
    response = request(loaded, "GET", path, {"limit": limit}, {})
    check_answer(response)
    assert response["statusCode"] == 400


@given(path=st.sampled_from(["/articles", "/feed.json", "/sources"]), cursor=ODD_CURSORS)
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(path="/articles", cursor=signed(b"[]"))
def test_a_signed_cursor_with_any_payload_is_a_400(loaded: Stack, path: str, cursor: str) -> None:
    response = request(loaded, "GET", path, {"cursor": cursor}, {})
    check_answer(response)
    assert response["statusCode"] == 400


_LINK_TARGET = re.compile(r"""(?:href|src|content|action)\s*=\s*["']([^"']*)""", re.I)


@given(
    path=st.sampled_from(["/", "/articles", "/feed.rss", "/feed.atom", "/feed.json", "/news/x-0123456789abcdef0123"]),
    host=st.sampled_from(HOSTILE_HOSTS),
    proto=st.sampled_from(["javascript:alert(1)//", "ftp", "http"]),
)
@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(path="/", host="127.0.0.1:3000", proto="javascript:alert(1)//")
def test_request_headers_never_steer_links(loaded: Stack, path: str, host: str, proto: str) -> None:
    headers = {"Host": host, "X-Forwarded-Proto": proto, "Accept": "text/html"}
    response = request(loaded, "GET", path, {"limit": "2"}, headers)
    assert response["statusCode"] < 500
    text = body_of(response) if response.get("body") else ""
    targets = [response["headers"].get("Location", ""), response["headers"].get("Link", ""), text]
    for target in targets:
        assert "evil.example" not in target and "javascript:" not in target.lower(), target[:300]
    for url in _LINK_TARGET.findall(text):
        assert not url.lower().startswith(("javascript:", "//evil")), url


@given(path=PATHS, headers=HEADERS)
@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_response_says_nosniff_and_pages_carry_a_csp(loaded: Stack, path: str, headers: dict[str, str]) -> None:
    response = request(loaded, "GET", path, {}, headers)
    assert response["headers"].get("X-Content-Type-Options") == "nosniff"
    if "text/html" in response["headers"].get("Content-Type", ""):
        assert "frame-ancestors 'none'" in response["headers"].get("Content-Security-Policy", "")

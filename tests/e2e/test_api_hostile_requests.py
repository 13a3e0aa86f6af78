"""Requests we did not write ourselves: numbers too long for int(), cursors signed with the right
key around the wrong payload, Host and X-Forwarded-* headers that try to choose our links, and the
security headers every response carries (issue 14)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest

from devtools.lambda_local import FakeLambdaContext, api_event, invoke
from devtools.stack import LOCAL_API_URL, TEST_CURSOR_SECRET
from newsroom.core.config import Settings, settings
from newsroom.serve.api import build_resolver
from newsroom.serve.security import DATA_CSP, PAGE_CSP

from .conftest import Stack

PAGED_ROUTES = ("/articles", "/feed.json", "/feed.rss", "/feed.atom", "/sources")
# What Python says when int() meets more than 4,300 digits; no client may ever read it.
PYTHON_WORDS = ("set_int_max_str_digits", "Exceeds the limit", "int_info", "Traceback", "out of range for month")
EXECUTE_API = "abc123.execute-api.us-east-1.amazonaws.com"
HOSTILE_HEADERS = {
    "Host": "//evil.example",
    "X-Forwarded-Proto": "javascript:alert(1)//",
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Prefix": "//evil.example",
}


def merged_headers(result: dict[str, Any]) -> dict[str, str]:
    headers = dict(result.get("headers") or {})
    headers.update({k: v[-1] for k, v in (result.get("multiValueHeaders") or {}).items() if v})
    return headers


def request(
    stack: Stack, path: str, headers: dict[str, str] | None = None, context: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A GET through the handler with exactly these headers and API Gateway's requestContext
    extended by `context` (Stack.get always sends a friendly Host)."""
    event = api_event("GET", path, headers or {})
    event["requestContext"].update(context or {})
    result = invoke(stack.api, event, "ApiFunction")
    result["headers"] = merged_headers(result)
    return result


def body_text(result: dict[str, Any]) -> str:
    body = result.get("body") or ""
    if result.get("isBase64Encoded"):
        import gzip

        raw = base64.b64decode(body)
        return (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode()
    return str(body)


def assert_problem(result: dict[str, Any], status: int, detail_part: str) -> None:
    text = body_text(result)
    assert result["statusCode"] == status, text[:300]
    problem = json.loads(text)
    assert problem["status"] == status and detail_part in problem["detail"], problem
    assert not any(word in text for word in PYTHON_WORDS), text


def signed(payload: bytes) -> str:
    """A cursor in the API's own format, signed with the stack's real key around any payload."""
    signature = hmac.new(TEST_CURSOR_SECRET.encode(), payload, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(signature + payload).decode().rstrip("=")


def foreign_payloads(scope: str) -> list[bytes]:
    """Payloads that are not {"l": <scope>, "k": <a non-empty key>}; each names the route's own
    scope where it has one, so the scope check cannot be what refuses it."""
    s = json.dumps(scope).encode()
    return [
        b"[]",
        b'["' + scope.encode() + b'", "x"]',
        b'"' + scope.encode() + b'"',
        b"null",
        b"5",
        b"{}",
        b'{"l":' + s + b"}",
        b'{"l":' + s + b',"k":5}',
        b'{"l":' + s + b',"k":["x"]}',
        b'{"l":' + s + b',"k":{"S":"x"}}',
        b'{"l":' + s + b',"k":null}',
        b'{"l":' + s + b',"k":""}',
        b'{"l":' + s + b',"k":"\\ud800"}',
        b'{"l":' + s + b',"k":"' + b"x" * 1100 + b'"}',
        b'{"l":[' + s + b'],"k":"x"}',
        b"\xff\xfe not utf-8",
        b"not json at all",
    ]


# -- numbers and cursors: a 400 that says what to change, never a 500 ------------------------------


def test_a_limit_of_thousands_of_digits_is_a_400_on_every_paged_route(loaded: Stack) -> None:
    for route in PAGED_ROUTES:
        for limit in ("9" * 4301, "1" * 5000, "0" * 5000 + "5", "000000005000", "101", "0", "-1", "٣", "²", "5\n"):
            result = loaded.get(f"{route}?limit={limit}")
            assert_problem(result, 400, "limit must be a whole number from 1 to 100")
        # A short number with leading zeros still reads as the number it is.
        assert loaded.get(f"{route}?limit=005")["statusCode"] == 200, route


def test_an_over_long_or_impossible_since_is_a_400_in_the_apis_own_words(loaded: Stack) -> None:
    for route in PAGED_ROUTES[:4]:
        for since in ("2026-05-31T08:00:00." + "1" * 5000 + "Z", "2026-05-31T08:00:00." + "0" * 60 + "1Z"):
            assert_problem(loaded.get(f"{route}?since={since}"), 400, "since must be an RFC 3339 date-time")
        assert_problem(loaded.get(f"{route}?since=2026-02-30"), 400, "no such date or time of day")
        assert_problem(loaded.get(f"{route}?since=2026-05-31T08:00:61Z"), 400, "no such date or time of day")
        # A leap second still reads as :59, and a fraction within the length still rounds up.
        assert loaded.get(f"{route}?since=2026-05-31T08:00:60Z")["statusCode"] == 200
        assert loaded.get(f"{route}?since=2026-05-31T08:00:00.000001Z")["statusCode"] == 200


def test_a_correctly_signed_cursor_around_a_foreign_payload_is_a_400_on_every_paged_route(loaded: Stack) -> None:
    for route, scope in [*((r, "all") for r in PAGED_ROUTES[:4]), ("/sources", "/sources")]:
        for payload in foreign_payloads(scope):
            result = loaded.get(f"{route}?cursor={signed(payload)}")
            assert_problem(result, 400, "invalid cursor")
        # The genuine article is still welcome: the format itself did not change.
        genuine = signed(json.dumps({"l": scope, "k": "~"}, separators=(",", ":")).encode())
        assert loaded.get(f"{route}?cursor={genuine}")["statusCode"] == 200, route


def test_pages_start_over_on_a_cursor_with_a_foreign_payload(loaded: Stack) -> None:
    for path, scope in (("/", "all"), ("/category/policy", "cat#policy")):
        for payload in foreign_payloads(scope):
            result = loaded.get(f"{path}?cursor={signed(payload)}", {"Accept": "text/html"})
            assert result["statusCode"] == 200, (path, payload, body_text(result)[:300])
            assert "<article" in body_text(result) or "stories" in body_text(result)


# -- the base URL: configuration or API Gateway, never the client -----------------------------------


def first_story(stack: Stack) -> tuple[str, str]:
    """(id, canonical slug) of a stored story."""
    [item] = json.loads(stack.get("/articles?limit=1")["body"])["items"]
    page = stack.get(f"/news/{item['id']}", {"Accept": "text/html"})
    assert page["statusCode"] == 301
    return item["id"], page["headers"]["Location"].rsplit("/", 1)[1]


def links_of(stack: Stack, headers: dict[str, str], context: dict[str, Any]) -> dict[str, Any]:
    """Every URL the API and pages build, for one set of request headers and requestContext."""
    article_id, slug = first_story(stack)
    home = request(stack, "/", {**headers, "Accept": "text/html"}, context)
    listing = request(stack, "/articles?limit=1", headers, context)
    feed = request(stack, "/feed.rss?limit=1", headers, context)
    redirect = request(stack, f"/news/wrong-words-{article_id}", {**headers, "Accept": "text/html"}, context)
    article = request(stack, f"/news/{slug}", {**headers, "Accept": "text/html"}, context)
    index = request(stack, "/", headers, context)
    return {
        "home": body_text(home),
        "article": body_text(article),
        "feed": body_text(feed),
        "next_url": json.loads(listing["body"])["next_url"],
        "link": listing["headers"]["Link"],
        "feed_link": feed["headers"]["Link"],
        "location": redirect["headers"]["Location"],
        "redirect_cache": redirect["headers"]["Cache-Control"],
        "index": json.loads(index["body"])["links"],
        "headers": json.dumps([home["headers"], listing["headers"], redirect["headers"], article["headers"]]),
        "slug": slug,
    }


@pytest.fixture
def unconfigured(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """PUBLIC_BASE_URL unset, as on a stack deployed without one (`loaded` must come first)."""
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    settings.cache_clear()
    yield
    settings.cache_clear()


def assert_nothing_from_the_client(links: dict[str, Any]) -> None:
    everything = json.dumps(links)
    assert "evil" not in everything and "javascript" not in everything, everything[:2000]


def test_a_configured_public_base_url_builds_every_link_whatever_host_and_forwarded_headers_say(
    loaded: Stack,
) -> None:
    links = links_of(loaded, HOSTILE_HEADERS, {"domainName": EXECUTE_API, "stage": "v1"})
    assert_nothing_from_the_client(links)
    base = LOCAL_API_URL
    assert (
        f'<link rel="alternate" type="application/rss+xml" title="CryptoCompass (RSS)" href="{base}/feed.rss">'
        in (links["home"])
    )
    assert f'<link rel="canonical" href="{base}/">' in links["home"]
    assert links["next_url"].startswith(f"{base}/articles?") and links["link"].startswith(f"<{base}/articles?")
    assert links["feed_link"].startswith(f"<{base}/feed.rss?") and f"{base}/feed.rss" in links["feed"]
    assert links["location"] == f"/news/{links['slug']}"
    assert links["index"]["list_articles"] == f"{base}/articles"


def test_without_configuration_links_come_from_api_gateways_domain_and_stage_never_the_host(
    loaded: Stack, unconfigured: None
) -> None:
    base = f"https://{EXECUTE_API}/v1"
    links = links_of(loaded, HOSTILE_HEADERS, {"domainName": EXECUTE_API, "stage": "v1"})
    assert_nothing_from_the_client(links)
    assert f'href="{base}/feed.rss"' in links["home"] and f'<link rel="canonical" href="{base}/">' in links["home"]
    assert 'href="/v1/static/site.css?v=' in links["home"]
    assert links["next_url"].startswith(f"{base}/articles?") and links["link"].startswith(f"<{base}/articles?")
    assert links["feed_link"].startswith(f"<{base}/feed.rss?")
    # The redirect stays on this host, under the stage; it is still cached, now safely.
    assert links["location"] == f"/v1/news/{links['slug']}" and links["redirect_cache"] == "max-age=3600"

    # A custom domain maps its own base path, so no stage goes into its links.
    custom = links_of(loaded, HOSTILE_HEADERS, {"domainName": "news.example.com", "stage": "v1"})
    assert_nothing_from_the_client(custom)
    assert custom["next_url"].startswith("https://news.example.com/articles?")
    assert custom["location"] == f"/news/{custom['slug']}"


def test_without_configuration_or_a_usable_domain_links_are_root_relative(loaded: Stack, unconfigured: None) -> None:
    for context in (
        {},
        {"domainName": "//evil.example", "stage": "v1"},
        {"domainName": "evil.example/x?y", "stage": "v1"},
        {"domainName": ["evil.example"], "stage": "v1"},
        {"domainName": EXECUTE_API, "stage": "../evil.example"},
    ):
        links = links_of(loaded, HOSTILE_HEADERS, context)
        assert_nothing_from_the_client(links)
        prefix = f"https://{EXECUTE_API}" if context.get("domainName") == EXECUTE_API else ""
        assert links["next_url"].startswith(f"{prefix}/articles?"), (context, links["next_url"])
        assert links["location"] == f"/news/{links['slug']}", context


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "//evil.example",
        "https://user:pass@evil.example",
        "https://evil.example/?next=x",
        "https://evil.example/#x",
        "https://evil.example//x",
        'https://evil.example/"><script>',
        "https://",
        "ftp://files.example",
        "https://evil.example:99999",
        "https://a b.example",
    ],
)
def test_a_public_base_url_that_is_not_a_plain_http_url_is_not_used(value: str) -> None:
    assert Settings.from_env({"PUBLIC_BASE_URL": value}).public_base_url is None


def test_a_plain_public_base_url_is_used_without_its_trailing_slash() -> None:
    for value, expected in (
        ("https://news.example.com/", "https://news.example.com"),
        ("https://news.example.com/api/v1/", "https://news.example.com/api/v1"),
        ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
    ):
        assert Settings.from_env({"PUBLIC_BASE_URL": value}).public_base_url == expected


# -- security headers on every response --------------------------------------------------------------


def assert_security_headers(name: str, result: dict[str, Any]) -> None:
    headers = {k.lower(): v for k, v in merged_headers(result).items()}
    assert headers.get("x-content-type-options") == "nosniff", name
    assert headers.get("referrer-policy") == "strict-origin-when-cross-origin", name
    if result["statusCode"] == 304:
        # A 304's headers replace the cached page's; the page keeps the policy it came with.
        assert "content-security-policy" not in headers, name
        return
    is_page = headers.get("content-type", "").startswith("text/html")
    assert headers.get("content-security-policy") == (PAGE_CSP if is_page else DATA_CSP), name
    assert "frame-ancestors 'none'" in headers["content-security-policy"], name
    assert headers.get("x-frame-options") == "DENY", name


def test_every_response_carries_the_security_headers_and_pages_a_strict_csp(loaded: Stack) -> None:
    article_id, slug = first_story(loaded)
    html = {"Accept": "text/html"}
    cases: dict[str, dict[str, Any]] = {
        "index json": loaded.get("/"),
        "home page": loaded.get("/", html),
        "category page": loaded.get("/category/policy", html),
        "article page": loaded.get(f"/news/{slug}", html),
        "article page by id": loaded.get(f"/articles/{article_id}", html),
        "article json": loaded.get(f"/articles/{article_id}"),
        "redirect": loaded.get(f"/news/{article_id}", html),
        "page not found": loaded.get("/news/nothing-here", html),
        "stylesheet": loaded.get("/static/site.css"),
        "articles": loaded.get("/articles"),
        "feed.json": loaded.get("/feed.json", {"Accept-Encoding": "gzip"}),
        "feed.rss": loaded.get("/feed.rss"),
        "feed.atom": loaded.get("/feed.atom"),
        "prices": loaded.get("/prices"),
        "sources": loaded.get("/sources"),
        "health": loaded.get("/health"),
        "openapi": loaded.get("/openapi.json"),
        "bad request": loaded.get("/articles?limit=0"),
        "no route": loaded.get("/nowhere"),
        "article 404": loaded.get("/articles/0123456789abcdef0123"),
        "method": invoke(loaded.api, api_event("DELETE", "/articles", {"Host": "x"}), "ApiFunction"),
        "preflight": invoke(
            loaded.api,
            api_event(
                "OPTIONS", "/articles", {"Origin": "https://front.example", "Access-Control-Request-Method": "GET"}
            ),
            "ApiFunction",
        ),
    }
    etag = cases["articles"]["headers"]["ETag"]
    cases["not modified"] = loaded.get("/articles", {"If-None-Match": etag})
    page_etag = cases["article page"]["headers"]["ETag"]
    cases["page not modified"] = loaded.get(f"/news/{slug}", {**html, "If-None-Match": page_etag})
    statuses = {name: result["statusCode"] for name, result in cases.items()}
    assert statuses["not modified"] == 304 and statuses["page not modified"] == 304, statuses
    assert {400, 404, 405, 301} <= set(statuses.values()), statuses
    for name, result in cases.items():
        assert_security_headers(name, result)
    # The pages satisfy their policy: no script, no inline style, the stylesheet from this origin.
    for name in ("home page", "category page", "article page", "page not found"):
        page = body_text(cases[name])
        assert "<script" not in page and "<style" not in page and " style=" not in page, name
        assert '<link rel="stylesheet" href="/static/site.css?v=' in page, name


def test_an_unexpected_error_is_a_500_with_the_security_headers_too() -> None:
    def broken_store() -> Any:
        raise RuntimeError("the store is down")

    app = build_resolver(broken_store)
    result = app.resolve(api_event("GET", "/articles", {"Host": "x"}), FakeLambdaContext())
    assert result["statusCode"] == 500
    assert "the store is down" not in result["body"]
    assert_security_headers("500", result)

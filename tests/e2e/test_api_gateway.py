"""The API function behind the local API Gateway (devtools.apigw, configured from template.yaml),
over real HTTP on 127.0.0.1: the bytes each client receives are the ones the handler meant, and
no page can grow past what Lambda may return.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from devtools import apigw
from newsroom.core.models import Article, Category, Image, Kind
from newsroom.serve.pages import article_slug
from newsroom.serve.routes import ROUTES
from newsroom.store import documents
from newsroom.wiring import clients as runtime
from tests.e2e.conftest import Stack

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CLIENTS: dict[str, dict[str, str]] = {
    "gzip": {"Accept-Encoding": "gzip"},
    "identity": {"Accept-Encoding": "identity"},
    "gzip-refused": {"Accept-Encoding": "gzip;q=0"},
    "browser": {"Accept": BROWSER_ACCEPT, "Accept-Encoding": "gzip, deflate, br, zstd"},
}
LAMBDA_LIMIT = 6 * 1024 * 1024


@dataclass
class Site:
    """The gateway serving the stack's API function, keeping each Lambda result it passed on."""

    served: apigw.ServedGateway
    results: list[dict[str, Any]] = field(default_factory=list)

    def get(self, path: str, headers: dict[str, str]) -> tuple[http.client.HTTPResponse, bytes, dict[str, Any]]:
        url = urlsplit(self.served.base_url + path if path.startswith("/") else path)
        conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=60)
        try:
            conn.request("GET", url.path + (f"?{url.query}" if url.query else ""), headers=headers)
            resp = conn.getresponse()
            return resp, resp.read(), self.results[-1]
        finally:
            conn.close()


@pytest.fixture
def site(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    recorded: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        result = stack.api.lambda_handler(event, context)
        recorded.append(result)
        return result

    served = apigw.make_server(apigw.Gateway(apigw.gateway_config(), handler)).start()
    # Links name the stage, as they would on the execute-api host.
    monkeypatch.setenv("PUBLIC_BASE_URL", served.base_url)
    runtime.settings.cache_clear()
    try:
        yield Site(served, recorded)
    finally:
        served.stop()


def result_headers(result: dict[str, Any]) -> dict[str, str]:
    headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    headers.update({k.lower(): v[-1] for k, v in (result.get("multiValueHeaders") or {}).items() if v})
    return headers


def meant(result: dict[str, Any]) -> bytes:
    """The body the handler meant: its result undone of base64 and of the coding it declared."""
    body = (result.get("body") or "").encode()
    if result.get("isBase64Encoded"):
        body = base64.b64decode(body)
    if result_headers(result).get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    return body


def received(resp: http.client.HTTPResponse, raw: bytes) -> bytes:
    """What a client that decodes the Content-Encoding it was sent ends up with."""
    coding = resp.headers.get("Content-Encoding")
    assert coding in (None, "gzip"), coding
    return gzip.decompress(raw) if coding == "gzip" else raw


def every_route(loaded: Stack) -> list[str]:
    article = runtime.store().get_articles([json.loads(loaded.get("/articles?limit=1")["body"])["items"][0]["id"]])[0]
    paths = [spec.path.replace("{article_id}", article.id) for spec in ROUTES]
    pages = [f"/news/{article_slug(article)}", "/category/policy", "/static/site.css"]
    errors = ["/articles?limit=0", "/no-such-route", "/category/none"]
    return [*paths, "/articles?limit=100", "/feed.rss?limit=100", *pages, *errors]


def test_every_route_delivers_the_bytes_the_handler_meant(loaded: Stack, site: Site) -> None:
    for client, path in ((c, p) for c in sorted(CLIENTS) for p in every_route(loaded)):
        resp, raw, result = site.get(path, CLIENTS[client])
        where = f"{client} {path}"
        assert resp.status == int(result["statusCode"]), where
        body = received(resp, raw)
        assert body == meant(result), where
        assert resp.headers["Content-Type"] == result_headers(result)["content-type"], where
        if client in ("identity", "gzip-refused"):
            assert "Content-Encoding" not in resp.headers, where
        elif resp.status == 200 and path != "/health" and len(body) >= 1024:
            assert resp.headers["Content-Encoding"] == "gzip", where  # compression really happens
        if resp.status == 200 and path != "/health":
            vary = [v.strip() for v in resp.headers["Vary"].split(",")]
            assert "Accept-Encoding" in vary, where
        if path in ("/", "/static/site.css") or path.startswith(("/news/", "/category/policy")):
            html_or_css = resp.headers["Content-Type"].startswith(("text/html", "text/css"))
            assert html_or_css or client != "browser", where


def test_a_compressed_and_a_plain_representation_never_share_an_etag(loaded: Stack, site: Site) -> None:
    for path in every_route(loaded):
        zipped, _, _ = site.get(path, CLIENTS["gzip"])
        plain, _, _ = site.get(path, CLIENTS["identity"])
        if zipped.status != 200 or "ETag" not in zipped.headers:
            continue
        if zipped.headers.get("Content-Encoding") == "gzip":
            assert zipped.headers["ETag"] != plain.headers["ETag"], path
            # A cache holding the gzip body revalidates it as such, never as the plain one.
            again, body, _ = site.get(path, {**CLIENTS["identity"], "If-None-Match": zipped.headers["ETag"]})
            assert again.status == 200 and body, path
        else:
            assert zipped.headers["ETag"] == plain.headers["ETag"], path


def test_paths_and_methods_the_template_does_not_define_are_403(loaded: Stack, site: Site) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", site.served.port, timeout=10)
    try:
        for method, path in (("POST", "/v1/articles"), ("DELETE", "/v1/feed.rss"), ("GET", "/articles")):
            conn.request(method, path, body=b"{}" if method == "POST" else None)
            resp = conn.getresponse()
            assert resp.status == 403 and json.loads(resp.read()) == {"message": "Missing Authentication Token"}
    finally:
        conn.close()


# --- the worst case: 100 stories at the largest allowed body --------------------------------


T0 = datetime(2026, 5, 31, 8, tzinfo=UTC)
# Characters that grow most on the way out: quotes and markup escaped by each format and then
# again in Lambda's JSON, and non-ASCII written as \uXXXX; random, so gzip gains little.
ALPHABET = 'abcdefghijklmnopqrstuvwxyz "é€😀'


def _words(rng: random.Random, size: int) -> str:
    """Random text of at most `size` UTF-8 bytes (and within 4 of it)."""
    chars: list[str] = []
    used = 0
    while True:
        char = rng.choice(ALPHABET)
        width = len(char.encode())
        if used + width > size:
            return "".join(chars)
        chars.append(char)
        used += width


def worst_article(n: int, max_body: int, rng: random.Random) -> Article:
    text = _words(rng, max_body // 3)
    html = "<p>" + _words(rng, max_body - len(text.encode()) - len("<p></p>")).replace("&", "&amp;") + "</p>"
    html = html.replace("<", "&lt;").replace("&lt;p>", "<p>").replace("&lt;/p>", "</p>")
    assert len(html.encode()) + len(text.encode()) <= max_body
    return Article(
        id=f"{n:020x}",
        canonical_url=f"https://a.example/{n}",
        url=f"https://a.example/{n}",
        guid=f"g{n}",
        source_id="defiliban",
        source_name="DeFi Liban",
        title=f"Story {n}",
        content_html=html,
        content_text=text,
        standfirst=text[:300],
        word_count=len(text.split()),
        reading_minutes=max(1, len(text.split()) // 230),
        published=T0 + timedelta(minutes=n),
        updated=T0 + timedelta(minutes=n),
        first_seen=T0 + timedelta(minutes=n),
        language="en",
        image=Image(url="https://i.example/x.jpg", alt="x"),
        category=Category.POLICY,
        coins=("BTC",),
        kind=Kind.NEWS,
        author="Anonymous",
        desk="Desk",
        content_hash=f"h{n}",
    )


@pytest.fixture
def worst_case(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    # zlib's fastest level for these writes: the level changes only the stored size, which this
    # test does not read, and level 9 on 100 incompressible 300 KB documents took 3.5 s.
    monkeypatch.setattr(documents, "LEVEL", 1)
    store = runtime.store()
    max_body = runtime.settings().max_body_bytes
    rng = random.Random(12)
    first = worst_article(0, max_body, rng)
    ids = []
    for n in range(100):
        # One random body shared by all keeps the test quick; each story still differs in id and date.
        moment = T0 + timedelta(minutes=n)
        article = replace(first, id=f"{n:020x}", guid=f"g{n}", published=moment, updated=moment, first_seen=moment)
        store.create_article(article, guid=None)
        ids.append(article.id)
    assert len(store.get_articles(ids)) == 100
    return ids


@pytest.fixture
def patient_site(site: Site) -> Site:
    """The gateway with room for moto on a shared machine, far slower than DynamoDB and Lambda
    (reading 30 MB of stories takes seconds): sizes are what these tests are about, and the
    time limits have their own tests (tests/devtools/test_apigw.py)."""
    gateway = site.served.gateway
    gateway.config = replace(gateway.config, function_timeout_seconds=120, integration_timeout_seconds=120)
    return site


NEXT = re.compile(r'<([^>]+)>; rel="next"')


def test_the_largest_pages_fit_what_lambda_may_return_and_page_through_every_story(
    worst_case: list[str], patient_site: Site
) -> None:
    # One test, one 30 MB table: filling it takes a good part of its time.
    site = patient_site
    for path, client in (
        ("/feed.json", "identity"),
        ("/feed.rss", "identity"),
        ("/feed.atom", "identity"),
        ("/feed.atom", "gzip"),  # Atom escapes the HTML once more: the biggest text to compress
        ("/articles", "identity"),
    ):
        resp, raw, result = site.get(f"{path}?limit=100", CLIENTS[client])
        where = f"{client} {path}"
        assert resp.status == 200, (where, raw[:200])
        assert len(json.dumps(result).encode()) <= LAMBDA_LIMIT, where
        if path != "/articles":  # story bodies: far more than one response can carry
            assert NEXT.search(resp.headers.get("Link") or ""), f"{where}: a cut page says where to go on"
    # Following `next` from the first page lists each of the 100 stories exactly once.
    seen: list[str] = []
    url: str | None = "/feed.json?limit=100"
    pages = 0
    while url:
        resp, raw, result = site.get(url, CLIENTS["identity"])
        assert resp.status == 200 and len(json.dumps(result).encode()) <= LAMBDA_LIMIT
        feed = json.loads(raw)
        seen += [item["id"] for item in feed["items"]]
        url = feed.get("next_url")
        pages += 1
        assert pages < 100
    assert pages > 1
    assert len(seen) == len(set(seen)) == 100

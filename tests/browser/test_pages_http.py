"""The page routes over real HTTP, without a browser: negotiation, caching, redirects, escaping."""

from __future__ import annotations

import dataclasses
import http.client
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from devtools.lambda_local import api_event
from newsroom.core.config import Settings
from newsroom.serve import pages
from newsroom.wiring import clients as runtime
from tests.browser.conftest import Site

ROOT = Path(__file__).resolve().parents[2]
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
SEED_TITLE = "Hong Kong Expands Digital Asset Ecosystem With Tokenization and Crypto Infrastructure"


def raw_get(site: Site, path: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    """One request, redirects not followed."""
    parts = urlsplit(site.base_url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    conn.request("GET", parts.path + path, headers=headers)  # the stage prefix, /v1
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp


def story_id(site: Site, title: str) -> str:
    return next(str(a["id"]) for a in site.articles() if a["title"] == title)


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (BROWSER_ACCEPT, True),
        ("text/html", True),
        ("application/xhtml+xml", True),
        ("text/html;q=0.5, */*;q=0.1", True),
        (None, False),
        ("", False),
        ("*/*", False),
        ("application/json", False),
        ("application/json, text/html;q=0.9", False),
        ("text/html;q=0.5, application/json", False),
        ("text/html, application/json", False),  # a tie keeps the API's default
        ("text/html;q=0", False),
        ("text/html;q=0.5, */*", False),
        ("text/html;q=abc", False),
    ],
)
def test_wants_html_follows_the_accept_header(accept: str | None, html: bool) -> None:
    assert pages.wants_html(accept) is html


def test_slugs_read_as_the_title_and_resolve_by_id() -> None:
    assert pages.article_id_from_slug("hong-kong-expands-0123456789abcdef0123") == "0123456789abcdef0123"
    assert pages.article_id_from_slug("0123456789abcdef0123") == "0123456789abcdef0123"
    for bad in ("hong-kong", "x-0123456789abcdef012", "x-0123456789ABCDEF0123", "../0123456789abcdef0123", ""):
        assert pages.article_id_from_slug(bad) is None, bad


def test_home_and_article_negotiate_html_or_json(site: Site) -> None:
    article_id = story_id(site, SEED_TITLE)
    for path in ("/", f"/articles/{article_id}"):
        status, html_headers, html_body = site.get(path, accept=BROWSER_ACCEPT)
        assert status == 200
        assert html_headers["Content-Type"] == "text/html; charset=utf-8"
        assert html_body.startswith("<!DOCTYPE html>")
        status, json_headers, json_body = site.get(path, accept="application/json")
        assert status == 200
        assert json_headers["Content-Type"] == "application/json"
        json.loads(json_body)
        _, default_headers, default_body = site.get(path, accept="*/*")
        assert default_body == json_body  # curl and API clients keep getting JSON
        assert default_headers["ETag"] == json_headers["ETag"]
        for headers in (html_headers, json_headers):
            assert "Accept" in [v.strip() for v in headers["Vary"].split(",")], (path, headers)
        assert html_headers["ETag"] != json_headers["ETag"]  # one validator per representation


def test_html_representation_answers_if_none_match_with_304(site: Site) -> None:
    article_id = story_id(site, SEED_TITLE)
    for path in (f"/articles/{article_id}", "/category/policy", "/static/site.css"):
        first = raw_get(site, path, {"Accept": BROWSER_ACCEPT})
        etag = first.getheader("ETag")
        assert first.status == 200 and etag, path
        again = raw_get(site, path, {"Accept": BROWSER_ACCEPT, "If-None-Match": etag})
        assert again.status == 304, path
    # The JSON representation's ETag does not validate the HTML one.
    json_etag = raw_get(site, f"/articles/{article_id}", {"Accept": "application/json"}).getheader("ETag")
    crossed = raw_get(site, f"/articles/{article_id}", {"Accept": BROWSER_ACCEPT, "If-None-Match": json_etag or ""})
    assert crossed.status == 200


def test_news_path_redirects_to_the_one_canonical_slug(site: Site) -> None:
    article_id = story_id(site, SEED_TITLE)
    status, _, body = site.get("/")
    assert status == 200
    stage = urlsplit(site.base_url).path  # page links carry the stage prefix, /v1
    slug = next(
        part.split('"')[0] for part in body.split(f'href="{stage}/news/')[1:] if article_id in part.split('"')[0]
    )
    assert slug.startswith("hong-kong-expands-digital-asset-ecosystem-")
    assert slug.endswith(f"-{article_id}")
    assert raw_get(site, f"/news/{slug}", {}).status == 200
    for other in (f"old-headline-{article_id}", article_id):
        moved = raw_get(site, f"/news/{other}", {})
        assert moved.status == 301
        assert moved.getheader("Location") == f"{stage}/news/{slug}"


@pytest.mark.parametrize("path", ["/news/no-such-story-0123456789abcdef0123", "/news/not-a-story", "/category/weather"])
def test_unknown_pages_are_html_404s(site: Site, path: str) -> None:
    status, headers, body = site.get(path)
    assert status == 404
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == "no-store"
    assert '<h1 class="page-heading">Page not found</h1>' in body


def test_category_page_lists_only_that_category(site: Site) -> None:
    by_category: dict[str, set[str]] = {}
    for a in site.articles():
        by_category.setdefault(a["category"], set()).add(a["title"])
    for category, titles in by_category.items():
        status, _, body = site.get(f"/category/{category.lower()}")
        assert status == 200
        for a in site.articles():
            linked = f">{a['title']}</a></h2>" in body
            assert linked == (a["title"] in titles), (category, a["title"])
        assert f'href="{site.base_url}/feed.rss?category={category.lower()}"' in body


def test_pages_escape_stored_text_and_resanitize_bodies(site: Site) -> None:
    article_id = story_id(site, SEED_TITLE)
    stored = runtime.store().get_article(article_id)
    assert stored is not None
    hostile = dataclasses.replace(
        stored.article,
        title='<script>alert("t")</script> & "quotes"',
        standfirst="<img src=x onerror=alert(1)>",
        content_html='<p>fine</p><script>alert("b")</script><p onclick="alert(2)">x</p>',
    )
    event = APIGatewayProxyEvent(api_event("GET", "/", {"Host": "example.test", "X-Forwarded-Proto": "https"}))
    html = pages.article_page(hostile, runtime.store(), Settings.from_env(), event)
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt; &amp; &#34;quotes&#34;" in html
    assert "onclick" not in html
    assert "<p>fine</p>" in html


def test_jinja2_is_imported_only_for_pages() -> None:
    """The JSON routes' cold start does not load Jinja2; the first page does."""
    probe = r"""
import sys
sys.path[:0] = [sys.argv[1] + "/functions/api", sys.argv[1] + "/shared", sys.argv[1]]
from devtools.lambda_local import FakeLambdaContext, api_event
from newsroom.core.models import Page
from newsroom.wiring import clients as runtime

class EmptyStore:
    def get_prices(self): return []
    def get_price_board(self): return [], {}
    def list_articles(self, listing, *, limit, cursor, since=None): return Page((), None)
    def list_events(self, listing, *, limit, cursor): return Page((), None)
    def get_source_states(self, ids): return {}

runtime.store = lambda: EmptyStore()
import app
assert "jinja2" not in sys.modules, "imported at cold start"
for path in ("/", "/prices", "/health"):
    out = app.lambda_handler(api_event("GET", path, {"Host": "x.test"}), FakeLambdaContext())
    assert out["statusCode"] == 200, (path, out)
assert "jinja2" not in sys.modules, "imported by a JSON route"
out = app.lambda_handler(api_event("GET", "/", {"Host": "x.test", "Accept": "text/html"}), FakeLambdaContext())
assert out["statusCode"] == 200 and "<!DOCTYPE html>" in out["body"], out
assert "jinja2" in sys.modules
print("ok")
"""
    env = {"POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_SERVICE_NAME": "t", "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run(
        [sys.executable, "-I", "-c", probe, str(ROOT)], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")


def test_event_parts_escape_stored_text_and_link_only_http_members(site: Site) -> None:
    from tests.browser.conftest import event_pages

    rendered = event_pages(site)
    top = rendered["home-events"].split('class="top-events"', 1)[1].split("</section>", 1)[0]
    assert "Top stories" in top and '<span class="more-sources">+2 sources</span>' in top
    stage = urlsplit(site.base_url).path
    assert f'href="{stage}/news/hong-kong-expands-digital-asset-ecosystem-' in top
    section = rendered["article-event"].split('class="also-reported"', 1)[1].split("</section>", 1)[0]
    assert "Also reported by" in section
    assert section.count("<li>") == 3  # every member but the story itself
    assert "Hong Kong Expands" not in section
    assert "<script>" not in section and "<b>" not in section
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Zentrix &amp; &#34;Co&#34; &lt;b&gt;exploit&lt;/b&gt;"
        in section
    )
    assert 'href="https://hostile.example/a?x=1&amp;y=2"' in section
    assert "javascript:" not in section and "Not a link</li>" in section

"""Server-rendered newsroom pages: the home page, category pages and the article page.

The pages prove the backend carries every field of the reference article page
(`../shared/seed/article-page.txt`): ticker, category, headline, standfirst, byline and desk,
date and reading time, kind tag, lead image and caption, body, disclaimer and the credit line
linking the original publisher. They are plain HTML plus one small stylesheet: nothing needs
JavaScript, and the ticker scrolls by CSS animation over the one list in the markup.

Jinja2 (with autoescaping) is imported only when a page is rendered, so the JSON routes that
share this Lambda function do not pay for it at cold start; importing this module is cheap.

Routes owned here (`build_pages_router`): `/news/{slug}`, `/category/{name}` and
`/static/site.css`. `GET /` and `GET /articles/{id}` belong to the JSON API, which asks
`wants_html()` and renders `home_page()` / `article_page()` for browsers, so one URL has both
representations (the API adds `Vary: Accept`; each has its own ETag).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import Router

from newsroom.core.config import Settings, settings
from newsroom.core.events import Event
from newsroom.core.html import sanitize_html
from newsroom.core.models import Article, Category, Price, iso
from newsroom.core.urls import is_http_url
from newsroom.serve import caching
from newsroom.serve.display import format_change, format_date, format_reading_time, format_usd
from newsroom.serve.formats.common import original_article_url, published_html
from newsroom.store.cursor import CursorError
from newsroom.store.roles import ApiStore

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
    from jinja2 import Environment

HTML = "text/html; charset=utf-8"
CSS = "text/css; charset=utf-8"
PAGE_SIZE = 20
TOP_EVENTS = 5  # events the home page leads with: one Query of the "top" listing
MAX_SLUG_WORDS_CHARS = 80

_SLUG = re.compile(r"^(?:[a-z0-9-]*-)?([0-9a-f]{20})$")
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_JSON_TYPES = frozenset({"application/json", "application/problem+json", "application/feed+json"})
_WILDCARDS = frozenset({"*/*", "text/*", "application/*"})


# -- content negotiation -------------------------------------------------------------------------


def wants_html(accept: str | None) -> bool:
    """True when the Accept header prefers HTML: a browser, not an API client.

    Only an explicit `text/html` counts, and it must weigh at least as much as any JSON type
    named explicitly and any wildcard. `*/*` alone, no header, or `application/json` get JSON,
    so existing API clients are unaffected. Browsers send `text/html,…,*/*;q=0.8`.
    """
    html = json_q = wildcard = 0.0
    for part in (accept or "").split(","):
        media, _, params = part.partition(";")
        media = media.strip().lower()
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        if media in _HTML_TYPES:
            html = max(html, q)
        elif media in _JSON_TYPES:
            json_q = max(json_q, q)
        elif media in _WILDCARDS:
            wildcard = max(wildcard, q)
    return html > 0 and html > json_q and html >= wildcard


# -- URLs -----------------------------------------------------------------------------------------


def article_slug(article: Article) -> str:
    """`hong-kong-expands-digital-asset-…-<id>`: readable, and stable because the id ends it.

    The page is found by the id alone (one GetItem); the words are for people and search
    engines. A corrected headline changes the words, and the old URL redirects to the new one.
    """
    return slug_of(article.title, article.id)


def slug_of(title: str, story_id: str) -> str:
    """`article_slug` from a title and id alone (an event's member carries no Article)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    if len(words) > MAX_SLUG_WORDS_CHARS:
        words = words[:MAX_SLUG_WORDS_CHARS].rsplit("-", 1)[0]
    return f"{words}-{story_id}" if words else story_id


def article_id_from_slug(slug: str) -> str | None:
    match = _SLUG.match(slug)
    return match.group(1) if match else None


# What API Gateway itself writes into `requestContext` (never what the client sent): the
# domain the API was invoked on and the stage. An execute-api domain carries the stage as the
# first path segment; a custom domain maps its own base path, which the event does not say, so
# a deployment on one sets PUBLIC_BASE_URL. Stage names are letters, digits, `-` and `_`
# (API Gateway's CreateStage); `$default` (HTTP APIs) has no path segment.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_EXECUTE_API = re.compile(r"[a-z0-9]+\.execute-api\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?")
_STAGE = re.compile(r"[A-Za-z0-9_-]{1,128}")


def base_url(event: BaseProxyEvent, config: Settings) -> str:
    """The public base URL of the API and pages, for links, feed URLs and redirects.

    PUBLIC_BASE_URL when configured; else the domain and stage API Gateway puts in
    `requestContext` (the proxy integration's input format, https://docs.aws.amazon.com/apigateway/
    latest/developerguide/set-up-lambda-proxy-integrations.html; `$context.domainName` is "the
    full domain name used to invoke the API"), over HTTPS, the only scheme API Gateway serves.
    Never `Host` or `X-Forwarded-*`: a client sets those, and what they said would be reflected
    into links and redirects that shared caches keep for everyone. With neither (an event
    without a domain), links are root-relative: "" is the base.
    """
    if config.public_base_url:
        return config.public_base_url
    context = event.raw_event.get("requestContext")
    context = context if isinstance(context, dict) else {}
    domain, stage = context.get("domainName"), context.get("stage")
    if not isinstance(domain, str) or not _DOMAIN_NAME.fullmatch(domain):
        return ""
    if _EXECUTE_API.fullmatch(domain.lower()) and isinstance(stage, str) and _STAGE.fullmatch(stage):
        return f"https://{domain.lower()}/{stage}"
    return f"https://{domain.lower()}"


# -- view data --------------------------------------------------------------------------------


def ticker_items(prices: list[Price], config: Settings) -> list[dict[str, str]]:
    """The configured pairs in configured order, each as the reference shows it."""
    by_symbol = {p.symbol: p for p in prices}
    items = []
    for symbol in config.price_symbols:
        price = by_symbol.get(symbol)
        if price is None:
            continue
        try:
            shown = format_usd(price.price)
        except ValueError:
            continue  # a NaN from the provider is dropped, never rendered
        change = format_change(price.change_24h_pct)
        direction = "down" if change.startswith("-") else "up" if change else "flat"
        items.append({"pair": price.pair, "price": shown, "change": change, "direction": direction})
    return items


class _Site:
    """What every page needs: settings, the request's base URL and link helpers."""

    def __init__(self, config: Settings, event: BaseProxyEvent) -> None:
        self.config = config
        self.base = base_url(event, config)
        # "/v1" behind an API Gateway stage. One leading slash, always: a path that began "//"
        # would make every root-relative link and redirect point at another host.
        segments = urlsplit(self.base).path.strip("/")
        self.prefix = "/" + segments if segments else ""

    def path(self, path: str) -> str:
        return f"{self.prefix}{path}"

    def absolute(self, path: str) -> str:
        return f"{self.base}{path}"

    def context(self, store: ApiStore, feed_query: str = "") -> dict[str, Any]:
        feeds = [
            ("application/rss+xml", "RSS", "/feed.rss"),
            ("application/atom+xml", "Atom", "/feed.atom"),
            ("application/feed+json", "JSON Feed", "/feed.json"),
        ]
        return {
            "site_name": self.config.site_name,
            "desk_name": self.config.desk_name,
            "home_url": self.path("/"),
            "stylesheet_url": self.path(f"/static/site.css?v={stylesheet_version()}"),
            "categories": [{"name": c.value, "url": self.path(f"/category/{c.value.lower()}")} for c in Category],
            "ticker": ticker_items(store.get_prices(), self.config),
            "feeds": [
                {
                    "type": t,
                    "label": label,
                    "title": f"{self.config.site_name} ({label})",
                    "url": self.absolute(p) + feed_query,
                }
                for t, label, p in feeds
            ],
        }

    def summary(self, article: Article) -> dict[str, Any]:
        return {
            "title": article.title,
            "url": self.path(f"/news/{article_slug(article)}"),
            "standfirst": article.standfirst,
            "category": article.category.value,
            "category_url": self.path(f"/category/{article.category.value.lower()}"),
            "published_iso": iso(article.published),
            "published": format_date(article.published),
            "reading_time": format_reading_time(article.reading_minutes),
            "credit_domain": article.credit_domain,
        }

    def top_event(self, event: Event) -> dict[str, Any] | None:
        """A home-page entry: the lead report, linked to our page of it, and "+N sources"."""
        lead = event.lead
        if lead is None:
            return None
        return {
            "title": lead.title,
            "url": self.path(f"/news/{slug_of(lead.title, lead.story_id)}"),
            "outlet": lead.source_name,
            "published_iso": iso(lead.published),
            "published": format_date(lead.published),
            "more_sources": max(0, event.coverage - 1),
        }


def also_reported_by(event: Event | None, article: Article) -> list[dict[str, str | None]]:
    """The event's other reports for the article page; a link only where it is an http(s) URL."""
    if event is None:
        return []
    return [
        {"outlet": m.source_name, "title": m.title, "url": m.url if is_http_url(m.url) else None}
        for m in event.others(article.id)
    ]


# -- rendering ----------------------------------------------------------------------------------


@cache
def _environment() -> Environment:
    # Imported here, not at module level: only page requests pay for Jinja2.
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(
        loader=PackageLoader("newsroom.serve", "templates"),
        autoescape=True,  # every template is HTML; stored text can hold `<` and `&`
        undefined=StrictUndefined,  # a misspelt field fails the test, not the reader
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _render(template: str, **context: Any) -> str:
    return _environment().get_template(template).render(**context)


@cache
def stylesheet() -> str:
    return resources.files("newsroom.serve").joinpath("templates", "site.css").read_text(encoding="utf-8")


@cache
def stylesheet_version() -> str:
    # In the stylesheet's URL, so a new deploy's CSS is fetched while old copies cache for a year.
    return hashlib.sha256(stylesheet().encode()).hexdigest()[:12]


def home_page(
    store: ApiStore,
    config: Settings,
    event: BaseProxyEvent,
    *,
    category: Category | None = None,
) -> str:
    """The latest stories (one entry per story: copies live on their story, never beside it)."""
    site = _Site(config, event)
    listing = f"cat#{category.value.lower()}" if category else "all"
    cursor = (event.get_query_string_value("cursor") or "").strip() or None
    try:
        page = store.list_articles(listing, limit=PAGE_SIZE, cursor=cursor)
    except CursorError:
        page = store.list_articles(listing, limit=PAGE_SIZE, cursor=None)  # a stale link: start over
    path = f"/category/{category.value.lower()}" if category else "/"
    more = site.path(path) + "?" + urlencode({"cursor": page.next_cursor}) if page.next_cursor else None
    title = f"{category.value} news" if category else "Latest crypto news"
    description = (
        f"{category.value} stories from {config.site_name}, each credited to its original publisher."
        if category
        else f"{config.site_name}: crypto news, each story credited to its original publisher."
    )
    feed_query = "?" + urlencode({"category": category.value.lower()}) if category else ""
    top: list[dict[str, Any]] = []
    if category is None and cursor is None:  # the front page alone leads with the top events
        events = store.list_events("top", limit=TOP_EVENTS, cursor=None).items
        top = [view for view in (site.top_event(e) for e in events) if view is not None]
    return _render(
        "home.html",
        **site.context(store, feed_query),
        page_title=f"{title} | {config.site_name}" if category else f"{config.site_name}: {title}",
        heading=title,
        description=description,
        canonical_url=site.absolute(path),
        og_type="website",
        og_image=None,
        current_category=category.value if category else None,
        stories=[site.summary(a) for a in page.items],
        top_events=top,
        more_url=more,
    )


def article_page(
    article: Article, store: ApiStore, config: Settings, event: BaseProxyEvent, *, story_event: Event | None = None
) -> str:
    """Every field of the reference article page, top to bottom, and the other reports of its
    event ("Also reported by")."""
    from markupsafe import Markup

    site = _Site(config, event)
    page_url = site.absolute(f"/news/{article_slug(article)}")
    return _render(
        "article.html",
        **site.context(store),
        page_title=f"{article.title} | {config.site_name}",
        description=article.standfirst,
        # The original publisher's URL: our copy must not compete with the story's source.
        canonical_url=original_article_url(article),
        page_url=page_url,
        og_type="article",
        og_image=article.image.url,
        current_category=None,  # aria-current marks the category page itself, not its stories
        article=site.summary(article),
        language=article.language or "en",
        author=article.author,
        desk=article.desk,
        kind_label=article.kind.value.upper(),
        image={
            "url": article.image.url,
            "alt": article.image.alt,
            "caption": article.image.caption,
            "is_default": article.image.is_default,
            "label": article.category.value,
        },
        # Sanitized with nh3 when stored; sanitized again here (idempotent, ~30 µs) so an item
        # written by an older version or by hand can never put script into a page.
        body=Markup(sanitize_html(published_html(article))),  # noqa: S704 - the allow-list output is the markup
        body_truncated=article.body_truncated,
        excerpt_only=article.excerpt_only,
        disclaimer=config.disclaimer,
        credit={"line": article.credit_line, "url": article.credit_url, "domain": article.credit_domain},
        copies=[{"name": c.source_name, "url": c.url} for c in article.copies],
        also_reported_by=also_reported_by(story_event, article),
        published_iso=iso(article.published),
        updated_iso=iso(article.updated),
    )


def not_found_page(store: ApiStore, config: Settings, event: BaseProxyEvent, detail: str) -> str:
    site = _Site(config, event)
    return _render(
        "not_found.html",
        **site.context(store),
        page_title=f"Not found | {config.site_name}",
        description=detail,
        canonical_url=None,
        og_type="website",
        og_image=None,
        current_category=None,
        detail=detail,
    )


# -- responses ----------------------------------------------------------------------------------


def html_response(
    body: str,
    headers_in: Mapping[str, str],
    *,
    status: int = 200,
    max_age: int = 60,
    content_type: str = HTML,
) -> Response:
    """A page with an ETag of its own bytes, answering a matching If-None-Match with 304.

    As in the JSON API: gzip for clients that accept it (`caching.accepts_gzip`, q-values
    honoured), compressed here and not by Powertools, with the coding named in the ETag, and
    `Vary: Origin` because CORS headers follow the Origin header.
    """
    gzipped = caching.will_gzip(body, headers_in.get("accept-encoding"))
    etag = caching.etag(body, gzipped=gzipped)
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={max_age}" if status == 200 else "no-store",
        "Vary": "Accept-Encoding, Origin",
    }
    if status == 200 and caching.matches(headers_in.get("if-none-match"), etag):
        return Response(status_code=304, body="", headers=headers, compress=False)
    if gzipped:
        return caching.gzip_response(status, content_type, body, headers)
    return Response(status_code=status, content_type=content_type, body=body, headers=headers, compress=False)


def build_pages_router(store_factory: Callable[[], ApiStore], config: Callable[[], Settings] = settings) -> Router:
    """The page routes, over the same store and settings as the JSON API."""
    router = Router()

    @router.get("/news/<slug>")
    def news(slug: str) -> Response:
        event = router.current_event
        store = store_factory()
        article_id = article_id_from_slug(slug)
        stored = store.get_article(article_id) if article_id else None
        if stored is None:
            body = not_found_page(store, config(), event, "No story lives at this address.")
            return html_response(body, event.headers, status=404)
        canonical_slug = article_slug(stored.article)
        if slug != canonical_slug:  # a corrected headline, or a hand-typed URL: one address per story
            location = _Site(config(), event).path(f"/news/{canonical_slug}")
            return Response(status_code=301, body="", headers={"Location": location, "Cache-Control": "max-age=3600"})
        story_event = store.get_event(stored.event_id) if stored.event_id else None
        body = article_page(stored.article, store, config(), event, story_event=story_event)
        return html_response(body, event.headers, max_age=300)  # short: its event may grow

    @router.get("/category/<name>")
    def category(name: str) -> Response:
        event = router.current_event
        store = store_factory()
        by_name = {c.value.lower(): c for c in Category}
        chosen = by_name.get(name.lower())
        if chosen is None:
            allowed = ", ".join(c.value for c in Category)
            body = not_found_page(store, config(), event, f"There is no such category; try one of {allowed}.")
            return html_response(body, event.headers, status=404)
        return html_response(home_page(store, config(), event, category=chosen), event.headers, max_age=60)

    @router.get("/static/site.css")
    def site_css() -> Response:
        # Versioned by content hash in every page's link, so it can be cached for a year.
        return html_response(stylesheet(), router.current_event.headers, content_type=CSS, max_age=31_536_000)

    return router

"""HTTP API: routes over a `Store`, built on Powertools' REST resolver.

`ROUTES` is the one description of the API: the resolver registers its routes from it and
`scripts/gen_openapi.py` writes the OpenAPI document from it (offline, so pydantic never joins
the cold start); a test fails when the committed document and the code disagree.

Every error is RFC 9457 `application/problem+json` with a detail that says what to change; a
bad parameter is a 400, never a 500, and errors are `Cache-Control: no-store`. Each success
carries an ETag (per content coding, so a gzip body and a plain one never share a strong
validator), Cache-Control suited to the route and `Vary: Origin` (CORS headers are only sent
to requests that carry an Origin, so a shared cache must key on it), plus `Accept-Encoding`
where the route compresses. A matching `If-None-Match` gets a bodyless 304. There is no
`Last-Modified`: a page is assembled per request from several stories, and no stored time moves
with every change to it (a back-dated story, an attached copy, an expired story dropping off),
so only the content hash can say "unchanged"; RFC 9110 §13.1.3 then has `If-Modified-Since` ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.router import Router

from newsroom.core.config import Settings, load_sources, settings
from newsroom.core.models import Article, Category, ProviderHealth, Source, SourceState, iso, utc
from newsroom.serve import pages, wire
from newsroom.serve.display import price_display
from newsroom.serve.formats.api_json import article_json, article_summary_json
from newsroom.serve.formats.atom import render_atom
from newsroom.serve.formats.common import FeedMeta
from newsroom.serve.formats.jsonfeed import render_json_feed
from newsroom.serve.formats.rss import render_rss
from newsroom.serve.problems import Problem, bad_request, handle_problems
from newsroom.serve.security import SecuredResolver
from newsroom.store.dynamo import CursorCodec, CursorError, Store

MAX_LIMIT = 100
DEFAULT_LIMIT = 20
SOURCES_DEFAULT_LIMIT = 50
# Story bodies per BatchGetItem while a feed page fills (one call for a default page).
BATCH_STEP = 25
# The scope signed into /sources cursors; no article listing has this name, so a cursor of one
# cannot be replayed on the other.
SOURCES_CURSOR_SCOPE = "/sources"
COIN_PATTERN = "^[A-Za-z0-9]{2,10}$"
ARTICLE_ID_PATTERN = "^[0-9a-f]{20}$"
SOURCE_ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_COIN = re.compile(COIN_PATTERN)
_ARTICLE_ID = re.compile(ARTICLE_ID_PATTERN)
_SOURCE_ID = re.compile(SOURCE_ID_PATTERN)
_DIGITS = re.compile(r"[0-9]+")
MAX_LIMIT_CHARS = 8  # "00000020" still reads as 20; a longer string is not a page size
SINCE_MAX_LENGTH = 64
# RFC 3339 `full-date` or `date-time` (§5.6), which is what JSON Schema's formats mean too.
_SINCE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2})))?$",
    re.ASCII,
)


# --- the route table -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Param:
    """A request parameter: how the OpenAPI document describes it (the code checks the same)."""

    name: str
    description: str
    schema: Mapping[str, Any]
    where: str = "query"

    @property
    def required(self) -> bool:
        return self.where == "path"


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """One GET route: its handler, what it answers and how caches may keep the answer."""

    path: str  # OpenAPI form, "/articles/{article_id}"
    handler: str  # the `Api` method that answers it
    summary: str
    description: str
    media_type: str  # the 200 body's media type
    schema: str  # the 200 body's schema in components/schemas
    max_age: int | None  # Cache-Control max-age in seconds; None: no-store, no validators
    params: tuple[Param, ...] = ()
    compress: bool = False
    paged: bool = False  # has a `Link: rel="next"` header
    not_found: bool = False
    bad_request: bool = False
    tags: tuple[str, ...] = field(default=())
    # Also an HTML page for clients that ask for text/html (newsroom.serve.pages); `Vary: Accept`.
    html_page: bool = False

    @property
    def resolver_path(self) -> str:
        return self.path.replace("{", "<").replace("}", ">")

    @property
    def operation_id(self) -> str:
        return self.handler


_FILTER_NOTE = "Use at most one of category, coin and source."


def paging_params(noun: str, default: int, scope: str = "") -> tuple[Param, Param]:
    """`limit` and `cursor`, as every paged route takes them."""
    return (
        Param(
            "limit",
            f"{noun} per page, 1 to {MAX_LIMIT}.",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": default},
        ),
        Param(
            "cursor",
            f'Opaque cursor from a previous page\'s `next_cursor` (or `Link: rel="next"`){scope}. A tampered'
            " or foreign cursor is a 400.",
            {"type": "string", "minLength": 1, "maxLength": 512},
        ),
    )


LIST_PARAMS: tuple[Param, ...] = (
    *paging_params("Items", DEFAULT_LIMIT, ", for the same filters"),
    Param(
        "category",
        f"Only stories of this category (case-insensitive). {_FILTER_NOTE}",
        {"type": "string", "enum": [c.value for c in Category]},
    ),
    Param(
        "coin",
        f"Only stories tagged with this coin ticker, such as BTC (case-insensitive). {_FILTER_NOTE}",
        {"type": "string", "pattern": COIN_PATTERN},
    ),
    Param(
        "source",
        f"Only stories from this source id (see GET /sources); an unknown id is a 400. {_FILTER_NOTE}",
        {"type": "string", "pattern": SOURCE_ID_PATTERN},
    ),
    Param(
        "since",
        "Only stories published at or after this instant: an RFC 3339 date-time"
        " (2026-05-31T08:00:00Z) or a date (2026-05-31, meaning its midnight UTC).",
        {"type": "string", "anyOf": [{"format": "date-time"}, {"format": "date"}], "maxLength": SINCE_MAX_LENGTH},
    ),
)

_FEED_DESCRIPTION = (
    "The newest stories, one item per story, each crediting its original publisher."
    " Paged like /articles; the next page is linked from the document and the Link header."
)

ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec(
        "/",
        "index",
        "API index",
        "The site name and links to the main routes.",
        "application/json",
        "Index",
        300,
        compress=True,
        tags=("meta",),
        html_page=True,
    ),
    RouteSpec(
        "/health",
        "health",
        "Liveness",
        'Always `{"status": "ok"}` while the function runs; never cached.',
        "application/json",
        "Health",
        None,
        tags=("meta",),
    ),
    RouteSpec(
        "/openapi.json",
        "openapi",
        "This document",
        "The OpenAPI 3.1 description of the API.",
        "application/json",
        "OpenApiDocument",
        3600,
        compress=True,
        tags=("meta",),
    ),
    RouteSpec(
        "/articles",
        "list_articles",
        "List stories",
        "Story summaries (no body), newest first; one DynamoDB Query per page.",
        "application/json",
        "ArticlePage",
        60,
        LIST_PARAMS,
        compress=True,
        paged=True,
        bad_request=True,
        tags=("articles",),
    ),
    RouteSpec(
        "/articles/{article_id}",
        "get_article",
        "One story",
        "Every field of the article page, with its syndication: the original it credits and every copy seen.",
        "application/json",
        "Article",
        3600,
        (
            Param(
                "article_id",
                "The story id: 20 hexadecimal characters. Any other value is a 404.",
                {"type": "string", "pattern": ARTICLE_ID_PATTERN},
                where="path",
            ),
        ),
        compress=True,
        not_found=True,
        tags=("articles",),
        html_page=True,
    ),
    RouteSpec(
        "/feed.json",
        "feed_json",
        "JSON Feed 1.1",
        _FEED_DESCRIPTION,
        "application/feed+json",
        "JsonFeed",
        300,
        LIST_PARAMS,
        compress=True,
        paged=True,
        bad_request=True,
        tags=("feeds",),
    ),
    RouteSpec(
        "/feed.rss",
        "feed_rss",
        "RSS 2.0",
        _FEED_DESCRIPTION,
        "application/rss+xml",
        "XmlDocument",
        300,
        LIST_PARAMS,
        compress=True,
        paged=True,
        bad_request=True,
        tags=("feeds",),
    ),
    RouteSpec(
        "/feed.atom",
        "feed_atom",
        "Atom 1.0",
        _FEED_DESCRIPTION,
        "application/atom+xml",
        "XmlDocument",
        300,
        LIST_PARAMS,
        compress=True,
        paged=True,
        bad_request=True,
        tags=("feeds",),
    ),
    RouteSpec(
        "/prices",
        "prices",
        "Price ticker",
        "The latest price of each configured pair, with its 24 h change, as-of time and a stale flag.",
        "application/json",
        "Prices",
        30,
        compress=True,
        tags=("prices",),
    ),
    RouteSpec(
        "/sources",
        "sources",
        "Sources and their health",
        "Every source we follow (the sources file and the registry), by id: name, homepage, kind"
        " (`original` publisher or `aggregator`), republishing right, the stories it contributed"
        " (the stories credited to it, as listed under `?source=<id>`: a copy merged into another"
        " source's story counts for that source; the count changes in the same transaction as the"
        " story, so a replayed entry never counts twice; stories past retention stay counted) and"
        " its polling health: last success, last error with its reason and time, consecutive"
        " failures, and when it is polled next (null when disabled). Two BatchGetItem calls per"
        " page (states and counts), whatever the sources' story counts.",
        "application/json",
        "Sources",
        60,
        paging_params("Sources", SOURCES_DEFAULT_LIMIT),
        compress=True,
        paged=True,
        bad_request=True,
        tags=("meta",),
    ),
)

CHARSET_MEDIA_TYPES = frozenset({"application/rss+xml", "application/atom+xml"})


# --- parameters ------------------------------------------------------------------------------


def parse_since(raw: str) -> datetime:
    """An RFC 3339 date-time or full-date as an aware UTC datetime at whole-second precision.

    Stored times have second precision, so a fraction rounds up: "12:00:00.5Z" must not match a
    story published at 12:00:00. Leap second 60 reads as 59. Instants beyond datetime's range
    (year 1 with a positive offset, say) clamp to its ends rather than fail.
    """
    match = _SINCE.match(raw) if len(raw) <= SINCE_MAX_LENGTH else None
    if not match:
        raise ValueError("not an RFC 3339 date-time or date")
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    if int(off_h or 0) > 23 or int(off_m or 0) > 59:
        raise ValueError("time offset out of range")
    try:
        if hour is None:
            return datetime(int(year), int(month), int(day), tzinfo=UTC)
        naive = datetime(int(year), int(month), int(day), int(hour), int(minute), 59 if second == "60" else int(second))
    except ValueError:
        # Our words, not datetime's: the client is told what is wrong in the API's terms.
        raise ValueError("no such date or time of day") from None
    offset = timedelta(hours=int(off_h or 0), minutes=int(off_m or 0)) * (-1 if sign == "-" else 1)
    try:
        moment = naive - offset
        if fraction and fraction.strip(".0"):  # any non-zero digit; never int() of a long fraction
            moment += timedelta(seconds=1)
    except OverflowError:
        moment = datetime.min if offset > timedelta(0) else datetime.max.replace(microsecond=0)
    return moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Body:
    """What a route answers with, before the HTTP caching headers are added."""

    text: str
    next_url: str | None = None
    media_type: str | None = None  # a negotiated representation (the HTML page); None: the route's


class Api:
    """The routes, with their store and settings injected (tests swap either)."""

    def __init__(
        self,
        store_factory: Callable[[], Store],
        config: Callable[[], Settings] = settings,
        openapi_path: Path | None = None,
    ) -> None:
        self._store_factory = store_factory
        self._config = config
        self._openapi_path = openapi_path
        self._openapi_text: str | None = None
        self.router = Router()
        for spec in ROUTES:
            # compress=False: `_serve` compresses itself (Powertools would gzip for "gzip;q=0").
            self.router.get(spec.resolver_path, compress=False)(self._serve(spec))

    @property
    def store(self) -> Store:
        return self._store_factory()

    # -- request helpers ---------------------------------------------------------------------

    def _query(self, name: str) -> str | None:
        """A query parameter as sent (None when absent); present but empty is a 400.

        Values are not trimmed or defaulted: what the document calls invalid is refused, so a
        client learns of a mistake instead of silently getting another listing.
        """
        value = self.router.current_event.get_query_string_value(name)
        if not isinstance(value, str):
            return None
        if value == "":
            raise bad_request(f"{name} is empty; give it a value or leave it out")
        return value

    def _listing(self) -> str:
        category = self._query("category")
        coin = self._query("coin")
        source = self._query("source")
        given = [n for n, v in (("category", category), ("coin", coin), ("source", source)) if v]
        if len(given) > 1:
            raise bad_request(f"use one filter at a time; got {', '.join(given)}")
        if category:
            by_name = {c.value.lower(): c for c in Category}
            if category.lower() not in by_name:
                allowed = ", ".join(c.value for c in Category)
                raise bad_request(f"unknown category {category[:40]!r}; use one of: {allowed}")
            return f"cat#{by_name[category.lower()].value.lower()}"
        if coin:
            if not _COIN.match(coin):
                raise bad_request("coin must be a ticker of 2 to 10 letters or digits, such as BTC")
            return f"coin#{coin.lower()}"
        if source:
            # The file's sources need no registry read; only another id looks in the registry.
            known = _SOURCE_ID.match(source) and (
                any(s.id == source for s in load_sources()) or any(s.id == source for s in self._known_sources())
            )
            if not known:
                raise bad_request(f"unknown source {source[:40]!r}; GET /sources lists them")
            return f"src#{source}"
        return "all"

    def _known_sources(self) -> tuple[Source, ...]:
        """The sources file merged with the registry (cached per process for a minute)."""
        # Imported here: `fanout` brings the fetch path (feedparser, urllib3: ~90 ms) that the
        # cold start of the other routes does without.
        from newsroom.fetch.fanout import known_sources

        return known_sources(self.store)

    def _limit(self, default: int = DEFAULT_LIMIT) -> int:
        raw = self._query("limit")
        if raw is None:
            return default
        # Length before int(): int() refuses strings of more than 4,300 digits (leading zeros
        # count) with a ValueError that would be a 500 (sys.int_info.default_max_str_digits).
        significant = raw.lstrip("0")
        if not _DIGITS.fullmatch(raw) or len(raw) > MAX_LIMIT_CHARS or len(significant) > len(str(MAX_LIMIT)):
            raise bad_request(f"limit must be a whole number from 1 to {MAX_LIMIT}")
        limit = int(significant or "0")
        if not 1 <= limit <= MAX_LIMIT:
            raise bad_request(f"limit must be a whole number from 1 to {MAX_LIMIT}")
        return limit

    def _since(self) -> datetime | None:
        raw = self._query("since")
        if not raw:
            return None
        try:
            return parse_since(raw)
        except ValueError as exc:
            raise bad_request(
                f"since must be an RFC 3339 date-time such as 2026-05-31T08:00:00Z or a date such as 2026-05-31 ({exc})"
            ) from exc

    def _page(self, limit: int | None = None) -> tuple[tuple[Article, ...], str | None]:
        listing = self._listing()
        limit = self._limit() if limit is None else limit
        since = self._since()
        cursor = self._query("cursor")
        try:
            page = self.store.list_articles(listing, limit=limit, cursor=cursor, since=since)
        except CursorError as exc:
            raise bad_request(f"invalid cursor: {exc}") from exc
        return page.items, page.next_cursor

    def _base_url(self) -> str:
        # One rule for the API and the pages: configured, else API Gateway's requestContext.
        return pages.base_url(self.router.current_event, self._config())

    def _url_with(self, path: str, **params: str | None) -> str:
        keep = {k: v for k, v in params.items() if v}
        return f"{self._base_url()}{path}" + (f"?{urlencode(keep)}" if keep else "")

    def _filters(self) -> dict[str, str | None]:
        return {n: self._query(n) for n in ("category", "coin", "source", "since")}

    def _next_url(self, path: str, cursor: str | None) -> str | None:
        if not cursor:
            return None
        return self._url_with(path, **self._filters(), limit=self._query("limit"), cursor=cursor)

    def _accept_encoding(self) -> str | None:
        return self.router.current_event.headers.get("accept-encoding")

    def _serve(self, spec: RouteSpec) -> Callable[..., Response]:
        handler: Callable[..., Body] = getattr(self, spec.handler)
        media_type = f"{spec.media_type}; charset=utf-8" if spec.media_type in CHARSET_MEDIA_TYPES else spec.media_type
        vary = "Accept-Encoding, Origin" if spec.compress else "Origin"
        vary = f"Accept, {vary}" if spec.html_page else vary

        def serve(**path_params: str) -> Response:
            body = handler(**path_params)
            if spec.max_age is None:
                return Response(200, media_type, body.text, {"Cache-Control": "no-store", "Vary": vary})
            gzipped = spec.compress and wire.will_gzip(body.text, self._accept_encoding())
            etag = wire.etag(body.text, gzipped=gzipped)
            headers: dict[str, str] = {
                "ETag": etag,
                "Cache-Control": f"public, max-age={spec.max_age}",
                "Vary": vary,
            }
            if body.next_url:
                headers["Link"] = f'<{body.next_url}>; rel="next"'
            if wire.matches(self.router.current_event.headers.get("if-none-match"), etag):
                # compress=False: Powertools would otherwise gzip the empty body into 20 bytes.
                return Response(status_code=304, body="", headers=headers, compress=False)
            content_type = body.media_type or media_type
            if gzipped:
                # Base64 with isBase64Encoded; BinaryMediaTypes */* has API Gateway decode it.
                return wire.gzip_response(200, content_type, body.text, headers)
            return Response(200, content_type, body.text, headers, compress=False)

        serve.__name__ = spec.handler
        return serve

    def _credit_sources(self, items: tuple[Article, ...]) -> dict[str, Source]:
        """The sources the items are credited to, for their <source> elements: the sources file,
        and the registry only when an item is credited to a source the file lacks (one added by
        OPML or the admin command), so a feed page stays one Query and one BatchGetItem."""
        sources = {source.id: source for source in load_sources()}
        wanted = {a.attribution.original_source_id if a.attribution is not None else a.source_id for a in items}
        if {w for w in wanted if w} - sources.keys():
            sources.update({source.id: source for source in self._known_sources()})  # cached a minute
        return sources

    def _feed_meta(self, path: str, next_cursor: str | None, items: tuple[Article, ...] = ()) -> FeedMeta:
        cfg = self._config()
        return FeedMeta(
            title=cfg.site_name,
            home_page_url=cfg.site_url,
            feed_url=self._url_with(path, **self._filters()),
            description=f"{cfg.site_name}: crypto news, each story credited to its original publisher",
            next_url=self._next_url(path, next_cursor),
            sources=self._credit_sources(items),
        )

    def _with_bodies(self, summaries: tuple[Article, ...], known: Mapping[str, Article]) -> tuple[Article, ...]:
        # Listing entries carry no body; one BatchGetItem fetches the bodies the page lacks.
        missing = [a.id for a in summaries if a.id not in known]
        full = {**known, **({a.id: a for a in self.store.get_articles(missing)} if missing else {})}
        return tuple(full.get(a.id, a) for a in summaries)

    def _encoded_size(self, text: str) -> int:
        return wire.encoded_size(text, gzipped=wire.will_gzip(text, self._accept_encoding()))

    def _fits(self, text: str) -> bool:
        """Whether `text`, encoded as it will be sent, is within the response body budget."""
        # No character takes more than 12 bytes once escaped (an astral one as two \uXXXX):
        # a page below budget / 12 characters fits without encoding it to find out.
        budget = wire.RESPONSE_BODY_BUDGET_BYTES
        return len(text) * 12 <= budget or self._encoded_size(text) <= budget

    def _bounded(
        self,
        articles: tuple[Article, ...],
        cursor: str | None,
        render: Callable[[tuple[Article, ...], str | None], str],
        *,
        with_bodies: bool,
    ) -> tuple[tuple[Article, ...], str | None, str]:
        """The page cut to what one response can carry: its items, `next` cursor and text.

        Lambda returns at most 6 MB (a bigger response is API Gateway's 502), and `limit` times
        MaxBodyBytes can pass that many times over. So a page stops adding items before its
        body, encoded as it will be sent (`wire.encoded_size`), would pass
        `wire.RESPONSE_BODY_BUDGET_BYTES`, and its `next` cursor continues after the last item
        it kept: a Query for that many items gives the cursor (and the items, should the
        listing have moved meanwhile). At least one item is kept, so paging always advances.
        """
        budget = wire.RESPONSE_BODY_BUDGET_BYTES
        size, fits = self._encoded_size, self._fits
        text = render(articles, cursor)
        if len(articles) <= 1 or fits(text):
            return articles, cursor, text
        # Each item's share: the page with it alone less the empty page. Exact for JSON-escaped
        # text; for gzip, compressing items apart never beats compressing them together.
        stand_in = cursor or "x" * 200  # a cursor's length, for the next link in the page
        empty = size(render((), stand_in))
        total, keep = empty, 0
        for article in articles:
            total += size(render((article,), stand_in)) - empty
            if total > budget:
                break
            keep += 1
        keep = max(keep, 1)
        by_id = {a.id: a for a in articles}
        while True:
            summaries, next_cursor = self._page(limit=keep)
            kept = self._with_bodies(summaries, by_id) if with_bodies else summaries
            text = render(kept, next_cursor)
            if keep == 1 or fits(text):
                return kept, next_cursor, text
            keep -= 1

    def _feed(self, path: str, render: Callable[[FeedMeta, tuple[Article, ...]], str]) -> Body:
        def text_of(items: tuple[Article, ...], after: str | None) -> str:
            return render(self._feed_meta(path, after, items), items)

        summaries, cursor = self._page()
        # Bodies come BATCH_STEP stories at a time (one BatchGetItem for a default page), and no
        # more once those fetched already fill a response: 100 bodies of 300 KB are 30 MB to read
        # for the dozen or so that one response can carry.
        articles: tuple[Article, ...] = ()
        for start in range(0, len(summaries), BATCH_STEP):
            articles += self._with_bodies(summaries[start : start + BATCH_STEP], {})
            if start + BATCH_STEP < len(summaries) and not self._fits(text_of(articles, cursor)):
                break
        articles, cursor, text = self._bounded(articles, cursor, text_of, with_bodies=True)
        return Body(text, next_url=self._next_url(path, cursor))

    # -- routes ------------------------------------------------------------------------------

    def index(self) -> Body:
        event = self.router.current_event
        if pages.wants_html(event.headers.get("accept")):  # a browser: the home page
            return Body(pages.home_page(self.store, self._config(), event), media_type=pages.HTML)
        links = {spec.handler: self._url_with(spec.path) for spec in ROUTES if "{" not in spec.path}
        return Body(json.dumps({"name": self._config().site_name, "links": links}))

    def health(self) -> Body:
        return Body(json.dumps({"status": "ok"}))

    def openapi(self) -> Body:
        if self._openapi_text is None:
            if self._openapi_path is None:
                raise Problem(404, "Not Found", "this deployment has no OpenAPI document")
            self._openapi_text = self._openapi_path.read_text(encoding="utf-8")
        return Body(self._openapi_text)

    def list_articles(self) -> Body:
        def render(items: tuple[Article, ...], after: str | None) -> str:
            body = {
                "items": [article_summary_json(a) for a in items],
                "next_cursor": after,
                "next_url": self._next_url("/articles", after),
            }
            return json.dumps(body, ensure_ascii=False)

        summaries, cursor = self._page()
        _, cursor, text = self._bounded(summaries, cursor, render, with_bodies=False)
        return Body(text, next_url=self._next_url("/articles", cursor))

    def get_article(self, article_id: str) -> Body:
        if not _ARTICLE_ID.match(article_id):
            raise Problem(404, "Not Found", "no article has that id (ids are 20 hexadecimal characters)")
        stored = self.store.get_article(article_id)
        if stored is None:
            raise Problem(404, "Not Found", f"no article with id {article_id}")
        article = stored.article
        event = self.router.current_event
        if pages.wants_html(event.headers.get("accept")):  # a browser: the article page
            html = pages.article_page(article, self.store, self._config(), event)
            return Body(html, media_type=pages.HTML)
        return Body(json.dumps(article_json(article), ensure_ascii=False))

    def feed_json(self) -> Body:
        return self._feed("/feed.json", render_json_feed)

    def feed_rss(self) -> Body:
        return self._feed("/feed.rss", render_rss)

    def feed_atom(self) -> Body:
        return self._feed("/feed.atom", render_atom)

    def prices(self) -> Body:
        cfg = self._config()
        now = datetime.now(UTC)
        prices, providers = self.store.get_price_board()
        by_symbol = {p.symbol: p for p in prices}
        items = []
        for symbol in cfg.price_symbols:
            price = by_symbol.get(symbol)
            if price is None:
                continue
            age = (now - price.fetched_at).total_seconds()
            stale = age > cfg.price_stale_seconds
            items.append(
                {
                    "pair": price.pair,
                    "symbol": price.symbol,
                    "quote": price.quote,
                    "price": price.price,
                    "change_24h_pct": price.change_24h_pct,
                    "display": price_display(price),
                    "as_of": (price.provider_updated_at or price.fetched_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "fetched_at": price.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "provider": price.provider,
                    "age_seconds": int(age),
                    "stale": stale,
                }
            )
        body = {
            "items": items,
            "stale_after_seconds": cfg.price_stale_seconds,
            "providers": [_provider_json(h) for _, h in sorted(providers.items())],
        }
        return Body(json.dumps(body))

    def sources(self) -> Body:
        limit = self._limit(SOURCES_DEFAULT_LIMIT)
        cursor = self._query("cursor")
        codec = CursorCodec(self._config().cursor_key)
        after: str | None = None
        if cursor:
            try:
                after = codec.decode(SOURCES_CURSOR_SCOPE, cursor)
            except CursorError as exc:
                raise bad_request(f"invalid cursor: {exc}") from exc
        store = self.store
        remaining = sorted((s for s in self._known_sources() if after is None or s.id > after), key=lambda s: s.id)
        page = remaining[:limit]
        next_cursor = codec.encode(SOURCES_CURSOR_SCOPE, page[-1].id) if len(remaining) > limit else None
        ids = [s.id for s in page]
        states = store.get_source_states(ids) if ids else {}
        counts = store.source_story_counts(ids) if ids else {}
        now = datetime.now(UTC).replace(microsecond=0)
        next_url = self._url_with("/sources", limit=self._query("limit"), cursor=next_cursor) if next_cursor else None
        body = {
            "items": [_source_json(s, states.get(s.id), counts[s.id], now) for s in page],
            "next_cursor": next_cursor,
            "next_url": next_url,
        }
        return Body(json.dumps(body, ensure_ascii=False), next_url=next_url)


# --- /sources --------------------------------------------------------------------------------


def _provider_json(health: ProviderHealth) -> dict[str, Any]:
    return {
        "provider": health.provider,
        "status": "failing" if health.consecutive_failures else "ok",
        "last_attempt": iso(health.last_attempt),
        "last_success": iso(health.last_success) if health.last_success else None,
        "last_error": health.last_error,
        "last_error_at": iso(health.last_error_at) if health.last_error_at else None,
        "consecutive_failures": health.consecutive_failures,
    }


def source_next_poll(source: Source, state: SourceState | None, now: datetime) -> datetime | None:
    """When the dispatcher will next poll `source` (no earlier than `now`), or None when it never
    will (disabled in its settings, or gone: a 410 for its current URL).

    A healthy source's stored `next_poll` is not moved by an unchanged poll (no state write), so
    once it has passed the source is polled on the grid next_poll + k * poll_interval_s
    (`fanout.on_grid`): the answer is the first grid point at or after `now`. A source never
    polled, failing past its backoff, or without a grid is due at the next tick: `now`. Ticks
    run every few minutes, so the poll itself happens up to a tick around that time.
    """
    if not source.enabled:
        return None
    if state is not None and state.disabled:
        # As `fanout.select_due`: disabled for the URL the source still has is gone; disabled
        # for a URL it no longer has means the new URL is polled at the next tick.
        return None if state.feed_url_for in (None, source.feed_url) else now
    if state is None or state.next_poll is None:
        return now
    due = utc(state.next_poll)
    if due >= now:
        return due
    if state.consecutive_failures or not state.poll_interval_s:
        return now
    interval = timedelta(seconds=state.poll_interval_s)
    steps = -((due - now) // interval)  # ceil((now - due) / interval)
    return due + steps * interval


def _source_status(source: Source, state: SourceState | None, next_poll: datetime | None) -> str:
    if next_poll is None:
        return "disabled"
    if state is None or (state.last_success is None and state.last_error is None):
        return "unknown"
    return "failing" if state.consecutive_failures else "ok"


def _source_json(source: Source, state: SourceState | None, articles: int, now: datetime) -> dict[str, Any]:
    next_poll = source_next_poll(source, state, now)
    disabled_reason = None
    if not source.enabled:
        disabled_reason = "disabled in the source's settings"
    elif next_poll is None and state is not None:
        disabled_reason = state.disabled_reason or "disabled"

    def when(moment: datetime | None) -> str | None:
        return iso(moment) if moment is not None else None

    return {
        "id": source.id,
        "name": source.name,
        "homepage": source.homepage,
        "kind": source.role.value,
        "role": source.role.value,  # the field's first name, kept for existing clients
        "rights": source.rights.value,
        "enabled": source.enabled,
        "articles": articles,
        "health": {
            "status": _source_status(source, state, next_poll),
            "last_attempt": when(state.last_attempt) if state else None,
            "last_success": when(state.last_success) if state else None,
            "last_error": state.last_error if state else None,
            "last_error_at": when(state.last_error_at) if state else None,
            "last_status": state.last_status if state else None,
            "consecutive_failures": state.consecutive_failures if state else 0,
            "next_poll": when(next_poll),
            "disabled_reason": disabled_reason,
        },
    }


def build_resolver(
    store_factory: Callable[[], Store],
    config: Callable[[], Settings] = settings,
    openapi_path: Path | None = None,
) -> APIGatewayRestResolver:
    app = SecuredResolver(
        cors=CORSConfig(allow_origin="*", max_age=600, expose_headers=["ETag", "Link"]),
        serializer=lambda obj: json.dumps(obj, ensure_ascii=False),
    )
    api = Api(store_factory, config, openapi_path)
    app.include_router(api.router)
    # Other routers (the HTML pages) are included here.
    app.include_router(pages.build_pages_router(store_factory, config))

    handle_problems(app)
    return app

"""HTTP API: routes over a `Store`, built on Powertools' REST resolver.

Every error is RFC 9457 `application/problem+json` with a detail that says what to change; a
bad parameter is a 400, never a 500. Each response carries an ETag and Cache-Control, and a
matching `If-None-Match` gets a bodyless 304.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.router import Router

from newsroom.config import Settings, load_sources, settings
from newsroom.display import price_display
from newsroom.models import Article, Category
from newsroom.render import (
    FeedMeta,
    article_json,
    article_summary_json,
    render_atom,
    render_json_feed,
    render_rss,
)
from newsroom.storage import CursorError, Store

PROBLEM_JSON = "application/problem+json"
MAX_LIMIT = 100
DEFAULT_LIMIT = 20
_COIN = re.compile(r"^[A-Za-z0-9]{2,10}$")
_ARTICLE_ID = re.compile(r"^[0-9a-f]{20}$")


class Problem(Exception):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail


def problem_response(status: int, title: str, detail: str, instance: str | None = None) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    return Response(
        status_code=status,
        content_type=PROBLEM_JSON,
        body=json.dumps(body),
        headers={"Cache-Control": "no-store"},
    )


def bad_request(detail: str) -> Problem:
    return Problem(400, "Bad Request", detail)


class Api:
    """The routes, with their store and settings injected (tests swap either)."""

    def __init__(self, store_factory: Callable[[], Store], config: Callable[[], Settings] = settings) -> None:
        self._store_factory = store_factory
        self._config = config
        self.router = Router()
        r = self.router
        r.get("/")(self.index)
        r.get("/health")(self.health)
        r.get("/articles")(self.list_articles)
        r.get("/articles/<article_id>")(self.get_article)
        r.get("/feed.json", compress=True)(self.feed_json)
        r.get("/feed.rss", compress=True)(self.feed_rss)
        r.get("/feed.atom", compress=True)(self.feed_atom)
        r.get("/prices")(self.prices)

    @property
    def store(self) -> Store:
        return self._store_factory()

    # -- request helpers ---------------------------------------------------------------------

    def _query(self, name: str) -> str | None:
        value = self.router.current_event.get_query_string_value(name)
        return value.strip() if isinstance(value, str) else None

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
            known = {s.id for s in load_sources()}
            if source not in known:
                raise bad_request(f"unknown source {source[:40]!r}; see the sources in the README")
            return f"src#{source}"
        return "all"

    def _limit(self) -> int:
        raw = self._query("limit")
        if raw is None or raw == "":
            return DEFAULT_LIMIT
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            raise bad_request(f"limit must be a whole number from 1 to {MAX_LIMIT}")
        return int(raw)

    def _page(self) -> tuple[str, tuple[Article, ...], str | None]:
        listing = self._listing()
        limit = self._limit()
        cursor = self._query("cursor") or None
        try:
            page = self.store.list_articles(listing, limit=limit, cursor=cursor)
        except CursorError as exc:
            raise bad_request(f"invalid cursor: {exc}") from exc
        return listing, page.items, page.next_cursor

    def _base_url(self) -> str:
        configured = self._config().public_base_url
        if configured:
            return configured
        event = self.router.current_event
        host = event.headers.get("host") or "localhost"
        proto = event.headers.get("x-forwarded-proto") or "https"
        context = event.raw_event.get("requestContext") or {}
        stage = str(context.get("stage") or "") if host.endswith(".amazonaws.com") else ""
        return f"{proto}://{host}" + (f"/{stage}" if stage else "")

    def _url_with(self, path: str, **params: str | None) -> str:
        keep = {k: v for k, v in params.items() if v}
        return f"{self._base_url()}{path}" + (f"?{urlencode(keep)}" if keep else "")

    def _next_url(self, path: str, cursor: str | None) -> str | None:
        if not cursor:
            return None
        params = {n: self._query(n) for n in ("category", "coin", "source", "limit")}
        return self._url_with(path, **params, cursor=cursor)

    def _respond(
        self,
        body: str,
        content_type: str,
        *,
        max_age: int,
        next_url: str | None = None,
        last_modified: datetime | None = None,
    ) -> Response:
        etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
        headers: dict[str, str] = {
            "ETag": etag,
            "Cache-Control": f"public, max-age={max_age}",
            "Vary": "Accept-Encoding",
        }
        if next_url:
            headers["Link"] = f'<{next_url}>; rel="next"'
        if last_modified is not None:
            headers["Last-Modified"] = last_modified.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
        wanted = self.router.current_event.headers.get("if-none-match") or ""
        if etag in {tag.strip() for tag in wanted.split(",")} or wanted.strip() == "*":
            return Response(status_code=304, body="", headers=headers)
        return Response(status_code=200, content_type=content_type, body=body, headers=headers)

    def _feed_meta(self, path: str, next_cursor: str | None) -> FeedMeta:
        cfg = self._config()
        params = {n: self._query(n) for n in ("category", "coin", "source")}
        return FeedMeta(
            title=cfg.site_name,
            home_page_url=cfg.site_url,
            feed_url=self._url_with(path, **params),
            description=f"{cfg.site_name}: crypto news, each story credited to its original publisher",
            next_url=self._next_url(path, next_cursor),
        )

    def _feed_articles(self) -> tuple[tuple[Article, ...], str | None]:
        _, summaries, cursor = self._page()
        # Listing entries carry no body; one BatchGetItem fetches the bodies of the page.
        full = {a.id: a for a in self.store.get_articles([a.id for a in summaries])}
        return tuple(full.get(a.id, a) for a in summaries), cursor

    # -- routes ------------------------------------------------------------------------------

    def index(self) -> Response:
        links = {
            name: self._url_with(path)
            for name, path in (
                ("articles", "/articles"),
                ("json_feed", "/feed.json"),
                ("rss", "/feed.rss"),
                ("atom", "/feed.atom"),
                ("prices", "/prices"),
            )
        }
        return self._respond(
            json.dumps({"name": self._config().site_name, "links": links}), "application/json", max_age=300
        )

    def health(self) -> Response:
        return Response(200, "application/json", json.dumps({"status": "ok"}), {"Cache-Control": "no-store"})

    def list_articles(self) -> Response:
        _, articles, cursor = self._page()
        next_url = self._next_url("/articles", cursor)
        body = {
            "items": [article_summary_json(a) for a in articles],
            "next_cursor": cursor,
            "next_url": next_url,
        }
        return self._respond(json.dumps(body, ensure_ascii=False), "application/json", max_age=60, next_url=next_url)

    def get_article(self, article_id: str) -> Response:
        if not _ARTICLE_ID.match(article_id):
            raise Problem(404, "Not Found", "no article has that id (ids are 20 hexadecimal characters)")
        stored = self.store.get_article(article_id)
        if stored is None:
            raise Problem(404, "Not Found", f"no article with id {article_id}")
        article = stored.article
        return self._respond(
            json.dumps(article_json(article), ensure_ascii=False),
            "application/json",
            max_age=600,
            last_modified=article.updated,
        )

    def feed_json(self) -> Response:
        articles, cursor = self._feed_articles()
        meta = self._feed_meta("/feed.json", cursor)
        return self._respond(
            render_json_feed(meta, articles), "application/feed+json", max_age=300, next_url=meta.next_url
        )

    def feed_rss(self) -> Response:
        articles, cursor = self._feed_articles()
        meta = self._feed_meta("/feed.rss", cursor)
        return self._respond(
            render_rss(meta, articles),
            "application/rss+xml; charset=utf-8",
            max_age=300,
            next_url=meta.next_url,
        )

    def feed_atom(self) -> Response:
        articles, cursor = self._feed_articles()
        meta = self._feed_meta("/feed.atom", cursor)
        return self._respond(
            render_atom(meta, articles),
            "application/atom+xml; charset=utf-8",
            max_age=300,
            next_url=meta.next_url,
        )

    def prices(self) -> Response:
        cfg = self._config()
        now = datetime.now(UTC)
        by_symbol = {p.symbol: p for p in self.store.get_prices()}
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
        body = {"items": items, "stale_after_seconds": cfg.price_stale_seconds}
        return self._respond(json.dumps(body), "application/json", max_age=30)


def build_resolver(
    store_factory: Callable[[], Store], config: Callable[[], Settings] = settings
) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(
        cors=CORSConfig(allow_origin="*", max_age=600, expose_headers=["ETag", "Link"]),
        serializer=lambda obj: json.dumps(obj, ensure_ascii=False),
    )
    api = Api(store_factory, config)
    app.include_router(api.router)

    @app.exception_handler(Problem)
    def _problem(exc: Problem) -> Response:
        return problem_response(exc.status, exc.title, exc.detail, app.current_event.path)

    @app.not_found
    def _not_found(exc: NotFoundError) -> Response:
        event = app.current_event
        if event.http_method != "GET":
            return problem_response(405, "Method Not Allowed", f"{event.http_method} is not supported; use GET")
        return problem_response(404, "Not Found", f"no route for {event.path[:200]}; see GET / for the routes")

    return app

"""HTTP API: the resolver, built from the route table (`routes.ROUTES`) over an `ApiStore`.

Each route's handler (`handlers`, one module per resource; the three feeds are one handler over
their `FeedFormat`) answers a `Body`; the caching layer (`caching`) adds validators, caching and
coding headers; every error is a problem (`problems`), and every answer carries the security
headers (`security`). Powertools' REST resolver does the routing and CORS.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.router import Router

from newsroom.core.config import Settings, settings
from newsroom.serve import caching, pages
from newsroom.serve.caching import Body
from newsroom.serve.handlers import articles, events, feeds, meta, prices, sources
from newsroom.serve.problems import handle_problems
from newsroom.serve.request import Request
from newsroom.serve.routes import ROUTES, RouteSpec
from newsroom.serve.security import SecuredResolver
from newsroom.store.roles import ApiStore

Handler = Callable[..., Body]  # (request, **path parameters) -> Body

# The handler of each route by operationId; the feeds are `feeds.feed` over the route's format.
HANDLERS: Mapping[str, Handler] = {
    "index": meta.index,
    "health": meta.health,
    "list_articles": articles.list_articles,
    "get_article": articles.get_article,
    "list_events": events.list_events,
    "get_event": events.get_event,
    "prices": prices.prices,
    "sources": sources.sources,
}


class Api:
    """The routes of `ROUTES` on one router, with their store and settings injected (tests swap
    either)."""

    def __init__(
        self,
        store_factory: Callable[[], ApiStore],
        config: Callable[[], Settings] = settings,
        openapi_path: Path | None = None,
    ) -> None:
        self._store_factory = store_factory
        self._config = config
        self._handlers: dict[str, Handler] = {**HANDLERS, "openapi": meta.OpenApiDocument(openapi_path)}
        self.router = Router()
        for spec in ROUTES:
            # compress=False: `caching.respond` compresses itself (Powertools would gzip for "gzip;q=0").
            self.router.get(spec.resolver_path, compress=False)(self._serve(spec))

    def _handler(self, spec: RouteSpec) -> Handler:
        if spec.feed is not None:
            return partial(feeds.feed, feed_format=spec.feed)
        return self._handlers[spec.operation_id]

    def _serve(self, spec: RouteSpec) -> Callable[..., Response]:
        handler = self._handler(spec)

        def serve(**path_params: str) -> Response:
            event = self.router.current_event
            request = Request(spec, event, self._store_factory, self._config)
            return caching.respond(spec, handler(request, **path_params), event.headers)

        serve.__name__ = spec.operation_id
        return serve


def build_resolver(
    store_factory: Callable[[], ApiStore],
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

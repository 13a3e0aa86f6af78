"""One request as the handlers see it: its parameters (checked as the route table documents
them), the store and settings, and the URLs its answer links to."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from newsroom.core.config import Settings, load_sources
from newsroom.core.models import Article, Source
from newsroom.serve import pages
from newsroom.serve.problems import bad_request
from newsroom.serve.routes import DEFAULT_LIMIT, RouteSpec, listing_key, parse_limit, parse_since_param
from newsroom.sources.registry import known_sources
from newsroom.store.cursor import CursorError
from newsroom.store.roles import ApiStore

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent


@dataclass(frozen=True, slots=True)
class Request:
    """The route being answered and the event that asked, with the store and settings injected
    (tests swap either)."""

    route: RouteSpec
    event: BaseProxyEvent
    store_factory: Callable[[], ApiStore]
    config: Callable[[], Settings]

    @property
    def store(self) -> ApiStore:
        return self.store_factory()

    def accept_encoding(self) -> str | None:
        return self.event.headers.get("accept-encoding")

    # -- parameters ---------------------------------------------------------------------------

    def query(self, name: str) -> str | None:
        """A query parameter as sent (None when absent); present but empty is a 400.

        Values are not trimmed or defaulted: what the document calls invalid is refused, so a
        client learns of a mistake instead of silently getting another listing.
        """
        value = self.event.get_query_string_value(name)
        if not isinstance(value, str):
            return None
        if value == "":
            raise bad_request(f"{name} is empty; give it a value or leave it out")
        return value

    def listing(self) -> str:
        category = self.query("category")
        coin = self.query("coin")
        source = self.query("source")
        return listing_key(category, coin, source, self._source_known)

    def _source_known(self, source: str) -> bool:
        # The file's sources need no registry read; only another id looks in the registry.
        return any(s.id == source for s in load_sources()) or any(s.id == source for s in self.known_sources())

    def known_sources(self) -> tuple[Source, ...]:
        """The sources file merged with the registry (cached per process for a minute)."""
        return known_sources(self.store)

    def limit(self, default: int = DEFAULT_LIMIT) -> int:
        return parse_limit(self.query("limit"), default)

    def since(self) -> datetime | None:
        return parse_since_param(self.query("since"))

    def page(self, limit: int | None = None) -> tuple[tuple[Article, ...], str | None]:
        """One page of the listing the filters name, as summaries (no bodies), and its cursor."""
        listing = self.listing()
        limit = self.limit() if limit is None else limit
        since = self.since()
        cursor = self.query("cursor")
        try:
            page = self.store.list_articles(listing, limit=limit, cursor=cursor, since=since)
        except CursorError as exc:
            raise bad_request(f"invalid cursor: {exc}") from exc
        return page.items, page.next_cursor

    def with_bodies(self, summaries: tuple[Article, ...], known: Mapping[str, Article]) -> tuple[Article, ...]:
        # Listing entries carry no body; one BatchGetItem fetches the bodies the page lacks.
        missing = [a.id for a in summaries if a.id not in known]
        full = {**known, **({a.id: a for a in self.store.get_articles(missing)} if missing else {})}
        return tuple(full.get(a.id, a) for a in summaries)

    # -- links --------------------------------------------------------------------------------

    def base_url(self) -> str:
        # One rule for the API and the pages: configured, else API Gateway's requestContext.
        return pages.base_url(self.event, self.config())

    def url_with(self, path: str, **params: str | None) -> str:
        keep = {k: v for k, v in params.items() if v}
        return f"{self.base_url()}{path}" + (f"?{urlencode(keep)}" if keep else "")

    def filters(self) -> dict[str, str | None]:
        names = (
            ("category", "coin", "source", "since", "collapse")
            if self.route.feed
            else ("category", "coin", "source", "since")
        )
        return {n: self.query(n) for n in names}

    def next_url(self, path: str, cursor: str | None) -> str | None:
        if not cursor:
            return None
        return self.url_with(path, **self.filters(), limit=self.query("limit"), cursor=cursor)

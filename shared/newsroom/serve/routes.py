"""The route table: every GET route, its parameters and how caches may keep its answer, and
the parsing and validation of those parameters.

`ROUTES` is the one description of the API: `api` registers the resolver's routes from it and
`scripts/gen_openapi.py` writes the OpenAPI document from it (offline, so pydantic never joins
the cold start); a test fails when the committed document and the code disagree. What the
document calls invalid is refused with a 400 that says what to change, never defaulted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from newsroom.core.models import Category
from newsroom.serve.formats.atom import ATOM
from newsroom.serve.formats.common import FeedFormat
from newsroom.serve.formats.jsonfeed import JSON_FEED
from newsroom.serve.formats.rss import RSS
from newsroom.serve.problems import bad_request

MAX_LIMIT = 100
DEFAULT_LIMIT = 20
SOURCES_DEFAULT_LIMIT = 50
COIN_PATTERN = "^[A-Za-z0-9]{2,10}$"
ARTICLE_ID_PATTERN = "^[0-9a-f]{20}$"
SOURCE_ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_COIN = re.compile(COIN_PATTERN)
ARTICLE_ID = re.compile(ARTICLE_ID_PATTERN)
_SOURCE_ID = re.compile(SOURCE_ID_PATTERN)
_DIGITS = re.compile(r"[0-9]+")
MAX_LIMIT_CHARS = 8  # "00000020" still reads as 20; a longer string is not a page size
SINCE_MAX_LENGTH = 64
# RFC 3339 `full-date` or `date-time` (§5.6), which is what JSON Schema's formats mean too.
# Events (issue 17): the stored listings `/events?order=` pages, "top" first by default.
EVENT_ORDERS = ("top", "latest")
DEFAULT_EVENT_ORDER = "top"
# How long caches may keep an answer that shows an event. An event grows as reports join it
# (a new outlet changes its coverage and "also reported by"), and a cached copy must not show
# the old state for longer than this; a story's own fields change far less often (3600 s).
EVENT_MAX_AGE = 300
EVENTS_MAX_AGE = 60
COLLAPSE_VALUES = ("event",)
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
    """One GET route: what it answers and how caches may keep the answer."""

    path: str  # OpenAPI form, "/articles/{article_id}"
    operation_id: str  # the OpenAPI operationId; also the handler's name in `api`, unless a feed
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
    # A feed route: the one feed handler serves it, rendering this format.
    feed: FeedFormat | None = None

    @property
    def resolver_path(self) -> str:
        return self.path.replace("{", "<").replace("}", ">")

    @property
    def content_type(self) -> str:
        """The 200 body's Content-Type: the media type, with a charset where the format takes one."""
        return self.feed.content_type if self.feed is not None else self.media_type


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

COLLAPSE_PARAM = Param(
    "collapse",
    "`event`: one item per event on the page. The newest of the page's stories of one event"
    " stands for it (the others are left out of this page); without it, one item per story.",
    {"type": "string", "enum": list(COLLAPSE_VALUES)},
)

_FEED_DESCRIPTION = (
    "The newest stories, one item per story (or, with `collapse=event`, per event), each crediting"
    " its original publisher. Paged like /articles; the next page is linked from the document and"
    " the Link header."
)

_EVENT_NOTE = (
    " Each event: its lead story (the first report), coverage (the number of distinct outlets),"
    " member count, members (outlet, title, link, publication time; the earliest first, at most"
    " 40 shown), the terms and entities that tied them, when it began (`created`) and its latest"
    " report (`updated`), and its `score`: log2(coverage) + created / 43200 (epoch seconds), so"
    " doubling the outlets is worth twelve hours of recency."
)

EVENT_ID_PARAM = Param(
    "event_id",
    "The event id (the id of the story that started it): 20 hexadecimal characters. An event"
    " merged into another answers with that one, whose `id` is the canonical id. Any other value is a 404.",
    {"type": "string", "pattern": ARTICLE_ID_PATTERN},
    where="path",
)

EVENT_PARAMS: tuple[Param, ...] = (
    Param(
        "order",
        "`top`: by score (distinct outlets, then recency; see the description); `latest`: by the"
        " time of the newest report.",
        {"type": "string", "enum": list(EVENT_ORDERS), "default": DEFAULT_EVENT_ORDER},
    ),
    *paging_params("Events", DEFAULT_LIMIT, ", for the same order"),
)


def _feed_route(path: str, operation_id: str, summary: str, feed: FeedFormat, schema: str) -> RouteSpec:
    """A feed: every format is the same listing, with the same parameters and caching."""
    return RouteSpec(
        path,
        operation_id,
        summary,
        _FEED_DESCRIPTION,
        feed.media_type,
        schema,
        300,
        (*LIST_PARAMS, COLLAPSE_PARAM),
        compress=True,
        paged=True,
        bad_request=True,
        tags=("feeds",),
        feed=feed,
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
        "Every field of the article page, with its syndication: the original it credits and every copy"
        " seen; and its event: `event` (id, coverage, member count) and `also_reported_by`, the"
        " other reports of that event (outlet, title, link, publication time). Cached for an hour,"
        f" or {EVENT_MAX_AGE} s when the story has an event, since the event may grow.",
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
        "/events",
        "list_events",
        "List events",
        "Events: independent reports of one real-world event by several outlets, `top` or"
        " `latest` first; one DynamoDB Query per page. A listed event shows its first eight members;"
        " `/events/{event_id}` shows them all (up to 40)." + _EVENT_NOTE,
        "application/json",
        "EventPage",
        EVENTS_MAX_AGE,
        EVENT_PARAMS,
        compress=True,
        paged=True,
        bad_request=True,
        tags=("events",),
    ),
    RouteSpec(
        "/events/{event_id}",
        "get_event",
        "One event",
        "One event, as `/events` lists it; an id merged into another event answers 200 with that"
        " event (its canonical `id` and `url`)." + _EVENT_NOTE,
        "application/json",
        "Event",
        EVENTS_MAX_AGE,
        (EVENT_ID_PARAM,),
        compress=True,
        not_found=True,
        tags=("events",),
    ),
    _feed_route("/feed.json", "feed_json", "JSON Feed 1.1", JSON_FEED, "JsonFeed"),
    _feed_route("/feed.rss", "feed_rss", "RSS 2.0", RSS, "XmlDocument"),
    _feed_route("/feed.atom", "feed_atom", "Atom 1.0", ATOM, "XmlDocument"),
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
        " failures, and when it is polled next (null when disabled); and its WebSub push: the"
        " hub, the subscription's state, whether polling stepped back to the safety net, the"
        " lease's expiry, the last delivery and the last verification. Two BatchGetItem calls"
        " per page (states with subscriptions, and counts), whatever the sources' story counts, and a"
        " third for sources never polled.",
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


def parse_limit(raw: str | None, default: int) -> int:
    """A page size from 1 to MAX_LIMIT; absent, `default`."""
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


def parse_choice(name: str, raw: str | None, allowed: tuple[str, ...], default: str | None) -> str | None:
    """One of `allowed` (exactly as spelt), `default` when absent; anything else is a 400."""
    if raw is None:
        return default
    if raw not in allowed:
        raise bad_request(f"{name} must be one of: {', '.join(allowed)} (got {raw[:40]!r})")
    return raw


def parse_since_param(raw: str | None) -> datetime | None:
    """`since` as an instant, or None when absent; a 400 in the API's words when unreadable."""
    if not raw:
        return None
    try:
        return parse_since(raw)
    except ValueError as exc:
        raise bad_request(
            f"since must be an RFC 3339 date-time such as 2026-05-31T08:00:00Z or a date such as 2026-05-31 ({exc})"
        ) from exc


def listing_key(category: str | None, coin: str | None, source: str | None, source_known: Callable[[str], bool]) -> str:
    """The stored listing the filters name ("all" with none); at most one filter is allowed.

    `source_known` is asked only for a well-formed source id, since it may read the registry.
    """
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
        if not (_SOURCE_ID.match(source) and source_known(source)):
            raise bad_request(f"unknown source {source[:40]!r}; GET /sources lists them")
        return f"src#{source}"
    return "all"

"""Typed, frozen values that flow through the pipeline.

Everything here is plain data: parsing, processing and rendering are functions over these
values, and only the `store` package knows how they map onto DynamoDB items. Datetimes are always
timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")


def utc(moment: datetime) -> datetime:
    """The same instant as an aware UTC datetime (naive values are taken to be UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso(moment: datetime) -> str:
    """RFC 3339 / ISO 8601 in UTC with a `Z`, second precision: sorts as text.

    The year is always four digits: strftime's `%Y` writes year 1 as "1" on glibc, which neither
    `parse_iso` reads back nor sorts before "2026" (listing sort keys are built from this)."""
    # `isoformat` of the naive whole second is that text (four-digit year, no fraction) in half
    # the time of formatting six fields: an event's document writes one per member, each join.
    return utc(moment).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def parse_iso(text: str) -> datetime:
    return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


class Category(StrEnum):
    POLICY = "Policy"
    MARKETS = "Markets"
    DEFI = "DeFi"
    TECHNOLOGY = "Technology"
    BUSINESS = "Business"
    SECURITY = "Security"


class Kind(StrEnum):
    NEWS = "News"
    PRESS_RELEASE = "Press release"
    OPINION = "Opinion"
    ANALYSIS = "Analysis"


class SourceRole(StrEnum):
    ORIGINAL = "original"  # publishes its own reporting
    AGGREGATOR = "aggregator"  # republishes others' stories


class Rights(StrEnum):
    """What a source lets us republish."""

    FULL = "full"  # the whole article: its page may be fetched and the full text shown
    EXCERPT = "excerpt"  # the feed's excerpt with a link only; never fetched beyond the feed


@dataclass(frozen=True, slots=True)
class Source:
    """A feed we poll, as configured in the sources file."""

    id: str
    name: str
    feed_url: str
    homepage: str = ""
    role: SourceRole = SourceRole.ORIGINAL
    category_hint: Category | None = None
    language: str | None = None
    kind_hint: Kind | None = None  # e.g. a wire service whose items are press releases
    aliases: tuple[str, ...] = ()  # other names/domains the source is credited by
    enabled: bool = True
    rights: Rights = Rights.EXCERPT
    interval_minutes: int | None = None  # poll interval; None: the configured default
    # Full-text boilerplate rules (only used for `Rights.FULL`): XPath expressions pruned from
    # the article page before extraction, and regexes; a paragraph matching one is dropped.
    boilerplate_xpaths: tuple[str, ...] = ()
    boilerplate_patterns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SourceState:
    """What we remember about polling one source (conditional GET validators and health)."""

    source_id: str
    etag: str | None = None
    last_modified: str | None = None
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    # Scheduling and health (see `schedule`): when the source is next due, and why not sooner.
    next_poll: datetime | None = None
    last_error_at: datetime | None = None
    last_status: int | None = None  # HTTP status of the last answer, when there was one
    # A 301/308 moved the feed: poll `feed_url` instead of the configured URL, as long as the
    # configured URL is still `feed_url_for` (editing the source's URL discards the override).
    feed_url: str | None = None
    feed_url_for: str | None = None
    # 410 Gone (or an operator) stopped polling; only an edit of the source re-enables it.
    disabled: bool = False
    disabled_reason: str | None = None
    # What saves the fetch path its writes and messages (see `fetch.poll`):
    # `poll_interval_s` is the delay the last written success scheduled, so the polls after it
    # fall on the grid next_poll + k * interval and an unchanged poll needs no write to move
    # `next_poll`; `body_hash` is the last parsed 200's body digest (a 200 with the same body is
    # a 304); `seen` holds 8-byte digests of recently queued entries (key and content), newest
    # first, so only new or changed entries are queued again.
    poll_interval_s: int | None = None
    body_hash: str | None = None
    seen: bytes = b""
    # The feed's rhythm (`schedule.entries_per_week`) from the last parsed document: what sets the
    # interval of a source that does not pin one. None: not known yet (no dated entry).
    entries_per_week: float | None = None


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One feed entry as fetched, before processing: what travels on the queue.

    Fields are the feed's own values (already decoded by feedparser), unsanitized.
    """

    source_id: str
    guid: str | None
    link: str
    title: str
    summary_html: str = ""
    content_html: str = ""
    author: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    tags: tuple[str, ...] = ()
    language: str | None = None
    image_url: str | None = None
    # Attribution the feed itself declares (RSS <source url>, feedburner:origLink, dc:source).
    declared_source_url: str | None = None
    declared_source_name: str | None = None
    orig_link: str | None = None
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class Image:
    url: str
    alt: str
    caption: str | None = None
    is_default: bool = False


@dataclass(frozen=True, slots=True)
class Attribution:
    """Who published a story first, when the copy we hold names them."""

    original_url: str | None
    original_domain: str
    original_name: str | None = None
    original_source_id: str | None = None  # set when the original is one of our sources
    marker: str = ""  # how we learned it: "read-original-footer", "appeared-first", "rss-source", ...


@dataclass(frozen=True, slots=True)
class Copy:
    """A syndicated copy of a stored story, seen on another site."""

    source_id: str
    source_name: str
    url: str
    title: str
    first_seen: datetime


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    canonical_url: str
    url: str
    guid: str | None
    source_id: str
    source_name: str
    title: str
    content_html: str
    content_text: str
    standfirst: str
    word_count: int
    reading_minutes: int
    published: datetime
    updated: datetime
    first_seen: datetime
    language: str | None
    image: Image
    category: Category
    coins: tuple[str, ...]
    kind: Kind
    author: str
    desk: str
    content_hash: str
    attribution: Attribution | None = None
    copies: tuple[Copy, ...] = ()
    body_truncated: bool = False
    # The source grants only an excerpt and a link: outputs show the standfirst, never the body
    # (the body is still kept internally, for dedupe fingerprints).
    excerpt_only: bool = False
    # `published` is not the feed's own: it gave no date we could read (the fetch time stands in)
    # or one in the future (clamped to the time we processed it).
    published_estimated: bool = False
    # What the entry brought in beyond `config.EntryLimits` and was cut ("title", "tags", ...).
    input_cuts: tuple[str, ...] = ()

    @property
    def credit_domain(self) -> str:
        """The site the reader is sent to: the original publisher, else where we found it
        (`urls.credit`: the named site is always the linked site)."""
        from newsroom.core.urls import credit

        return credit(self.url, self.attribution)[0]

    @property
    def credit_url(self) -> str:
        from newsroom.core.urls import credit

        return credit(self.url, self.attribution)[1]

    @property
    def credit_line(self) -> str:
        return f"Read original article on {self.credit_domain}"


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """A story as the store holds it: the article, the version its optimistic lock checks, and
    when it expires."""

    article: Article
    version: int
    expires_at: int | None = None  # epoch seconds, as stored (TTL); a replace never moves it earlier
    event_id: str | None = None  # the event it joined (issue 17), as recorded on the story item


@dataclass(frozen=True, slots=True)
class HeldClaim:
    """A fingerprint index key's holder: the story claiming it and when the claim was written
    (None: written inside the story's own transaction, before claims were written ahead of it)."""

    story_id: str
    written: datetime | None = None


# How long a fingerprint claim holds its index key: copies published further apart are not
# looked for (the same window as `dedupe.WINDOW`).
FINGERPRINT_WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class FingerprintClaims:
    """Index keys a story claims just before the write that stores it, valid `FINGERPRINT_WINDOW`
    (`store.fingerprints.FingerprintItems.claim_fingerprints`). `writer`: the incoming entry's own
    story id, whose claims from an attempt that lost are taken back; `taking_over`: (key, story id)
    of claims whose story was never written, passed over once no longer in progress
    (`process.dedupe.find_cluster`)."""

    keys: tuple[str, ...]
    now: datetime
    writer: str | None = None
    taking_over: tuple[tuple[str, str], ...] = ()

    @property
    def expires_at(self) -> int:
        return int((self.now + FINGERPRINT_WINDOW).timestamp())


@dataclass(frozen=True, slots=True)
class Price:
    symbol: str  # "BTC"
    quote: str  # "USD"
    price: float
    change_24h_pct: float | None
    provider: str
    provider_updated_at: datetime | None
    fetched_at: datetime

    @property
    def pair(self) -> str:
        return f"{self.symbol}/{self.quote}"


@dataclass(frozen=True, slots=True)
class ProviderHealth:
    """How a price provider answered the last time it was asked (it is asked only when needed:
    the fallback when the first provider fails, lacks a symbol or needs a jump confirmed)."""

    provider: str  # "coingecko", "coinbase", "kraken"
    last_attempt: datetime
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    next_cursor: str | None

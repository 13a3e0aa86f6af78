"""All configuration, read from the environment that `template.yaml` sets.

One place reads `os.environ`; everything else receives a `Settings` value. Defaults are the
embedded local defaults, so a missing variable never crashes a cold start.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newsroom.core.models import Category, Kind, Rights, Source, SourceRole
from newsroom.core.text import strip_bidi_controls

DEFAULT_PRICE_SYMBOLS = ("BTC", "ETH", "SOL", "BNB", "XRP", "DOGE")
# Feeds a fetch worker parses, and article pages it extracts full text from, at once, whatever
# FETCH_CONCURRENCY polls at once. Both are CPU under the GIL (0.29 vCPU at 512 MB), so a third
# gains nothing, and each holds several times its input (a 5 MB feed's parse 20 MB, a 1 MB
# page's extraction ~35 MB, measured): two at once hold ~70 MB at most, where a batch's 20 at
# once could hold ~700 MB, past the function's 512 MB.
FETCH_PARSES_AT_ONCE = 2
# Article pages larger than this are not extracted (the entry keeps its feed text): extraction
# takes ~1.6 s of CPU a MB (measured, one core), so a 5 MB page would hold a worker's CPU share
# for ~28 s at 512 MB, and the fetch worker's timeout arithmetic counts two pages in flight.
FULLTEXT_MAX_PAGE_BYTES = 1024 * 1024
# Seconds after a fetch invocation starts past which it starts no article page and begins no
# extraction: the pages' CPU competes with the feeds' parses, so a per-source budget alone does
# not bound the invocation (tests/template/test_platform_arithmetic.py).
FULLTEXT_DEADLINE_SECONDS = 100.0


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def _float(value: str | None, default: float) -> float:
    try:
        return float(value) if value not in (None, "") else default
    except ValueError:
        return default


# -- input limits on feed entries (issue 14) ---------------------------------------------------
# What one entry may bring in, whoever wrote the feed. Each cut is recorded on the article
# (`Article.input_cuts`) and logged; an entry whose story is still too large for a DynamoDB item
# after every cut is a permanent reject (`process.EntryRejected`), never retried.


@dataclass(frozen=True, slots=True)
class EntryLimits:
    title_chars: int = 500  # a headline; the longest real ones are about 300
    summary_bytes: int = 1_000_000  # raw summary HTML (some feeds carry the whole article there)
    content_bytes: int = 2_000_000  # raw content HTML, before sanitizing and the body cap
    author_chars: int = 200
    categories: int = 30  # feed categories/tags per entry
    category_chars: int = 100
    entries_per_feed: int = 300  # a feed with more is cut to its first ones (document order)

    @classmethod
    def from_env(cls, env: dict[str, str]) -> EntryLimits:
        defaults = cls()
        return cls(
            title_chars=max(20, _int(env.get("MAX_TITLE_CHARS"), defaults.title_chars)),
            summary_bytes=max(1024, _int(env.get("MAX_SUMMARY_BYTES"), defaults.summary_bytes)),
            content_bytes=max(1024, _int(env.get("MAX_CONTENT_BYTES"), defaults.content_bytes)),
            author_chars=max(10, _int(env.get("MAX_AUTHOR_CHARS"), defaults.author_chars)),
            categories=max(0, _int(env.get("MAX_CATEGORIES"), defaults.categories)),
            category_chars=max(10, _int(env.get("MAX_CATEGORY_CHARS"), defaults.category_chars)),
            entries_per_feed=max(1, _int(env.get("MAX_ENTRIES_PER_FEED"), defaults.entries_per_feed)),
        )


DEFAULT_ENTRY_LIMITS = EntryLimits()
# A raw text field (a title, an author with its markup) is kept up to this many times its
# limit before its HTML is read: markup and entities shrink in the reading, and the reading of a
# longer one costs without changing what is kept (`process.build`, `fetch.feeds`).
RAW_TEXT_FACTOR = 8
# Bounds on feedparser's steps that are quadratic in what a feed controls, far above what
# `EntryLimits` keeps (`fetch.feeds`): characters of a plain author it searches for an e-mail,
# tags an entry collects while parsing, distinct namespace prefixes a document may declare and
# attributes one element may carry (more of either is refused as hostile XML: its strict parser
# scans every prefix at every element, and every attribute for each of an element's attributes;
# real feeds use a few of each).
MAX_AUTHOR_SCANNED = 2_000
MAX_TAGS_READ = 300
MAX_NAMESPACE_PREFIXES = 200
MAX_ATTRIBUTES_PER_ELEMENT = 500


# -- WebSub subscriptions (issue 19) ---------------------------------------------------------------
# What a hub may bring in and how long we trust it. Every refusal or cut is recorded where it
# happens (`websub.discovery.Refused`, the subscription's `last_error`).


@dataclass(frozen=True, slots=True)
class WebSubLimits:
    url_chars: int = 2048  # a hub or self URL longer than this is refused ("too-long")
    hubs_per_feed: int = 3  # the first ones are kept, the rest refused ("too-many-hubs")
    # The lease we ask for; the hub may grant less, and we believe what it grants (WebSub 5.1).
    lease_seconds: int = 10 * 24 * 3600
    renew_before_seconds: int = 24 * 3600  # renew once the lease has this little left
    # hub.secret: 32 random bytes as 64 hex characters, under the spec's 200-byte limit (5.1).
    secret_bytes: int = 32
    # Polls of a pushed source: the safety net while the hub delivers (6-24 h, issue 19 point 4).
    safety_net_seconds: int = 12 * 3600
    # A hub that delivered nothing for this long is "silent": the source goes back to polling.
    silent_after_seconds: int = 3 * 24 * 3600
    # A pending request the hub never verified is given up after this long.
    pending_timeout_seconds: int = 3600


DEFAULT_WEBSUB_LIMITS = WebSubLimits()


@dataclass(frozen=True, slots=True)
class EventLimits:
    """Event grouping (issue 17): what a story's join may read and keep."""

    # Lookup keys per story: one BatchGetItem of this many items finds its candidates, and its join
    # rewrites as many (`process.events.LOOKUP_KEYS`, which says why 8).
    lookup_keys: int = 8
    # Entries a lookup item keeps (the newest): the bound on any key's read.
    per_key: int = 12
    # Candidate stories whose signatures one join reads (the newest; one BatchGetItem of 100).
    max_candidates: int = 100
    # Stories further apart than this are never one event (`process.events.WINDOW`); lookup items
    # lapse this long after their newest entry.
    window_hours: int = 72
    # An event stays in the "top" and "latest" listings this long after its newest member.
    listing_days: int = 7
    # Events and each story's event item are kept as long as stories (ARTICLE_RETENTION_DAYS).
    retention_days: int = 365
    # A lookup entry whose story has no event item yet is a join in progress for this long after
    # it was written, and a join that finds one waits for it; after, it is a join that crashed and
    # is passed over. A join writes its lookup items and its transaction within one processor
    # invocation, so this must exceed the processor's timeout (template.yaml's Globals, 30 s) and
    # the clocks' skew (`tests/template/test_platform_arithmetic.py` holds it to the timeout).
    pending_seconds: int = 60


DEFAULT_EVENT_LIMITS = EventLimits()

# A fingerprint claim whose story is not stored yet is a write in progress for this long after it
# was written: a copy that finds one cannot take it over, and reads again until the story is
# there; after, it is a write that crashed, and the claim is taken over (`store.fingerprints`).
# The claims and the story's transaction come from one processor invocation, so, as
# `EventLimits.pending_seconds`, this must exceed the processor's timeout (template.yaml's
# Globals, 30 s) and the clocks' skew (`tests/template/test_platform_arithmetic.py::
# test_a_story_write_in_progress_outlives_the_processors_invocation`).
CLAIM_PENDING_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Settings:
    table_name: str
    queue_url: str
    sources_file: str | None
    price_api_base_url: str
    price_symbols: tuple[str, ...]
    price_stale_seconds: int
    site_name: str
    desk_name: str
    site_url: str
    editorial_image_base_url: str
    public_base_url: str | None
    cursor_secret: bytes
    fetch_connect_timeout: float
    fetch_read_timeout: float
    fetch_max_bytes: int
    fetch_concurrency: int
    # Loopback and private addresses are refused unless this is set. The template never sets it;
    # only the local run and tests do, because their sample servers live on 127.0.0.1.
    allow_private_network: bool
    max_body_bytes: int
    # Stories (and their listing entries) expire this many days after publication (TTL).
    article_retention_days: int = 365
    # The site's disclaimer under every article page (the reference page's text by default).
    disclaimer: str = (
        "Disclaimer: This article is for informational purposes only and does not constitute financial "
        "or investment advice. Cryptocurrency and digital asset markets carry significant risk. Always do "
        "your own research before making decisions."
    )
    # -- polling politeness and fan-out (issue 4); every one has a default --
    poll_default_minutes: int = 15
    poll_min_minutes: int = 5
    poll_max_minutes: int = 24 * 60
    backoff_ceiling_minutes: int = 24 * 60
    # The feed's rhythm (issue 18, `sources.schedule.rhythm_interval`): a source without its own
    # interval is polled every (mean gap between its entries) / factor, from the default up to
    # this many minutes. POLL_RHYTHM_MAX_MINUTES equal to the default turns the rhythm off.
    poll_rhythm_factor: float = 4.0
    poll_rhythm_max_minutes: int = 6 * 60
    fetch_queue_url: str = ""  # the dispatcher's queue of due sources (fan-out)
    # Sources per fetch message: a worker's whole batch (its SQS BatchSize is 1; the template
    # sets this on the dispatcher, tests/template/test_platform_arithmetic.py ties the two).
    fetch_sources_per_message: int = 20
    fulltext_max_pages: int = 10  # article pages fetched per source per poll (`full` sources)
    # Second price provider, used when the first fails or disagrees: "coinbase" or "kraken".
    price_fallback_provider: str = "coinbase"
    price_fallback_base_url: str = "https://api.exchange.coinbase.com"
    price_max_jump_pct: float = 50.0
    price_jump_window_minutes: int = 30
    # Where an entry too big for a queue message is stored (claim check, see `claimcheck`).
    entry_bucket: str = ""
    # Who polls: every fetch's User-Agent names this page, so a publisher can reach the operator
    # (the site's `/crawler` page when none, or none usable, is configured).
    crawler_contact_url: str | None = None
    entry_limits: EntryLimits = DEFAULT_ENTRY_LIMITS
    # -- platform arithmetic and the cursor key (issue 13, points 1 and 7) --
    # Seconds one source's full-text pages may take per poll (FULLTEXT_BUDGET_SECONDS, set by the
    # template so the slowest batch fits the fetch worker's timeout).
    fulltext_budget_seconds: float = 45.0
    # Whether the key that signs pagination cursors lives in the table (`store.cursor`, created on
    # first use): the template sets this on the API function only. Unset (the local tests, no
    # AWS account): `cursor_secret`, from CURSOR_SECRET or the local default.
    cursor_key_in_table: bool = False
    # -- WebSub (issue 19): where hubs reach our callback (the API stage's URL, as the template
    # sets it on the fetcher). Unset: no hub is ever asked, every source is polled as before.
    websub_callback_base_url: str | None = None

    @property
    def user_agent(self) -> str:
        return f"NewsroomBot/1.0 (+{self.crawler_contact_url or self.site_url + '/crawler'})"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        e = dict(os.environ if env is None else env)
        return cls(
            table_name=e.get("TABLE_NAME", "newsroom"),
            queue_url=e.get("QUEUE_URL", ""),
            sources_file=e.get("SOURCES_FILE") or None,
            price_api_base_url=e.get("PRICE_API_BASE_URL", "https://api.coingecko.com/api/v3").rstrip("/"),
            price_symbols=tuple(
                s.strip().upper()
                for s in e.get("PRICE_SYMBOLS", ",".join(DEFAULT_PRICE_SYMBOLS)).split(",")
                if s.strip()
            ),
            price_stale_seconds=_int(e.get("PRICE_STALE_SECONDS"), 900),
            site_name=e.get("SITE_NAME", "CryptoCompass"),
            desk_name=e.get("DESK_NAME", "CryptoCompass newsroom"),
            site_url=e.get("SITE_URL", "https://cryptocompass.example").rstrip("/"),
            editorial_image_base_url=e.get(
                "EDITORIAL_IMAGE_BASE_URL", "https://cryptocompass.example/static/editorial"
            ).rstrip("/"),
            public_base_url=_base_url(e.get("PUBLIC_BASE_URL")),
            cursor_secret=e.get("CURSOR_SECRET", "local-development-cursor-key").encode(),
            fetch_connect_timeout=_float(e.get("FETCH_CONNECT_TIMEOUT"), 5.0),
            fetch_read_timeout=_float(e.get("FETCH_READ_TIMEOUT"), 10.0),
            fetch_max_bytes=_int(e.get("FETCH_MAX_BYTES"), 5 * 1024 * 1024),
            fetch_concurrency=max(1, _int(e.get("FETCH_CONCURRENCY"), 20)),
            allow_private_network=_flag(e.get("ALLOW_PRIVATE_NETWORK")),
            max_body_bytes=_int(e.get("MAX_BODY_BYTES"), 300_000),
            article_retention_days=max(1, _int(e.get("ARTICLE_RETENTION_DAYS"), 365)),
            **({"disclaimer": e["DISCLAIMER"]} if e.get("DISCLAIMER") else {}),
            poll_default_minutes=max(1, _int(e.get("POLL_DEFAULT_MINUTES"), 15)),
            poll_min_minutes=max(1, _int(e.get("POLL_MIN_MINUTES"), 5)),
            poll_max_minutes=max(1, _int(e.get("POLL_MAX_MINUTES"), 24 * 60)),
            backoff_ceiling_minutes=max(1, _int(e.get("BACKOFF_CEILING_MINUTES"), 24 * 60)),
            poll_rhythm_factor=max(0.1, _float(e.get("POLL_RHYTHM_FACTOR"), 4.0)),
            poll_rhythm_max_minutes=max(1, _int(e.get("POLL_RHYTHM_MAX_MINUTES"), 6 * 60)),
            fetch_queue_url=e.get("FETCH_QUEUE_URL", ""),
            fetch_sources_per_message=max(1, _int(e.get("FETCH_SOURCES_PER_MESSAGE"), 20)),
            fulltext_max_pages=max(0, _int(e.get("FULLTEXT_MAX_PAGES"), 10)),
            price_fallback_provider=e.get("PRICE_FALLBACK_PROVIDER", "coinbase").strip().lower(),
            price_fallback_base_url=e.get("PRICE_FALLBACK_BASE_URL", "https://api.exchange.coinbase.com").rstrip("/"),
            price_max_jump_pct=_float(e.get("PRICE_MAX_JUMP_PCT"), 50.0),
            price_jump_window_minutes=max(1, _int(e.get("PRICE_JUMP_WINDOW_MINUTES"), 30)),
            entry_bucket=e.get("ENTRY_BUCKET", ""),
            crawler_contact_url=_contact_url(e.get("CRAWLER_CONTACT_URL")),
            entry_limits=EntryLimits.from_env(e),
            # -- platform arithmetic and the cursor key (issue 13, points 1 and 7) --
            fulltext_budget_seconds=max(0.0, _float(e.get("FULLTEXT_BUDGET_SECONDS"), 45.0)),
            cursor_key_in_table=_flag(e.get("CURSOR_KEY_IN_TABLE")),
            websub_callback_base_url=_base_url(e.get("WEBSUB_CALLBACK_BASE_URL")),
        )


def _base_url(value: str | None) -> str | None:
    """The configured public base URL without its trailing slash, when it is an absolute http(s)
    URL with a host and nothing but a path after it; None (derive it per request) otherwise.

    Links, the canonical link, `Link:` headers and redirects are built on it, so a value that
    could turn them into another scheme or host (`javascript:`, `//host`, credentials, a query)
    is refused rather than used.
    """
    candidate = (value or "").strip().rstrip("/")
    try:
        parts = urlsplit(candidate)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if (
        parts.scheme not in ("https", "http")
        or not host
        or "@" in parts.netloc
        or parts.query
        or parts.fragment
        or "//" in parts.path
        or any(ch.isspace() or ch in "\"'<>\\`" for ch in candidate)
        or (port is not None and not 0 < port < 65536)
    ):
        return None
    return candidate


def _contact_url(value: str | None) -> str | None:
    """The configured contact page when it is an http(s) URL that fits in a User-Agent comment
    (no spaces or parentheses); None otherwise."""
    candidate = (value or "").strip()
    if candidate.startswith(("https://", "http://")) and not any(ch in candidate for ch in " ()\t\r\n"):
        return candidate
    return None


@cache
def settings() -> Settings:
    return Settings.from_env()


def client_config(*, validate: bool = True) -> Any:
    """Retries, timeouts and per-request work for every AWS client, explicit so no environment
    can change them.

    botocore's "standard" mode retries throttling (`ProvisionedThroughputExceededException`,
    `ThrottlingException`, ...), 5xx and connection errors with jittered exponential backoff
    (`rand() * 2**n` s, capped) under a retry quota that stops retry storms when a service is
    down. Six attempts spend ~15 s at most on average, inside the processor's 30 s timeout; a
    message that still fails is retried by SQS. Short read timeouts: DynamoDB and SQS answer in
    milliseconds, and a hung connection must not eat the invocation.

    botocore's own work for a request was 80 % of the processor's CPU (`make bench`, "processor
    Lambda"), and two options of botocore's Config Reference take a third of it away:

    - A fixed `user_agent` ("The value to use in the User-Agent header"), on every client: left
      unset, botocore rebuilds its User-Agent 2.x string for every request, sanitizing each
      component character by character. Ours names boto3, Python and the Lambda runtime (boto3
      adds botocore's version); what the legacy form leaves out is telemetry: feature ids
      (`m/`), the retry mode, OS and architecture, an app id (we set none).
    - `validate=False`, `dynamodb_client_config`'s: "You can disable parameter validation for
      performance reasons. Otherwise, it's recommended to leave parameter validation enabled."
      Only the DynamoDB client, where nearly all of the calls are, goes without: the functions'
      requests are built by the store (`newsroom.store`), whose contract tests run it on the
      in-memory DynamoDB, which runs botocore's validator itself (`devtools.memory_dynamodb`).
      Without validation, botocore's serializer still fails on most malformed requests before
      sending (an unknown parameter: `KeyError`; a string for a map: `AttributeError`), others
      are sent for DynamoDB to refuse (a missing parameter, a wrong scalar type), and a string
      where a list belongs is sent split into characters: no request the store builds holds such
      a list (`AttributesToGet`, `AttributeValueList`, string, number or binary sets), and the
      in-memory DynamoDB refuses it. SQS and S3 keep validation: their calls are few.
    """
    import platform

    import boto3
    from botocore.config import Config

    runtime = os.environ.get("AWS_EXECUTION_ENV")
    user_agent = f"newsroom Boto3/{boto3.__version__} Python/{platform.python_version()}" + (
        f" exec-env/{runtime}" if runtime else ""
    )
    return Config(
        retries={"mode": "standard", "max_attempts": 6},
        connect_timeout=3,
        read_timeout=10,
        tcp_keepalive=True,
        # The fetch worker's threads (FETCH_CONCURRENCY, at most 64) share one client each:
        # botocore's default pool of 10 would drop connections past it and handshake anew.
        max_pool_connections=64,
        parameter_validation=validate,
        user_agent=user_agent,
    )


def dynamodb_client_config() -> Any:
    """`client_config` without botocore's parameter validation (see there why)."""
    return client_config(validate=False)


def _source_from_json(raw: dict[str, Any]) -> Source:
    # Imported here: the HTML module (nh3, html.parser: ~60 ms) is no cost of importing config,
    # which the prices function does without ever reading a source.
    from newsroom.core.html import plain_name

    hint = raw.get("category_hint")
    kind = raw.get("kind_hint")
    source_id = str(raw["id"])
    return Source(
        id=source_id,
        # Reaches every output as a text field (RSS <source>, Atom <title type="text">, JSON):
        # plain text here, like a feed's own titles, with no direction override that would make
        # one name read as another. A name that was only markup becomes the id.
        name=strip_bidi_controls(plain_name(str(raw["name"]))).strip() or source_id,
        feed_url=str(raw["feed_url"]),
        homepage=str(raw.get("homepage", "")),
        role=SourceRole(raw.get("role", SourceRole.ORIGINAL)),
        category_hint=Category(hint) if hint else None,
        language=raw.get("language"),
        kind_hint=Kind(kind) if kind else None,
        aliases=tuple(str(a) for a in raw.get("aliases", ())),
        enabled=bool(raw.get("enabled", True)),
        rights=Rights(raw.get("rights", Rights.EXCERPT)),
        interval_minutes=int(raw["interval"]) if raw.get("interval") not in (None, "") else None,
        boilerplate_xpaths=tuple(str(x) for x in raw.get("boilerplate_xpaths", ())),
        boilerplate_patterns=tuple(str(x) for x in raw.get("boilerplate_patterns", ())),
    )


def source_from_json(raw: dict[str, Any]) -> Source:
    """A `Source` from the sources-file shape (also how the DynamoDB registry stores one)."""
    return _source_from_json(raw)


def source_to_json(source: Source) -> dict[str, Any]:
    """The sources-file shape of `source` (what `_source_from_json` reads back), defaults left out."""
    raw: dict[str, Any] = {
        "id": source.id,
        "name": source.name,
        "feed_url": source.feed_url,
        "homepage": source.homepage,
        "role": source.role.value,
        "rights": source.rights.value,
        "enabled": source.enabled,
    }
    if source.category_hint is not None:
        raw["category_hint"] = source.category_hint.value
    if source.kind_hint is not None:
        raw["kind_hint"] = source.kind_hint.value
    if source.language:
        raw["language"] = source.language
    if source.aliases:
        raw["aliases"] = list(source.aliases)
    if source.interval_minutes is not None:
        raw["interval"] = source.interval_minutes
    if source.boilerplate_xpaths:
        raw["boilerplate_xpaths"] = list(source.boilerplate_xpaths)
    if source.boilerplate_patterns:
        raw["boilerplate_patterns"] = list(source.boilerplate_patterns)
    return raw


def parse_sources(document: str) -> tuple[Source, ...]:
    data = json.loads(document)
    items = data["sources"] if isinstance(data, dict) else data
    sources = tuple(_source_from_json(item) for item in items)
    ids = [s.id for s in sources]
    if len(ids) != len(set(ids)):
        raise ValueError("source ids must be unique")
    return sources


@cache
def load_sources(path: str | None = None) -> tuple[Source, ...]:
    """The configured sources: `SOURCES_FILE` when set, else the file shipped in the layer."""
    chosen = path if path is not None else settings().sources_file
    if chosen:
        return parse_sources(Path(chosen).read_text(encoding="utf-8"))
    return parse_sources(resources.files("newsroom.sources").joinpath("sources.json").read_text(encoding="utf-8"))

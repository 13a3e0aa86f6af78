"""Turn a fetched feed document (RSS, Atom, RDF) into `RawEntry` values.

Rules:

- feedparser does the parsing, with its own HTML sanitizer and relative-URI rewriting switched
  off: HTML is sanitized later (nh3 is much faster), and only the URLs we use are resolved here,
  against `base_url` (the final URL the document was fetched from).
- In front of it, `fastparse` (lxml) takes the plain RSS 2.0 documents its cheap rule routes to it
  and returns what feedparser would have returned; anything it does not model, and any exception
  on that path, falls back to feedparser. `ParsedFeed.parser` says which one served the document.
- The document is handed to feedparser as a stream, never as a string: feedparser treats a
  string as a URL or a file name to open.
- A missing Content-Type is read as `application/xml`, so the document's own encoding
  declaration decides, as it would for a correctly served feed.
- `FeedParseError` means "this is not a feed": nothing recognisable and no entries (an empty
  body, an HTML page, garbage). A valid feed with no items is not an error, and a feed that is
  only partly well-formed keeps whatever entries could be recovered, with `bozo_reason` set.
- Hostile XML never expands: feedparser keeps "simple" internal entities, and expat (or, when
  expat gives up, feedparser's loose parser) expands them (a 110 KB document with one 50 KB
  entity referenced 20,000 times cost 3 GB and 17 s). `xmlguard.check_xml` tokenizes the whole
  prolog first and refuses any entity declaration ("hostile-xml"); the same check also runs
  inside feedparser, on the UTF-8 it parses, before either of its parsers, and its loose parser
  is handed no entities to expand.
- A feed holding more than `EntryLimits.entries_per_feed` entries keeps its first ones (feeds
  list newest first); the rest are counted in `entries_over_limit` and logged, never mapped.
- Nothing else escapes: each entry is mapped on its own, and an entry that cannot be mapped (or
  has no usable http(s) link) is skipped and counted, never failing the feed.
- Field values are the feed's own, decoded but unsanitized: `title` is plain text, `summary_html`
  and `content_html` are HTML (a text-typed value is escaped so it stays text), datetimes are
  aware UTC, URLs are absolute http(s) or absent.
"""

from __future__ import annotations

import html
import io
import logging
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from newsroom.core.config import RAW_TEXT_FACTOR, settings
from newsroom.core.models import RawEntry, utc
from newsroom.core.urls import joins_to_itself
from newsroom.core.xmlguard import HostileXml, check_xml
from newsroom.fetch import (
    fastparse,
    feedparser_bounds,  # noqa: F401  # installs its bounds on feedparser
)

logger = logging.getLogger(__name__)

_HTTP_SCHEMES = frozenset({"http", "https"})
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "html", "xhtml"})
_WHITESPACE = re.compile(r"\s+")
_MAX_REASON_CHARS = 300
_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif")


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    entries: tuple[RawEntry, ...]
    title: str | None
    language: str | None
    bozo_reason: str | None  # why feedparser found the document imperfect, if it did
    skipped_entries: int = 0  # entries dropped: no usable link, or too broken to map
    # Entries past `EntryLimits.entries_per_feed`, not mapped at all (the first ones are kept).
    entries_over_limit: int = 0
    ttl_minutes: int | None = None  # RSS <ttl>: the feed asks not to be polled more often
    parser: str = "feedparser"  # or "fast": which path read the document (the same result either way)


class FeedParseError(Exception):
    """The document is not a feed at all; `reason` is short and stable ("empty", "not-a-feed")."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def parse_feed(
    body: bytes,
    *,
    source_id: str,
    base_url: str,
    fetched_at: datetime,
    response_headers: Mapping[str, str] | None = None,
    max_entries: int | None = None,
    fast_path: bool = True,
) -> ParsedFeed:
    """`max_entries` defaults to the configured `EntryLimits.entries_per_feed`; `fast_path=False`
    sends every document to feedparser (the differential test and the benchmark compare both)."""
    if not body.strip():
        raise FeedParseError("empty", "the document is empty")
    try:
        first_element = check_xml(body)
    except HostileXml as exc:
        raise FeedParseError("hostile-xml", str(exc)) from None
    body = _tidy_prolog(body, first_element)
    headers = {name.lower(): value for name, value in (response_headers or {}).items()}
    headers.setdefault("content-type", "application/xml")
    if not _is_wide(body):
        body, headers["content-type"] = _narrow_declarations(body, headers["content-type"])
    # feedparser resolves <link> and xml:base against Content-Location; it has no other way in.
    headers["content-location"] = base_url
    parsed = _fast_parse(body, headers, source_id) if fast_path else None
    parser = "feedparser" if parsed is None else "fast"
    if parsed is None:
        parsed = _feedparser_parse(body, headers)

    bozo_reason = _describe(parsed.get("bozo_exception")) if parsed.get("bozo") else None
    raw_entries = parsed.get("entries") or []
    if not raw_entries and not parsed.get("version"):
        raise FeedParseError("not-a-feed", f"no feed found in the document ({bozo_reason or 'unknown format'})")

    limit = settings().entry_limits.entries_per_feed if max_entries is None else max_entries
    over_limit = max(0, len(raw_entries) - limit)
    if over_limit:
        # A feed of 10,000 items would otherwise queue 10,000 messages every poll.
        logger.warning(
            "feed cut to the entry limit",
            extra={"source_id": source_id, "entries": len(raw_entries), "limit": limit},
        )
        raw_entries = raw_entries[:limit]
    feed = parsed.get("feed") or {}
    feed_language = _language(feed.get("language")) or _language(headers.get("content-language"))
    entries: list[RawEntry] = []
    skipped = 0
    for raw in raw_entries:
        try:
            entry = _map_entry(
                raw,
                source_id=source_id,
                base_url=base_url,
                fetched_at=utc(fetched_at),
                feed_language=feed_language,
            )
        except Exception:  # one odd entry must not cost the rest of the feed
            entry = None
        if entry is None:
            skipped += 1
        else:
            entries.append(entry)

    return ParsedFeed(
        entries=tuple(entries),
        title=_plain_text(feed.get("title"), _detail_type(feed.get("title_detail"))) or None,
        language=feed_language,
        bozo_reason=bozo_reason,
        skipped_entries=skipped,
        ttl_minutes=_ttl(feed.get("ttl")),
        entries_over_limit=over_limit,
        parser=parser,
    )


def _fast_parse(body: bytes, headers: Mapping[str, str], source_id: str) -> Mapping[str, Any] | None:
    """The fast path's result, or None when feedparser must read the document."""
    if not fastparse.routed(body, headers["content-type"]):
        return None
    try:
        return fastparse.parse(body, base_url=headers["content-location"], language=headers.get("content-language"))
    except fastparse.Unsupported:
        return None
    except Exception as exc:  # lxml's errors and any bug of the fast path: feedparser decides
        logger.info("fast parse fell back", extra={"source_id": source_id, "error": _describe(exc)})
        return None


def _feedparser_parse(body: bytes, headers: Mapping[str, str]) -> Mapping[str, Any]:
    try:
        return feedparser.parse(
            io.BytesIO(body),
            response_headers=headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except HostileXml as exc:  # what feedparser decoded differently from the bytes (e.g. UTF-7)
        raise FeedParseError("hostile-xml", str(exc)) from None
    except Exception as exc:  # feedparser is robust, but a crash must stay this source's problem
        raise FeedParseError("parser-crashed", f"feedparser failed: {_describe(exc)}") from exc


_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")


# Every byte `\s` matches: feedparser's prolog regexes (`^\s*<!ENTITY`, MULTILINE) backtrack over
# runs of any of them, \x0b and \x0c included (found by the ReDoS audit: 40 KB of "\n\x0c" took 2.9 s).
_WHITESPACE_RUN = re.compile(rb"[ \t\r\n\x0b\x0c]{2,}")
_XML_SPACE = b" \t\r\n"  # XML's whitespace; bytes.strip's also takes \x0b and \x0c
_WIDE_ENCODING = rb"(?:utf-?16|utf-?32|ucs-?2|ucs-?4)[\w-]*"
_DECLARED_WIDE = re.compile(rb"(<\?xml[^>]*?\bencoding\s*=\s*[\"'])" + _WIDE_ENCODING + rb"([\"'])", re.IGNORECASE)
_CHARSET_WIDE = re.compile(r";\s*charset\s*=\s*[\"']?" + _WIDE_ENCODING.decode() + r"[\"']?", re.IGNORECASE)


def _is_wide(body: bytes) -> bool:
    """Whether the bytes can be UTF-16/32 at all: those have a BOM or a NUL in any ASCII character."""
    return b"\x00" in body[:4] or body[:2] in (b"\xff\xfe", b"\xfe\xff")


def _narrow_declarations(body: bytes, content_type: str) -> tuple[bytes, str]:
    """A document that reads as ASCII bytes cannot be UTF-16 or UTF-32, whatever its XML
    declaration or Content-Type says (a common CMS bug). Such a claim is dropped, so the parser
    reads the bytes as they are (UTF-8, or its own fallbacks) instead of refusing the feed."""
    head = body[:1024]
    fixed = _DECLARED_WIDE.sub(rb"\1utf-8\2", head, count=1)
    return fixed + body[1024:], _CHARSET_WIDE.sub("", content_type)


def _tidy_prolog(body: bytes, first_element: int) -> bytes:
    """Drop whitespace before the prolog and collapse whitespace runs in it (insignificant in XML).

    feedparser's `replace_doctype` runs a MULTILINE `^\\s*<!ENTITY` over the prolog, which is
    quadratic in leading whitespace: 12 KB of newlines cost ~1 s, a 5 MB feed of them hours.
    Leading whitespace is dropped whatever the prolog's length, so an XML declaration that
    follows it (a blank line printed before it, a common WordPress fault) still counts, and the
    strict parser reads the document, not feedparser's loose fallback. Until issue 16's stop of
    2026-12-03 only prologs of 256 bytes and more were tidied, so the same feed with a shorter
    stylesheet line went to the loose parser as ill-formed.
    """
    if _is_wide(body):
        return body
    if first_element < 0:  # an ill-formed prolog: up to what looks like an element
        match = _FIRST_ELEMENT.search(body)
        first_element = match.start() if match else len(body)
    end = first_element
    head = body[:end]
    if len(head) < 256:
        return body.lstrip(_XML_SPACE)
    return _WHITESPACE_RUN.sub(b"\n", head).lstrip(_XML_SPACE) + body[end:]


def _ttl(value: object) -> int | None:
    text = _clean(value)
    if text is None or not text.isdigit():
        return None
    minutes = int(text)
    return minutes if 0 < minutes <= 7 * 24 * 60 else None


def _map_entry(
    raw: Mapping[str, Any],
    *,
    source_id: str,
    base_url: str,
    fetched_at: datetime,
    feed_language: str | None,
) -> RawEntry | None:
    guid = _clean(_own(raw, "id"))
    link = _http_url(_own(raw, "link"), base_url)
    if link is None and guid is not None and urlsplit(guid).scheme.lower() in _HTTP_SCHEMES:
        link = _http_url(guid, base_url)
    if link is None:
        return None
    source = _own(raw, "source")
    source = source if isinstance(source, Mapping) else {}
    declared_source_url = _http_url(source.get("href") or source.get("link"), base_url) or _http_url(
        _own(raw, "dc_source"), base_url
    )
    return RawEntry(
        source_id=source_id,
        guid=guid,
        link=link,
        title=_plain_text(_raw_title(_own(raw, "title")), _detail_type(_own(raw, "title_detail"))),
        summary_html=_as_html(_own(raw, "summary"), _detail_type(_own(raw, "summary_detail"))),
        content_html=_longest_content(_own(raw, "content")),
        author=_author(raw),
        published=_utc_moment(_own(raw, "published_parsed")),
        updated=_utc_moment(_own(raw, "updated_parsed")),
        tags=_tags(_own(raw, "tags")),
        language=_entry_language(raw) or feed_language,
        image_url=_image_url(raw, base_url),
        declared_source_url=declared_source_url,
        declared_source_name=_plain_text(source.get("title"), _detail_type(source.get("title_detail"))) or None,
        orig_link=_http_url(_own(raw, "feedburner_origlink"), base_url),
        fetched_at=fetched_at,
    )


def _own(raw: Mapping[str, Any], key: str) -> Any:
    """A value the entry really has: FeedParserDict.get also answers from fallbacks (it hands
    out `published_parsed` when asked for a missing `updated_parsed`), which would invent data."""
    return dict.get(raw, key) if isinstance(raw, dict) else raw.get(key)


def _dicts(value: object) -> Iterator[Mapping[str, Any]]:
    """The mappings in a feedparser list field, tolerating a missing or malformed field."""
    if isinstance(value, Mapping):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            if isinstance(item, Mapping):
                yield item


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text or None


def _http_url(value: object, base_url: str) -> str | None:
    """`value` as an absolute http(s) URL, resolved against `base_url`; None when it is not one."""
    text = _clean(value)
    if text is None:
        return None
    if joins_to_itself(text, base_url):
        return text
    try:
        absolute = urljoin(base_url, text)
        parts = urlsplit(absolute)
    except ValueError:  # e.g. an invalid IPv6 literal
        return None
    if parts.scheme.lower() not in _HTTP_SCHEMES or not parts.hostname:
        return None
    return absolute


def _detail_type(detail: object) -> str:
    if isinstance(detail, Mapping):
        return str(detail.get("type") or "").lower()
    return ""


class _TextExtractor(HTMLParser):
    """The text of an HTML fragment, entities decoded, script and style content dropped."""

    _INVISIBLE = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._invisible_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._INVISIBLE:
            self._invisible_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self._INVISIBLE and self._invisible_depth:
            self._invisible_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self._invisible_depth:
            self.parts.append(data)


def _raw_title(value: object) -> object:
    """A title cut where `build` cuts a raw one (`EntryLimits.title_chars` × its raw factor) before
    its HTML is read: html.parser is quadratic on some markup in CPython before 3.13.5
    (gh-135462; 48 KB of "&lt;a " took 5.8 s here), and a title past the cut is cut anyway."""
    limit = settings().entry_limits.title_chars * RAW_TEXT_FACTOR
    return value[:limit] if isinstance(value, str) and len(value) > limit else value


def _plain_text(value: object, content_type: str) -> str:
    """One line of plain text from a title-like value.

    HTML is reduced to its text. Plain text is unescaped once more, because many feeds
    double-escape titles ("&amp;#039;" arrives as "&#039;") and a real title rarely contains a
    literal entity.
    """
    if not isinstance(value, str):
        return ""
    if content_type in _HTML_TYPES:
        extractor = _TextExtractor()
        extractor.feed(value)
        extractor.close()
        text = "".join(extractor.parts)
    else:
        text = html.unescape(value)
    return _WHITESPACE.sub(" ", text).strip()


def _as_html(value: object, content_type: str) -> str:
    if not isinstance(value, str):
        return ""
    if content_type in ("text/plain", "text"):
        return html.escape(value, quote=False)
    return value


def _longest_content(value: object) -> str:
    bodies = [_as_html(item.get("value"), _detail_type(item)) for item in _dicts(value)]
    return max(bodies, key=len, default="")


def _author(raw: Mapping[str, Any]) -> str | None:
    detail = _own(raw, "author_detail")
    name = detail.get("name") if isinstance(detail, Mapping) else None
    text = _plain_text(name or _own(raw, "author"), "text/plain")
    return text or None


def _utc_moment(value: object) -> datetime | None:
    """feedparser's *_parsed values are UTC struct_times; impossible dates become None."""
    if not isinstance(value, time.struct_time | tuple) or len(value) < 6:
        return None
    try:
        year, month, day, hour, minute, second = (int(part) for part in value[:6])
        return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _tags(value: object) -> tuple[str, ...]:
    tags: dict[str, None] = {}  # ordered and without repeats
    for tag in _dicts(value):
        text = _plain_text(tag.get("term") or tag.get("label"), "text/plain")
        if text:
            tags.setdefault(text, None)
    return tuple(tags)


def _language(value: object) -> str | None:
    return _clean(value)


def _entry_language(raw: Mapping[str, Any]) -> str | None:
    declared = _language(_own(raw, "language"))
    if declared:
        return declared
    for key in ("title_detail", "summary_detail"):
        detail = _own(raw, key)
        if isinstance(detail, Mapping) and (language := _language(detail.get("language"))):
            return language
    return None


def _image_url(raw: Mapping[str, Any], base_url: str) -> str | None:
    """The entry's picture: media:content, then media:thumbnail, then an image enclosure, except
    that any https candidate beats every plain-http one.

    Within media:content the widest declared image wins (the Guardian lists 140 px before
    460 px); a media:content with neither `medium` nor `type` counts when its URL names an image
    file, as the Guardian's do.
    """
    ranked: list[tuple[bool, int, int, int, str]] = []  # (not https, tier, -width, order, url)

    def offer(tier: int, value: object, width: object = None) -> None:
        url = _http_url(value, base_url)
        if url is not None:
            is_https = url.lower().startswith("https://")
            ranked.append((not is_https, tier, -_int(width), len(ranked), url))

    for media in _dicts(_own(raw, "media_content")):
        medium = str(media.get("medium") or "").lower()
        media_type = str(media.get("type") or "").lower()
        untyped_image = not medium and not media_type and _looks_like_image(media.get("url"))
        if medium == "image" or media_type.startswith("image/") or untyped_image:
            offer(0, media.get("url"), media.get("width"))
    for thumbnail in _dicts(_own(raw, "media_thumbnail")):
        offer(1, thumbnail.get("url"), thumbnail.get("width"))
    for link in _dicts(_own(raw, "links")):
        if link.get("rel") == "enclosure" and str(link.get("type") or "").lower().startswith("image/"):
            offer(2, link.get("href"))
    return min(ranked)[-1] if ranked else None


def _looks_like_image(url: object) -> bool:
    if not isinstance(url, str):
        return False
    try:
        path = urlsplit(url.strip()).path.lower()
    except ValueError:
        return False
    return path.endswith(_IMAGE_EXTENSIONS)


def _int(value: object) -> int:
    try:
        return max(0, int(str(value).strip()))
    except ValueError:
        return 0


def _describe(exc: object) -> str:
    if exc is None:
        return "unknown"
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= _MAX_REASON_CHARS else text[: _MAX_REASON_CHARS - 1] + "…"

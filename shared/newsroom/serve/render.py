"""Articles as the API's JSON and as JSON Feed 1.1, RSS 2.0 and Atom 1.0 documents.

Pure functions from `Article` values to dicts and strings; no I/O, no clock.

Rules:
- The API's article JSON carries every field the reference article page shows, pre-formatted
  where the page formats it (`published_display`, `reading_time`, `kind_label`, `credit.line`),
  so a front end never re-derives them. `article_summary_json` is the same object without the
  body and the copies, for listings.
- Every feed item carries the credit line ("Read original article on <domain>") linking the
  credit URL (`urls.credit`: the named site is the linked site, over http(s)): appended to
  the HTML body as its own paragraph, to the plain-text body as its own line, and in the JSON
  Feed `_newsroom` extension. An attributed item's JSON Feed `external_url` is the original's
  URL when the credit links it.
- Source elements describe the feed an item is credited to, as their specs define them: RSS 2.0
  `<source url>` is "the URL of the source's XMLization" (its feed), the element's text the
  channel's name; Atom `<source>` (RFC 4287 §4.2.11) carries that feed's metadata: `<id>` (the
  feed URL, the identity we know it by), `<title type="text">`, `<updated>` and
  `<link rel="self">` to the feed (plus `rel="alternate"` to its home page when known). Since we
  do not keep the source feed's own `<updated>`, the entry's `updated` stands in: the source
  feed changed at least then. The credited feed is the registered source of the original
  (`attribution.original_source_id`) for an attributed item, else the item's own source. An
  original that is not a registered source has no known feed, so its item has no `<source>`
  at all: the credit stays in the body's credit paragraph, and `<link>` is the page we read.
  Nor has a source whose feed URL carries credentials (userinfo, or a query parameter named
  like a key or token: some paid feeds authenticate in the URL), which no output may publish.
- `content_html` is trusted as sanitized upstream (processing); here it is only escaped or
  CDATA-wrapped for the container format, never re-sanitized or altered.
- One escaping rule per format and field. Every value is either plain text (title, standfirst,
  names, credit line) or sanitized HTML (the body), and every output field is either a text
  field or an HTML field. Text into a text field gets the format's own escaping only (a JSON
  string; XML character data): JSON `title`/`summary`/`content_text`, Atom `type="text"`
  (plain text per RFC 4287 §3.1.1: `<script>` there is eight characters, not markup), RSS
  `<title>`, `<category>`, `<dc:creator>`, `<source>`. Text into an HTML field is HTML-escaped
  first (`_html_text`), then given the format's escaping: RSS `<description>` (item and channel;
  RSS 2.0 lets it hold entity-encoded HTML and nearly every reader renders it, so a standfirst
  reading "<script>" goes out as `&amp;lt;script&amp;gt;`), JSON Feed `content_html` and Atom
  `type="html"` (the credit paragraph, an excerpt's standfirst). HTML into an HTML field is the
  sanitized body, escaped or CDATA-wrapped once. The text fields that RSS readers render as
  HTML regardless (title, category, creator, source name) are markup-free by construction:
  `process.text_fields_as_text` for feed values, `config`/`opml` for source names.
- XML is written by hand, not through ElementTree, because RSS readers expect the conventional
  prefixes (`content:`, `dc:`, `media:`, `atom:`) and `content:encoded` in CDATA. All user data
  goes through `_text`/`_attr`, which strip characters XML 1.0 forbids (control characters,
  lone surrogates, U+FFFE/U+FFFF) and escape markup; CDATA sections split any `]]>` in the body
  as `]]]]><![CDATA[>` so the body round-trips byte for byte.
- RSS `<guid isPermaLink="false">` is the article id: our `link` points at the publisher's
  page, whose URL can change (re-canonicalised, or swapped for the original once attribution is
  learned), while the id never does, so readers never see a story twice. Atom uses the same id
  as `urn:newsroom:article:<id>`, an IRI that is stable for the same reason.
- The lead image is Media RSS `media:content` in RSS and Atom alike, `image` in JSON Feed.
- Dates: RSS uses RFC 822 (`email.utils.format_datetime`, GMT), Atom and JSON Feed RFC 3339 in
  UTC with `Z`. The channel/feed "updated" time is the newest article `updated`; an empty Atom
  feed, which still needs one, says 1970-01-01T00:00:00Z rather than read a clock.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from newsroom.core.models import Article, Attribution, Copy, Source, iso, utc
from newsroom.core.urls import is_http_url
from newsroom.serve.display import format_date, format_reading_time

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
MEDIA_NS = "http://search.yahoo.com/mrss/"
ATOM_ENTRY_ID_PREFIX = "urn:newsroom:article:"

_EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)

# Everything outside XML 1.0's Char production (§2.2).
_XML_ILLEGAL = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# RFC 5646 in shape (not registry-checked): what JSON Feed `language` and XML `xml:lang` expect.
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$")

_ATTRIBUTE_ESCAPES = {'"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
_TEXT_ESCAPES = {"\r": "&#13;"}  # a raw CR would be normalised to LF by the reader

# Fields of `article_json` that listings leave out: the body and the syndication history.
FULL_ONLY_FIELDS = frozenset({"content_html", "content_text", "copies"})


@dataclass(frozen=True)
class FeedMeta:
    """What a feed says about itself, as opposed to its items."""

    title: str
    home_page_url: str
    feed_url: str
    description: str
    language: str = "en"
    next_url: str | None = None
    icon: str | None = None
    # The registered sources by id, for the items' source elements; None: the sources file.
    sources: Mapping[str, Source] | None = None


# --- shared pieces ---------------------------------------------------------------------------


def tags(a: Article) -> list[str]:
    """The item's tags as every format lists them: category first, then coins, no repeats."""
    return list(dict.fromkeys([a.category.value, *a.coins]))


def _html_text(text: str) -> str:
    """Plain text made into HTML that displays exactly that text (for an HTML-typed field)."""
    return html.escape(text, quote=False)


def credit_html(a: Article) -> str:
    """The credit line as an HTML paragraph linking the credit URL."""
    href = html.escape(a.credit_url, quote=True)
    return f'<p><a href="{href}">{_html_text(a.credit_line)}</a></p>'


def original_article_url(a: Article) -> str:
    """The URL of the article itself as first published: the original's, when the credit links
    it (`urls.credit`), else the page we read. Never a home page: a credit that can only link
    the original's home page still has this article's own page as its canonical address."""
    if a.attribution is not None and a.attribution.original_url and a.credit_url == a.attribution.original_url:
        return a.attribution.original_url
    return a.url


def published_html(a: Article) -> str:
    """The body we may show: the whole article, or only the standfirst for an excerpt-only source."""
    if a.excerpt_only:
        return f"<p>{_html_text(a.standfirst)}</p>" if a.standfirst else ""
    return a.content_html


def published_text(a: Article) -> str:
    return a.standfirst if a.excerpt_only else a.content_text


def feed_content_html(a: Article) -> str:
    """The HTML body followed by the credit paragraph: what every feed format carries."""
    body = published_html(a).rstrip()
    return f"{body}\n{credit_html(a)}" if body else credit_html(a)


def feed_content_text(a: Article) -> str:
    """The plain-text body followed by the credit line on its own paragraph."""
    body = published_text(a).rstrip()
    return f"{body}\n\n{a.credit_line}" if body else a.credit_line


def language_tag(value: str | None) -> str | None:
    """`value` as an RFC 5646-shaped tag ("en_US" -> "en-US"), or None when it cannot be one.

    Feeds declare languages loosely; a malformed tag is dropped rather than make the document
    invalid, since readers fall back to the feed's language anyway.
    """
    if not value:
        return None
    tag = value.strip().replace("_", "-")
    return tag if _LANGUAGE_TAG.match(tag) else None


def _author_name(a: Article) -> str:
    # The page shows author then desk; a feed needs one name, so fall back rather than omit.
    return a.author.strip() or a.desk.strip() or a.source_name.strip()


# Endings of query parameter names that authenticate a request rather than name a feed
# ("apikey", "access_token", "X-Amz-Signature", "auth"), compared without "-" and "_".
_CREDENTIAL_PARAMETER_ENDINGS = (
    "key",
    "token",
    "secret",
    "password",
    "passwd",
    "signature",
    "sig",
    "auth",
    "session",
    "sid",
)


def publishable_feed_url(url: str) -> bool:
    """Whether a source's feed URL may appear in our outputs: http(s), and no credentials in it."""
    if not is_http_url(url):
        return False
    parts = urlsplit(url.strip())
    if parts.username is not None or parts.password is not None:
        return False
    names = (
        name.lower().replace("-", "").replace("_", "") for name, _ in parse_qsl(parts.query, keep_blank_values=True)
    )
    return not any(name.endswith(_CREDENTIAL_PARAMETER_ENDINGS) for name in names)


def credited_source(a: Article, sources: Mapping[str, Source]) -> Source | None:
    """The registered source whose feed an item is credited to (module rules), or None when
    the original is not one of our sources or its feed URL may not be published."""
    source_id = a.attribution.original_source_id if a.attribution is not None else a.source_id
    source = sources.get(source_id) if source_id else None
    if source is None or not publishable_feed_url(source.feed_url):
        return None
    return source


def _feed_sources(meta: FeedMeta) -> Mapping[str, Source]:
    if meta.sources is not None:
        return meta.sources
    # Imported here: the configured sources file is only read when a caller gave no registry.
    from newsroom.core.config import load_sources

    return {s.id: s for s in load_sources()}


# --- API JSON --------------------------------------------------------------------------------


def _attribution_json(attribution: Attribution | None) -> dict[str, Any] | None:
    if attribution is None:
        return None
    return {
        "original_url": attribution.original_url,
        "original_domain": attribution.original_domain,
        "original_name": attribution.original_name,
        "original_source_id": attribution.original_source_id,
        "marker": attribution.marker,
    }


def _copy_json(copy: Copy) -> dict[str, Any]:
    return {
        "source_id": copy.source_id,
        "source_name": copy.source_name,
        "url": copy.url,
        "title": copy.title,
        "first_seen": iso(copy.first_seen),
    }


def article_json(a: Article) -> dict[str, Any]:
    """The full article as the API serves it: every field the article page shows."""
    return {
        "id": a.id,
        "url": a.url,
        "canonical_url": a.canonical_url,
        "title": a.title,
        "standfirst": a.standfirst,
        "category": a.category.value,
        "coins": list(a.coins),
        "kind": a.kind.value,
        "kind_label": a.kind.value.upper(),
        "author": a.author,
        "desk": a.desk,
        "byline": {"author": a.author, "desk": a.desk},
        "published": iso(a.published),
        "updated": iso(a.updated),
        "published_display": format_date(a.published),
        "published_estimated": a.published_estimated,
        "reading_minutes": a.reading_minutes,
        "reading_time": format_reading_time(a.reading_minutes),
        "word_count": a.word_count,
        "language": a.language,
        "image": {
            "url": a.image.url,
            "alt": a.image.alt,
            "caption": a.image.caption,
            "is_default": a.image.is_default,
        },
        "content_html": published_html(a),
        "content_text": published_text(a),
        "source": {"id": a.source_id, "name": a.source_name},
        "attribution": _attribution_json(a.attribution),
        "credit": {"line": a.credit_line, "domain": a.credit_domain, "url": a.credit_url},
        "copies": [_copy_json(c) for c in a.copies],
        "body_truncated": a.body_truncated,
        "excerpt_only": a.excerpt_only,
    }


def article_summary_json(a: Article) -> dict[str, Any]:
    """The article for listings: `article_json` without content_html, content_text and copies."""
    return {key: value for key, value in article_json(a).items() if key not in FULL_ONLY_FIELDS}


# --- JSON Feed 1.1 ---------------------------------------------------------------------------


def _clean(text: str) -> str:
    return _XML_ILLEGAL.sub("", text)


def _clean_json(value: Any) -> Any:
    # The same text in every feed format: JSON could carry control characters, but a reader
    # comparing our JSON and XML feeds should see identical strings.
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, Mapping):
        return {key: _clean_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clean_json(item) for item in value]
    return value


def _json_feed_item(a: Article) -> dict[str, Any]:
    item: dict[str, Any] = {"id": a.id, "url": a.url}
    if original_article_url(a) != a.url:
        item["external_url"] = original_article_url(a)
    item["title"] = a.title
    item["content_html"] = feed_content_html(a)
    if published_text(a).strip():
        item["content_text"] = feed_content_text(a)
    if a.standfirst:
        item["summary"] = a.standfirst
    if a.image.url:
        item["image"] = a.image.url
    item["date_published"] = iso(a.published)
    item["date_modified"] = iso(a.updated)
    author = _author_name(a)
    if author:
        item["authors"] = [{"name": author}]
    item["tags"] = tags(a)
    item_language = language_tag(a.language)
    if item_language:
        item["language"] = item_language
    item["_newsroom"] = {
        "category": a.category.value,
        "coins": list(a.coins),
        "kind": a.kind.value,
        "reading_minutes": a.reading_minutes,
        "credit_line": a.credit_line,
        "credit_url": a.credit_url,
        "original_domain": a.credit_domain,
        "source_name": a.source_name,
    }
    return item


def json_feed(meta: FeedMeta, articles: Iterable[Article]) -> dict[str, Any]:
    """The JSON Feed 1.1 document as a dict (see `render_json_feed`)."""
    feed: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": meta.title,
        "home_page_url": meta.home_page_url,
        "feed_url": meta.feed_url,
    }
    if meta.next_url:
        feed["next_url"] = meta.next_url
    feed["description"] = meta.description
    if meta.icon:
        feed["icon"] = meta.icon
    feed_language = language_tag(meta.language)
    if feed_language:
        feed["language"] = feed_language
    # The publication is the feed's author; items name their own writers.
    feed["authors"] = [{"name": meta.title, "url": meta.home_page_url}]
    feed["items"] = [_json_feed_item(a) for a in articles]
    cleaned: dict[str, Any] = _clean_json(feed)
    return cleaned


def render_json_feed(meta: FeedMeta, articles: Sequence[Article]) -> str:
    """A JSON Feed 1.1 document (serve as application/feed+json; UTF-8)."""
    return json.dumps(json_feed(meta, articles), ensure_ascii=False, separators=(",", ":"))


# --- XML helpers -----------------------------------------------------------------------------


def _text(value: str) -> str:
    """Character data: illegal characters dropped, &, <, > escaped."""
    escaped = _clean(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char, reference in _TEXT_ESCAPES.items():
        escaped = escaped.replace(char, reference)
    return escaped


def _attr(value: str) -> str:
    """A double-quoted attribute value, quotes included; whitespace kept as character refs."""
    escaped = _text(value)
    for char, reference in _ATTRIBUTE_ESCAPES.items():
        escaped = escaped.replace(char, reference)
    return f'"{escaped}"'


def _cdata(value: str) -> str:
    """A CDATA section whose content reads back as `value` exactly (less illegal characters).

    `]]>` would end the section, so it is split across two; a CR would be normalised to LF by
    the reader, so it steps outside the section as a character reference.
    """
    body = _clean(value).replace("]]>", "]]]]><![CDATA[>").replace("\r", "]]>&#13;<![CDATA[")
    return f"<![CDATA[{body}]]>"


def _attrs(attributes: Mapping[str, str | None]) -> str:
    return "".join(f" {name}={_attr(value)}" for name, value in attributes.items() if value is not None)


def _element(name: str, text: str, **attributes: str | None) -> str:
    return f"<{name}{_attrs(attributes)}>{_text(text)}</{name}>"


def _empty(name: str, **attributes: str | None) -> str:
    return f"<{name}{_attrs(attributes)}/>"


def _newest_update(articles: Sequence[Article]) -> datetime | None:
    return max((utc(a.updated) for a in articles), default=None)


def _rfc822(moment: datetime) -> str:
    return format_datetime(utc(moment), usegmt=True)


# --- RSS 2.0 ---------------------------------------------------------------------------------


def _rss_item(a: Article, sources: Mapping[str, Source]) -> list[str]:
    lines = [
        "<item>",
        _element("title", a.title),
        _element("link", a.url),
        _element("guid", a.id, isPermaLink="false"),
        _element("pubDate", _rfc822(a.published)),
    ]
    author = _author_name(a)
    if author:
        lines.append(_element("dc:creator", author))
    # An HTML field (see the module rules): the plain-text standfirst is HTML-escaped, then XML-escaped.
    lines.append(_element("description", _html_text(a.standfirst)))
    lines.append(f"<content:encoded>{_cdata(feed_content_html(a))}</content:encoded>")
    lines.extend(_element("category", tag) for tag in tags(a))
    source = credited_source(a, sources)
    if source is not None:
        lines.append(_element("source", source.name, url=source.feed_url))
    lines.extend(_media_content(a))
    lines.append("</item>")
    return lines


def _media_content(a: Article) -> list[str]:
    """The lead image as Media RSS `media:content`, which RSS and Atom readers both understand.

    Not an RSS `<enclosure>`: that needs the byte length, which we never fetch.
    """
    if not a.image.url:
        return []
    # The alt text is what describes the picture; the caption is only a fallback.
    media_description = a.image.alt or a.image.caption or ""
    lines = [f"<media:content{_attrs({'url': a.image.url, 'medium': 'image'})}>"]
    if media_description:
        lines.append(_element("media:description", media_description, type="plain"))
    lines.append("</media:content>")
    return lines


def render_rss(meta: FeedMeta, articles: Sequence[Article]) -> str:
    """An RSS 2.0 document with the content, Dublin Core, Media RSS and Atom extensions."""
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<rss version="2.0" xmlns:atom={_attr(ATOM_NS)} xmlns:content={_attr(CONTENT_NS)}'
        f" xmlns:dc={_attr(DC_NS)} xmlns:media={_attr(MEDIA_NS)}>",
        "<channel>",
        _element("title", meta.title),
        _element("link", meta.home_page_url),
        _element("description", _html_text(meta.description)),
    ]
    rss_language = language_tag(meta.language)
    if rss_language:
        lines.append(_element("language", rss_language))
    newest = _newest_update(articles)
    if newest is not None:
        lines.append(_element("lastBuildDate", _rfc822(newest)))
    lines.append(_empty("atom:link", href=meta.feed_url, rel="self", type="application/rss+xml"))
    if meta.next_url:
        lines.append(_empty("atom:link", href=meta.next_url, rel="next", type="application/rss+xml"))
    if meta.icon:
        lines.extend(
            [
                "<image>",
                _element("url", meta.icon),
                _element("title", meta.title),
                _element("link", meta.home_page_url),
                "</image>",
            ]
        )
    sources = _feed_sources(meta)
    for a in articles:
        lines.extend(_rss_item(a, sources))
    lines.extend(["</channel>", "</rss>"])
    return "\n".join(lines) + "\n"


# --- Atom 1.0 --------------------------------------------------------------------------------


def atom_entry_id(a: Article) -> str:
    return f"{ATOM_ENTRY_ID_PREFIX}{a.id}"


def _atom_source(a: Article, sources: Mapping[str, Source]) -> list[str]:
    source = credited_source(a, sources)
    if source is None:
        return []
    lines = [
        "<source>",
        _element("id", source.feed_url),
        _element("title", source.name, type="text"),
        _element("updated", iso(a.updated)),
        _empty("link", rel="self", href=source.feed_url),
    ]
    if is_http_url(source.homepage):
        lines.append(_empty("link", rel="alternate", type="text/html", href=source.homepage))
    lines.append("</source>")
    return lines


def _atom_entry(a: Article, sources: Mapping[str, Source]) -> list[str]:
    lines = [
        f"<entry{_attrs({'xml:lang': language_tag(a.language)})}>",
        _element("id", atom_entry_id(a)),
        _element("title", a.title, type="text"),
        _empty("link", rel="alternate", type="text/html", href=a.url),
        _element("published", iso(a.published)),
        _element("updated", iso(a.updated)),
    ]
    author = _author_name(a)
    if author:
        lines.append(f"<author>{_element('name', author)}</author>")
    if a.standfirst:
        lines.append(_element("summary", a.standfirst, type="text"))
    lines.append(_element("content", feed_content_html(a), type="html"))
    lines.extend(_empty("category", term=tag) for tag in tags(a))
    lines.extend(_media_content(a))
    lines.extend(_atom_source(a, sources))
    lines.append("</entry>")
    return lines


def render_atom(meta: FeedMeta, articles: Sequence[Article]) -> str:
    """An Atom 1.0 (RFC 4287) document."""
    updated = _newest_update(articles) or _EMPTY_FEED_UPDATED
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f"<feed xmlns={_attr(ATOM_NS)} xmlns:media={_attr(MEDIA_NS)}"
        f"{_attrs({'xml:lang': language_tag(meta.language)})}>",
        _element("id", meta.feed_url),
        _element("title", meta.title, type="text"),
        _element("subtitle", meta.description, type="text"),
        _element("updated", iso(updated)),
        _empty("link", rel="self", type="application/atom+xml", href=meta.feed_url),
        _empty("link", rel="alternate", type="text/html", href=meta.home_page_url),
    ]
    if meta.next_url:
        lines.append(_empty("link", rel="next", type="application/atom+xml", href=meta.next_url))
    if meta.icon:
        lines.append(_element("icon", meta.icon))
    # RFC 4287 §4.1.1: a feed needs an author unless every entry has one; the publication is.
    lines.append(f"<author>{_element('name', meta.title)}{_element('uri', meta.home_page_url)}</author>")
    sources = _feed_sources(meta)
    for a in articles:
        lines.extend(_atom_entry(a, sources))
    lines.append("</feed>")
    return "\n".join(lines) + "\n"

"""What every feed format says alike, and the renderer interface the feed route serves.

`FeedFormat` is that interface: a media type, the charset rule for its Content-Type and
`render(meta, articles)`; `jsonfeed.JSON_FEED`, `rss.RSS` and `atom.ATOM` are its values.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

from newsroom.core.models import Article, Source, utc
from newsroom.core.urls import is_http_url
from newsroom.serve.formats import escape

ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_NS = "http://search.yahoo.com/mrss/"

# RFC 5646 in shape (not registry-checked): what JSON Feed `language` and XML `xml:lang` expect.
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$")


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


@dataclass(frozen=True, slots=True)
class FeedFormat:
    """A feed document format, as the one feed route serves it."""

    media_type: str
    render: Callable[[FeedMeta, Sequence[Article]], str]
    # The XML media types take a charset parameter (RFC 7303 §3.2), stated so no reader falls
    # back to a default; JSON has none to give (RFC 8259 §11: always UTF-8).
    charset: bool = False

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8" if self.charset else self.media_type


def tags(a: Article) -> list[str]:
    """The item's tags as every format lists them: category first, then coins, no repeats."""
    return list(dict.fromkeys([a.category.value, *a.coins]))


def credit_html(a: Article) -> str:
    """The credit line as an HTML paragraph linking the credit URL."""
    href = html.escape(a.credit_url, quote=True)
    return f'<p><a href="{href}">{escape.html_text(a.credit_line)}</a></p>'


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
        return f"<p>{escape.html_text(a.standfirst)}</p>" if a.standfirst else ""
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


def author_name(a: Article) -> str:
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
    """The registered source whose feed an item is credited to (package rules), or None when
    the original is not one of our sources or its feed URL may not be published."""
    source_id = a.attribution.original_source_id if a.attribution is not None else a.source_id
    source = sources.get(source_id) if source_id else None
    if source is None or not publishable_feed_url(source.feed_url):
        return None
    return source


def feed_sources(meta: FeedMeta) -> Mapping[str, Source]:
    if meta.sources is not None:
        return meta.sources
    # Imported here: the configured sources file is only read when a caller gave no registry.
    from newsroom.core.config import load_sources

    return {s.id: s for s in load_sources()}


# --- XML pieces RSS and Atom share -----------------------------------------------------------


def newest_update(articles: Sequence[Article]) -> datetime | None:
    return max((utc(a.updated) for a in articles), default=None)


def media_content(a: Article) -> list[str]:
    """The lead image as Media RSS `media:content`, which RSS and Atom readers both understand.

    Not an RSS `<enclosure>`: that needs the byte length, which we never fetch.
    """
    if not a.image.url:
        return []
    # The alt text is what describes the picture; the caption is only a fallback.
    media_description = a.image.alt or a.image.caption or ""
    lines = [f"<media:content{escape.attrs({'url': a.image.url, 'medium': 'image'})}>"]
    if media_description:
        lines.append(escape.element("media:description", media_description, type="plain"))
    lines.append("</media:content>")
    return lines

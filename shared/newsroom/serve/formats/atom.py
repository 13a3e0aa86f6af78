"""Atom 1.0 (RFC 4287), with Media RSS for the lead image."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from newsroom.core.models import Article, Source, iso
from newsroom.core.urls import is_http_url
from newsroom.serve.formats.common import (
    ATOM_NS,
    MEDIA_NS,
    FeedFormat,
    FeedMeta,
    author_name,
    credited_source,
    feed_content_html,
    feed_sources,
    language_tag,
    media_content,
    newest_update,
    tags,
)
from newsroom.serve.formats.escape import attr, attrs, element, empty

ATOM_ENTRY_ID_PREFIX = "urn:newsroom:article:"

_EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)


def atom_entry_id(a: Article) -> str:
    return f"{ATOM_ENTRY_ID_PREFIX}{a.id}"


def _atom_source(a: Article, sources: Mapping[str, Source]) -> list[str]:
    source = credited_source(a, sources)
    if source is None:
        return []
    lines = [
        "<source>",
        element("id", source.feed_url),
        element("title", source.name, type="text"),
        element("updated", iso(a.updated)),
        empty("link", rel="self", href=source.feed_url),
    ]
    if is_http_url(source.homepage):
        lines.append(empty("link", rel="alternate", type="text/html", href=source.homepage))
    lines.append("</source>")
    return lines


def _atom_entry(a: Article, sources: Mapping[str, Source]) -> list[str]:
    lines = [
        f"<entry{attrs({'xml:lang': language_tag(a.language)})}>",
        element("id", atom_entry_id(a)),
        element("title", a.title, type="text"),
        empty("link", rel="alternate", type="text/html", href=a.url),
        element("published", iso(a.published)),
        element("updated", iso(a.updated)),
    ]
    author = author_name(a)
    if author:
        lines.append(f"<author>{element('name', author)}</author>")
    if a.standfirst:
        lines.append(element("summary", a.standfirst, type="text"))
    lines.append(element("content", feed_content_html(a), type="html"))
    lines.extend(empty("category", term=tag) for tag in tags(a))
    lines.extend(media_content(a))
    lines.extend(_atom_source(a, sources))
    lines.append("</entry>")
    return lines


def render_atom(meta: FeedMeta, articles: Sequence[Article]) -> str:
    """An Atom 1.0 (RFC 4287) document."""
    updated = newest_update(articles) or _EMPTY_FEED_UPDATED
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f"<feed xmlns={attr(ATOM_NS)} xmlns:media={attr(MEDIA_NS)}{attrs({'xml:lang': language_tag(meta.language)})}>",
        element("id", meta.feed_url),
        element("title", meta.title, type="text"),
        element("subtitle", meta.description, type="text"),
        element("updated", iso(updated)),
        empty("link", rel="self", type="application/atom+xml", href=meta.feed_url),
        empty("link", rel="alternate", type="text/html", href=meta.home_page_url),
    ]
    if meta.next_url:
        lines.append(empty("link", rel="next", type="application/atom+xml", href=meta.next_url))
    if meta.icon:
        lines.append(element("icon", meta.icon))
    # RFC 4287 §4.1.1: a feed needs an author unless every entry has one; the publication is.
    lines.append(f"<author>{element('name', meta.title)}{element('uri', meta.home_page_url)}</author>")
    sources = feed_sources(meta)
    for a in articles:
        lines.extend(_atom_entry(a, sources))
    lines.append("</feed>")
    return "\n".join(lines) + "\n"


ATOM = FeedFormat("application/atom+xml", render_atom, charset=True)

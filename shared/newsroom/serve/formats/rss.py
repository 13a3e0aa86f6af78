"""RSS 2.0 (https://www.rssboard.org/rss-specification) with the content, Dublin Core, Media RSS
and Atom extensions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from email.utils import format_datetime

from newsroom.core.models import Article, Source, utc
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
from newsroom.serve.formats.escape import attr, cdata, element, empty, html_text

CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"


def _rfc822(moment: datetime) -> str:
    return format_datetime(utc(moment), usegmt=True)


def _rss_item(a: Article, sources: Mapping[str, Source]) -> list[str]:
    lines = [
        "<item>",
        element("title", a.title),
        element("link", a.url),
        element("guid", a.id, isPermaLink="false"),
        element("pubDate", _rfc822(a.published)),
    ]
    author = author_name(a)
    if author:
        lines.append(element("dc:creator", author))
    # An HTML field (see the package rules): the plain-text standfirst is HTML-escaped, then XML-escaped.
    lines.append(element("description", html_text(a.standfirst)))
    lines.append(f"<content:encoded>{cdata(feed_content_html(a))}</content:encoded>")
    lines.extend(element("category", tag) for tag in tags(a))
    source = credited_source(a, sources)
    if source is not None:
        lines.append(element("source", source.name, url=source.feed_url))
    lines.extend(media_content(a))
    lines.append("</item>")
    return lines


def render_rss(meta: FeedMeta, articles: Sequence[Article]) -> str:
    """An RSS 2.0 document with the content, Dublin Core, Media RSS and Atom extensions."""
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<rss version="2.0" xmlns:atom={attr(ATOM_NS)} xmlns:content={attr(CONTENT_NS)}'
        f" xmlns:dc={attr(DC_NS)} xmlns:media={attr(MEDIA_NS)}>",
        "<channel>",
        element("title", meta.title),
        element("link", meta.home_page_url),
        element("description", html_text(meta.description)),
    ]
    rss_language = language_tag(meta.language)
    if rss_language:
        lines.append(element("language", rss_language))
    newest = newest_update(articles)
    if newest is not None:
        lines.append(element("lastBuildDate", _rfc822(newest)))
    lines.append(empty("atom:link", href=meta.feed_url, rel="self", type="application/rss+xml"))
    if meta.next_url:
        lines.append(empty("atom:link", href=meta.next_url, rel="next", type="application/rss+xml"))
    if meta.icon:
        lines.extend(
            [
                "<image>",
                element("url", meta.icon),
                element("title", meta.title),
                element("link", meta.home_page_url),
                "</image>",
            ]
        )
    sources = feed_sources(meta)
    for a in articles:
        lines.extend(_rss_item(a, sources))
    lines.extend(["</channel>", "</rss>"])
    return "\n".join(lines) + "\n"


RSS = FeedFormat("application/rss+xml", render_rss, charset=True)

"""JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from newsroom.core.models import Article, iso
from newsroom.serve.formats.common import (
    FeedFormat,
    FeedMeta,
    author_name,
    feed_content_html,
    feed_content_text,
    language_tag,
    original_article_url,
    published_text,
    tags,
)
from newsroom.serve.formats.escape import clean

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


def _clean_json(value: Any) -> Any:
    # The same text in every feed format: JSON could carry control characters, but a reader
    # comparing our JSON and XML feeds should see identical strings.
    if isinstance(value, str):
        return clean(value)
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
    author = author_name(a)
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


JSON_FEED = FeedFormat("application/feed+json", render_json_feed)

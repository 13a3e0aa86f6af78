"""JSON encodings of the model: queue messages and stored documents.

Kept apart from `storage` so the fetcher (which only sends messages) and the processor agree on
one format, and so the format is testable without AWS.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from newsroom.core.models import (
    Article,
    Attribution,
    Category,
    Copy,
    Image,
    Kind,
    Price,
    RawEntry,
    iso,
    parse_iso,
)

MESSAGE_VERSION = 1


def _dt(value: datetime | None) -> str | None:
    return iso(value) if value is not None else None


def _parse_dt(value: Any) -> datetime | None:
    return parse_iso(value) if isinstance(value, str) and value else None


def entry_to_message(entry: RawEntry) -> str:
    return json.dumps(
        {
            "v": MESSAGE_VERSION,
            "source_id": entry.source_id,
            "guid": entry.guid,
            "link": entry.link,
            "title": entry.title,
            "summary_html": entry.summary_html,
            "content_html": entry.content_html,
            "author": entry.author,
            "published": _dt(entry.published),
            "updated": _dt(entry.updated),
            "tags": list(entry.tags),
            "language": entry.language,
            "image_url": entry.image_url,
            "declared_source_url": entry.declared_source_url,
            "declared_source_name": entry.declared_source_name,
            "orig_link": entry.orig_link,
            "fetched_at": iso(entry.fetched_at),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


class MessageError(ValueError):
    """A queue message that is not an entry we can process (a poison message)."""


def entry_from_message(body: str) -> RawEntry:
    try:
        data = json.loads(body)
        if not isinstance(data, dict) or data.get("v") != MESSAGE_VERSION:
            raise MessageError(f"unsupported message version: {data.get('v') if isinstance(data, dict) else data!r}")
        fetched_at = _parse_dt(data.get("fetched_at"))
        if fetched_at is None:
            raise MessageError("message has no fetched_at")
        if not data.get("source_id") or not data.get("link"):
            raise MessageError("message lacks source_id or link")
        return RawEntry(
            source_id=str(data["source_id"]),
            guid=data.get("guid"),
            link=str(data["link"]),
            title=str(data.get("title") or ""),
            summary_html=str(data.get("summary_html") or ""),
            content_html=str(data.get("content_html") or ""),
            author=data.get("author"),
            published=_parse_dt(data.get("published")),
            updated=_parse_dt(data.get("updated")),
            tags=tuple(str(t) for t in data.get("tags") or ()),
            language=data.get("language"),
            image_url=data.get("image_url"),
            declared_source_url=data.get("declared_source_url"),
            declared_source_name=data.get("declared_source_name"),
            orig_link=data.get("orig_link"),
            fetched_at=fetched_at,
        )
    except MessageError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise MessageError(f"malformed entry message: {exc}") from exc


def article_to_doc(article: Article, *, with_body: bool = True) -> dict[str, Any]:
    attribution = article.attribution
    doc: dict[str, Any] = {
        "id": article.id,
        "canonical_url": article.canonical_url,
        "url": article.url,
        "guid": article.guid,
        "source_id": article.source_id,
        "source_name": article.source_name,
        "title": article.title,
        "standfirst": article.standfirst,
        "word_count": article.word_count,
        "reading_minutes": article.reading_minutes,
        "published": iso(article.published),
        "updated": iso(article.updated),
        "first_seen": iso(article.first_seen),
        "language": article.language,
        "image": {
            "url": article.image.url,
            "alt": article.image.alt,
            "caption": article.image.caption,
            "is_default": article.image.is_default,
        },
        "category": article.category.value,
        "coins": list(article.coins),
        "kind": article.kind.value,
        "author": article.author,
        "desk": article.desk,
        "content_hash": article.content_hash,
        "attribution": None
        if attribution is None
        else {
            "original_url": attribution.original_url,
            "original_domain": attribution.original_domain,
            "original_name": attribution.original_name,
            "original_source_id": attribution.original_source_id,
            "marker": attribution.marker,
        },
        "body_truncated": article.body_truncated,
        "excerpt_only": article.excerpt_only,
        "published_estimated": article.published_estimated,
    }
    if article.input_cuts:  # only when something was cut, so existing documents stay as they were
        doc["input_cuts"] = list(article.input_cuts)
    if with_body:
        doc["content_html"] = article.content_html
        doc["content_text"] = article.content_text
        doc["copies"] = [
            {
                "source_id": c.source_id,
                "source_name": c.source_name,
                "url": c.url,
                "title": c.title,
                "first_seen": iso(c.first_seen),
            }
            for c in article.copies
        ]
    return doc


def article_from_doc(doc: dict[str, Any]) -> Article:
    attribution = doc.get("attribution")
    image = doc["image"]
    return Article(
        id=doc["id"],
        canonical_url=doc["canonical_url"],
        url=doc["url"],
        guid=doc.get("guid"),
        source_id=doc["source_id"],
        source_name=doc["source_name"],
        title=doc["title"],
        content_html=doc.get("content_html", ""),
        content_text=doc.get("content_text", ""),
        standfirst=doc["standfirst"],
        word_count=int(doc["word_count"]),
        reading_minutes=int(doc["reading_minutes"]),
        published=parse_iso(doc["published"]),
        updated=parse_iso(doc["updated"]),
        first_seen=parse_iso(doc["first_seen"]),
        language=doc.get("language"),
        image=Image(
            url=image["url"],
            alt=image["alt"],
            caption=image.get("caption"),
            is_default=bool(image.get("is_default")),
        ),
        category=Category(doc["category"]),
        coins=tuple(doc.get("coins", ())),
        kind=Kind(doc["kind"]),
        author=doc["author"],
        desk=doc["desk"],
        content_hash=doc["content_hash"],
        attribution=None
        if not attribution
        else Attribution(
            original_url=attribution.get("original_url"),
            original_domain=attribution["original_domain"],
            original_name=attribution.get("original_name"),
            original_source_id=attribution.get("original_source_id"),
            marker=attribution.get("marker", ""),
        ),
        copies=tuple(
            Copy(
                source_id=c["source_id"],
                source_name=c["source_name"],
                url=c["url"],
                title=c["title"],
                first_seen=parse_iso(c["first_seen"]),
            )
            for c in doc.get("copies", ())
        ),
        body_truncated=bool(doc.get("body_truncated")),
        excerpt_only=bool(doc.get("excerpt_only")),
        published_estimated=bool(doc.get("published_estimated")),
        input_cuts=tuple(str(cut) for cut in doc.get("input_cuts", ())),
    )


def price_to_doc(price: Price) -> dict[str, Any]:
    return {
        "symbol": price.symbol,
        "quote": price.quote,
        "price": repr(price.price),
        "change_24h_pct": None if price.change_24h_pct is None else repr(price.change_24h_pct),
        "provider": price.provider,
        "provider_updated_at": _dt(price.provider_updated_at),
        "fetched_at": iso(price.fetched_at),
    }


def price_from_doc(doc: dict[str, Any]) -> Price:
    change = doc.get("change_24h_pct")
    fetched_at = _parse_dt(doc.get("fetched_at"))
    if fetched_at is None:
        raise ValueError("price document without fetched_at")
    return Price(
        symbol=doc["symbol"],
        quote=doc["quote"],
        price=float(doc["price"]),
        change_24h_pct=None if change is None else float(change),
        provider=doc["provider"],
        provider_updated_at=_parse_dt(doc.get("provider_updated_at")),
        fetched_at=fetched_at,
    )

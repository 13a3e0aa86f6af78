"""Articles as the API serves them: every field the article page shows, and the listing form."""

from __future__ import annotations

from typing import Any

from newsroom.core.events import Event, EventMember, top_score
from newsroom.core.models import Article, Attribution, Copy, iso
from newsroom.serve.display import format_date, format_reading_time
from newsroom.serve.formats.common import published_html, published_text

# Fields of `article_json` that listings leave out: the body and the syndication history.
# The event fields are read beside the story (its event item), which a listing entry does not carry.
FULL_ONLY_FIELDS = frozenset({"content_html", "content_text", "copies", "event", "also_reported_by"})


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


def article_json(a: Article, event: Event | None = None, event_url: str | None = None) -> dict[str, Any]:
    """The full article as the API serves it: every field the article page shows, and its event
    (`event_url` is where `/events/{id}` serves it)."""
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
        "event": None if event is None else event_ref_json(event, event_url or ""),
        "also_reported_by": [] if event is None else [member_json(m) for m in event.others(a.id)],
    }


def member_json(m: EventMember) -> dict[str, Any]:
    return {
        "story_id": m.story_id,
        "outlet": m.source_name,
        "outlet_id": m.source_id,
        "title": m.title,
        "link": m.url,
        "published": iso(m.published),
    }


def event_ref_json(event: Event, url: str) -> dict[str, Any]:
    """An event as a story names it: enough to show "+N sources" and link to it."""
    return {"id": event.id, "url": url, "coverage": event.coverage, "member_count": event.member_count}


def event_json(event: Event, url: str) -> dict[str, Any]:
    """An event as `/events` serves it: its lead story, coverage, members and what tied them."""
    lead = event.lead
    return {
        **event_ref_json(event, url),
        "lead": None if lead is None else member_json(lead),
        "outlets": list(event.outlets),
        "members": [member_json(m) for m in event.members],
        "ties": list(event.ties),
        "created": iso(event.created),
        "updated": iso(event.updated),
        "score": round(top_score(event), 6),
    }


def article_summary_json(a: Article) -> dict[str, Any]:
    """The article for listings: `article_json` without content_html, content_text and copies."""
    return {key: value for key, value in article_json(a).items() if key not in FULL_ONLY_FIELDS}

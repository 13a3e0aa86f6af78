"""`/sources`: every source we follow, by id, with its story count, polling health and WebSub
push (issue 19: the hub, the subscription's state, lease, last delivery and last verification;
never its callback token or secret)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from newsroom.core.models import Source, SourceState, iso
from newsroom.serve.caching import Body
from newsroom.serve.problems import bad_request
from newsroom.serve.request import Request
from newsroom.serve.routes import SOURCES_DEFAULT_LIMIT
from newsroom.sources.schedule import next_poll_at, pushed_until, source_status
from newsroom.store.cursor import CursorError
from newsroom.store.subscriptions import Subscription

# The scope signed into /sources cursors; no article listing has this name, so a cursor of one
# cannot be replayed on the other.
SOURCES_CURSOR_SCOPE = "/sources"


def sources(request: Request) -> Body:
    limit = request.limit(SOURCES_DEFAULT_LIMIT)
    cursor = request.query("cursor")
    codec = request.store.cursor_codec()
    after: str | None = None
    if cursor:
        try:
            after = codec.decode(SOURCES_CURSOR_SCOPE, cursor)
        except CursorError as exc:
            raise bad_request(f"invalid cursor: {exc}") from exc
    store = request.store
    remaining = sorted((s for s in request.known_sources() if after is None or s.id > after), key=lambda s: s.id)
    page = remaining[:limit]
    next_cursor = codec.encode(SOURCES_CURSOR_SCOPE, page[-1].id) if len(remaining) > limit else None
    ids = [s.id for s in page]
    # Two BatchGetItems whatever the story counts: the states and subscriptions together, then
    # the story counts (tests/e2e/test_api_queries.py).
    states, subscriptions = store.get_source_states_and_subscriptions(ids) if ids else ({}, {})
    counts = store.source_story_counts(ids) if ids else {}
    now = datetime.now(UTC).replace(microsecond=0)
    next_url = request.url_with("/sources", limit=request.query("limit"), cursor=next_cursor) if next_cursor else None
    body = {
        "items": [
            {**_source_json(s, states.get(s.id), counts[s.id], now), "push": _push_json(subscriptions.get(s.id), now)}
            for s in page
        ],
        "next_cursor": next_cursor,
        "next_url": next_url,
    }
    return Body(json.dumps(body, ensure_ascii=False), next_url=next_url)


def _when(moment: datetime | None) -> str | None:
    return iso(moment) if moment is not None else None


def _push_json(sub: Subscription | None, now: datetime) -> dict[str, Any]:
    """The source's WebSub subscription as a reader may see it: `pushed` says whether polling
    stepped back to the safety net now (`schedule.pushed_until`)."""
    if sub is None:
        return {
            "hub": None,
            "state": "none",
            "pushed": False,
            "lease_expires": None,
            "last_delivery": None,
            "last_verification": None,
            "deliveries": 0,
            "ignored_deliveries": 0,
            "last_error": None,
        }
    return {
        "hub": sub.hub,
        "state": sub.state,
        "pushed": pushed_until(sub, now) is not None,
        "lease_expires": _when(sub.lease_expires),
        "last_delivery": _when(sub.last_delivery),
        "last_verification": _when(sub.verified_at),
        "deliveries": sub.deliveries,
        "ignored_deliveries": sub.ignored_deliveries,
        "last_error": sub.last_error,
    }


def _source_json(source: Source, state: SourceState | None, articles: int, now: datetime) -> dict[str, Any]:
    next_poll = next_poll_at(source, state, now)
    disabled_reason = None
    if not source.enabled:
        disabled_reason = "disabled in the source's settings"
    elif next_poll is None and state is not None:
        disabled_reason = state.disabled_reason or "disabled"

    def when(moment: datetime | None) -> str | None:
        return iso(moment) if moment is not None else None

    return {
        "id": source.id,
        "name": source.name,
        "homepage": source.homepage,
        "kind": source.role.value,
        "role": source.role.value,  # the field's first name, kept for existing clients
        "rights": source.rights.value,
        "enabled": source.enabled,
        "articles": articles,
        "health": {
            "status": source_status(state, next_poll),
            "last_attempt": when(state.last_attempt) if state else None,
            "last_success": when(state.last_success) if state else None,
            "last_error": state.last_error if state else None,
            "last_error_at": when(state.last_error_at) if state else None,
            "last_status": state.last_status if state else None,
            "consecutive_failures": state.consecutive_failures if state else 0,
            "next_poll": when(next_poll),
            "disabled_reason": disabled_reason,
            "entries_per_week": state.entries_per_week if state else None,
        },
    }

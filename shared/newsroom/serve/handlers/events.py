"""`/events` (the "top" or "latest" events) and `/events/{event_id}` (one event), issue 17."""

from __future__ import annotations

import json

from newsroom.serve.caching import Body
from newsroom.serve.formats.api_json import event_json
from newsroom.serve.problems import bad_request, not_found
from newsroom.serve.request import Request
from newsroom.serve.routes import ARTICLE_ID, DEFAULT_EVENT_ORDER, EVENT_ORDERS, parse_choice
from newsroom.store.cursor import CursorError


def list_events(request: Request) -> Body:
    order = parse_choice("order", request.query("order"), EVENT_ORDERS, DEFAULT_EVENT_ORDER) or DEFAULT_EVENT_ORDER
    limit = request.limit()
    cursor = request.query("cursor")
    try:
        page = request.store.list_events(order, limit=limit, cursor=cursor)
    except CursorError as exc:
        raise bad_request(f"invalid cursor: {exc}") from exc
    # A listing entry holds the event with its first members (`MAX_LISTED_MEMBERS`) and whole
    # counts, written in the same transaction as the event: the page is the one Query.
    shown = page.items  # one entry per event: a join replaces its entries in its transaction
    next_url = (
        request.url_with("/events", order=request.query("order"), limit=request.query("limit"), cursor=page.next_cursor)
        if page.next_cursor
        else None
    )
    body = {
        "order": order,
        "items": [event_json(e, request.url_with(f"/events/{e.id}")) for e in shown],
        "next_cursor": page.next_cursor,
        "next_url": next_url,
    }
    return Body(json.dumps(body, ensure_ascii=False), next_url=next_url)


def get_event(request: Request, event_id: str) -> Body:
    if not ARTICLE_ID.match(event_id):
        raise not_found("no event has that id (ids are 20 hexadecimal characters)")
    # Merges are followed: an id folded into an older event answers with that event, whose own
    # id (the canonical one) is in the body.
    event = request.store.get_event(event_id)
    if event is None:
        raise not_found(f"no event with id {event_id}")
    return Body(json.dumps(event_json(event, request.url_with(f"/events/{event.id}")), ensure_ascii=False))

"""`/articles` (story summaries, newest first) and `/articles/{article_id}` (one story, or its
page for a browser)."""

from __future__ import annotations

import json

from newsroom.core.models import Article
from newsroom.serve import caching, pages
from newsroom.serve.caching import Body
from newsroom.serve.formats.api_json import article_json, article_summary_json
from newsroom.serve.problems import not_found
from newsroom.serve.request import Request
from newsroom.serve.routes import ARTICLE_ID, EVENT_MAX_AGE


def list_articles(request: Request) -> Body:
    def render(items: tuple[Article, ...], after: str | None) -> str:
        body = {
            "items": [article_summary_json(a) for a in items],
            "next_cursor": after,
            "next_url": request.next_url("/articles", after),
        }
        return json.dumps(body, ensure_ascii=False)

    summaries, cursor = request.page()
    _, cursor, text = caching.bounded(
        summaries, cursor, render, lambda keep: request.page(limit=keep), request.accept_encoding()
    )
    return Body(text, next_url=request.next_url("/articles", cursor))


def get_article(request: Request, article_id: str) -> Body:
    if not ARTICLE_ID.match(article_id):
        raise not_found("no article has that id (ids are 20 hexadecimal characters)")
    stored = request.store.get_article(article_id)
    if stored is None:
        raise not_found(f"no article with id {article_id}")
    article = stored.article
    # The story's event, merges followed: one BatchGetItem, only for a story that joined one.
    story_event = request.store.get_event(stored.event_id) if stored.event_id else None
    # The event grows as reports join it, and the answer shows it (its ETag changes then): a
    # cache may keep it only briefly, so no copy shows a grown event as it was for long.
    max_age = EVENT_MAX_AGE if story_event is not None else None
    event = request.event
    if pages.wants_html(event.headers.get("accept")):  # a browser: the article page
        html = pages.article_page(article, request.store, request.config(), event, story_event=story_event)
        return Body(html, media_type=pages.HTML, max_age=max_age)
    url = request.url_with(f"/events/{story_event.id}") if story_event is not None else None
    return Body(json.dumps(article_json(article, story_event, url), ensure_ascii=False), max_age=max_age)

"""`/feed.json`, `/feed.rss` and `/feed.atom`: one handler, the same page of stories rendered
by the route's `FeedFormat`."""

from __future__ import annotations

from newsroom.core.config import load_sources
from newsroom.core.models import Article, Source
from newsroom.serve import caching
from newsroom.serve.caching import Body
from newsroom.serve.formats.common import FeedFormat, FeedMeta
from newsroom.serve.request import Request
from newsroom.serve.routes import COLLAPSE_VALUES, parse_choice

# Story bodies per BatchGetItem while a feed page fills (one call for a default page).
BATCH_STEP = 25


def feed(request: Request, feed_format: FeedFormat) -> Body:
    path = request.route.path

    def text_of(items: tuple[Article, ...], after: str | None) -> str:
        return feed_format.render(_feed_meta(request, path, after, items), items)

    collapse = parse_choice("collapse", request.query("collapse"), COLLAPSE_VALUES, None) == "event"
    summaries, cursor = request.page()
    if collapse:
        summaries = one_per_event(request, summaries)
    accept_encoding = request.accept_encoding()
    # Bodies come BATCH_STEP stories at a time (one BatchGetItem for a default page), and no
    # more once those fetched already fill a response: 100 bodies of 300 KB are 30 MB to read
    # for the dozen or so that one response can carry.
    articles: tuple[Article, ...] = ()
    for start in range(0, len(summaries), BATCH_STEP):
        articles += request.with_bodies(summaries[start : start + BATCH_STEP], {})
        if start + BATCH_STEP < len(summaries) and not caching.fits(text_of(articles, cursor), accept_encoding):
            break
    by_id = {a.id: a for a in articles}

    def refetch(keep: int) -> tuple[tuple[Article, ...], str | None]:
        kept, next_cursor = request.page(limit=keep)
        if collapse:
            kept = one_per_event(request, kept)
        return request.with_bodies(kept, by_id), next_cursor

    articles, cursor, text = caching.bounded(articles, cursor, text_of, refetch, accept_encoding)
    return Body(text, next_url=request.next_url(path, cursor))


def one_per_event(request: Request, summaries: tuple[Article, ...]) -> tuple[Article, ...]:
    """The page with one story per event: the first (the newest) of each event's stories stands
    for it. Two BatchGetItems whatever the page holds: the stories' event ids, then those events
    (merges followed, so two stories of events merged since count as one). A story with no event
    (stored before events existed) stands alone."""
    if not summaries:
        return summaries
    joined = request.store.story_event_ids([a.id for a in summaries])
    live = request.store.get_events(sorted(set(joined.values()))) if joined else {}
    seen: set[str] = set()
    kept = []
    for article in summaries:
        event_id = joined.get(article.id)
        key = live[event_id].event.id if event_id in live else event_id or f"story:{article.id}"
        if key not in seen:
            seen.add(key)
            kept.append(article)
    return tuple(kept)


def _credit_sources(request: Request, items: tuple[Article, ...]) -> dict[str, Source]:
    """The sources the items are credited to, for their <source> elements: the sources file,
    and the registry only when an item is credited to a source the file lacks (one added by
    OPML or the admin command), so a feed page stays one Query and one BatchGetItem."""
    sources = {source.id: source for source in load_sources()}
    wanted = {a.attribution.original_source_id if a.attribution is not None else a.source_id for a in items}
    if {w for w in wanted if w} - sources.keys():
        sources.update({source.id: source for source in request.known_sources()})  # cached a minute
    return sources


def _feed_meta(request: Request, path: str, next_cursor: str | None, items: tuple[Article, ...] = ()) -> FeedMeta:
    cfg = request.config()
    return FeedMeta(
        title=cfg.site_name,
        home_page_url=cfg.site_url,
        feed_url=request.url_with(path, **request.filters()),
        description=f"{cfg.site_name}: crypto news, each story credited to its original publisher",
        next_url=request.next_url(path, next_cursor),
        sources=_credit_sources(request, items),
    )

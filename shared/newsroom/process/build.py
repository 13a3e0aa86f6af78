"""Entry → story: the pure processing step, and the merge rules for an entry whose story exists.

`build_article` turns one fetched entry into an `Article` (canonical URL, sanitized HTML, text,
standfirst, reading time, category, coins, kind, image, byline, attribution). `merge` decides what
a second sighting of a story means: nothing new, a correction, a syndicated copy, or the original
arriving after its copy. Neither touches AWS; `ingest` applies the decision through a `Store`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from newsroom.core.codec import MessageError, article_to_doc
from newsroom.core.config import DEFAULT_ENTRY_LIMITS, DEFAULT_EVENT_LIMITS, RAW_TEXT_FACTOR, EntryLimits, EventLimits
from newsroom.core.html import inert_url, plain_text, sanitize_html
from newsroom.core.models import (
    Article,
    Attribution,
    Category,
    Copy,
    Image,
    Kind,
    RawEntry,
    Rights,
    Source,
    utc,
)
from newsroom.core.reading import Reading, read_sanitized
from newsroom.core.text import content_hash, count_words, make_standfirst, reading_minutes, strip_bidi_controls
from newsroom.core.urls import article_id, canonical_url, is_http_url, site_domain
from newsroom.process.attribution import extract_attribution, strip_source_suffix
from newsroom.process.classify import categorize, kind_of
from newsroom.process.coins import coin_tags
from newsroom.process.dedupe import prefer_incoming
from newsroom.process.language import detect_language
from newsroom.process.terms import scan_article

logger = logging.getLogger(__name__)

MAX_COINS = 8
MAX_COPIES = 50
# "The maximum item size in DynamoDB is 400 KB, which includes both attribute name binary length
# (UTF-8 length) and attribute value lengths (again binary length)." (Amazon DynamoDB Developer
# Guide, "Service, account, and table quotas in Amazon DynamoDB", Item size.)
MAX_ITEM_BYTES = 400 * 1024
# The story item's keys, `version`, `expires_at` and attribute names, beside its `doc`.
STORY_ITEM_OVERHEAD_BYTES = 1024


class EntryRejected(MessageError):
    """An entry that can never be stored as it is, however often it is retried (its story is
    larger than a DynamoDB item after every cut): a permanent reject. `reason` is short and
    stable ("too-large")."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# Dates a little ahead of our clock are clock skew; anything later is clamped so a feed cannot
# pin an item to the top of every listing.
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class ProcessingContext:
    sources: Mapping[str, Source]
    known_sites: Mapping[str, str]  # lower-case name, alias or domain → source id
    site_name: str
    desk_name: str
    editorial_image_base_url: str
    max_body_bytes: int
    now: datetime
    limits: EntryLimits = DEFAULT_ENTRY_LIMITS
    events: EventLimits | None = DEFAULT_EVENT_LIMITS  # None: stories join no events

    @classmethod
    def build(
        cls,
        sources: tuple[Source, ...],
        *,
        site_name: str,
        desk_name: str,
        editorial_image_base_url: str,
        max_body_bytes: int,
        now: datetime,
        limits: EntryLimits = DEFAULT_ENTRY_LIMITS,
        events: EventLimits | None = DEFAULT_EVENT_LIMITS,
    ) -> ProcessingContext:
        known: dict[str, str] = {}
        for source in sources:
            names = [source.name, source.id, *source.aliases]
            for url in (source.homepage, source.feed_url):
                if is_http_url(url):
                    names.append(site_domain(url))
            for name in names:
                if name:
                    known.setdefault(name.strip().lower(), source.id)
        return cls(
            sources={s.id: s for s in sources},
            known_sites=known,
            site_name=site_name,
            desk_name=desk_name,
            editorial_image_base_url=editorial_image_base_url,
            max_body_bytes=max_body_bytes,
            now=utc(now),
            limits=limits,
            events=events,
        )


def default_image(category: Category, ctx: ProcessingContext) -> Image:
    slug = category.value.lower()
    return Image(
        url=f"{ctx.editorial_image_base_url}/{slug}.jpg",
        alt=f"{ctx.site_name} editorial illustration for {category.value} news",
        caption=f"{ctx.site_name} editorial visual for {slug} coverage.",
        is_default=True,
    )


def _clamp(moment: datetime | None, ctx: ProcessingContext, fallback: datetime) -> datetime:
    if moment is None:
        return utc(fallback)
    moment = utc(moment)
    return min(moment, ctx.now) if moment > ctx.now + FUTURE_TOLERANCE else moment


def _cap_body(html: str, limit: int) -> tuple[str, bool]:
    """Keep the stored item under DynamoDB's 400 KB: cut long bodies, then re-sanitize to close tags."""
    encoded = html.encode("utf-8")
    if len(encoded) <= limit:
        return html, False
    cut = encoded[:limit].decode("utf-8", errors="ignore")
    cut = cut[: cut.rfind("<")] if cut.rfind("<") > cut.rfind(">") else cut
    return sanitize_html(cut), True


def _one_line(value: str) -> str:
    """A title, name or tag as plain text, without direction overrides (see `text`)."""
    return plain_text(strip_bidi_controls(value))


def text_fields_as_text(entry: RawEntry) -> RawEntry:
    """The entry with its text fields reduced to text — markup in a title, byline or tag is an
    attack or a feed bug, and some RSS readers would render it (see `html.plain_text`), and a
    direction override makes it read as something else (see `text`) — and its
    URLs unable to break out of an attribute (`html.inert_url`)."""
    return replace(entry, **_plain_fields(entry, entry.title, entry.author, entry.tags))


def _plain_fields(entry: RawEntry, title: str, author: str | None, tags: tuple[str, ...]) -> dict[str, Any]:
    """`text_fields_as_text`'s changes to `entry` with `title`, `author` and `tags` in place of
    its own: `within_limits` makes them with its cuts in one `replace` (~4 µs each)."""
    return {
        "title": _one_line(title),
        "author": _one_line(author) if author else author,
        "tags": tuple(t for t in (_one_line(tag) for tag in tags) if t),
        "declared_source_name": _one_line(entry.declared_source_name) if entry.declared_source_name else None,
        "link": inert_url(entry.link),
        "image_url": inert_url(entry.image_url) if entry.image_url else None,
        "declared_source_url": inert_url(entry.declared_source_url) if entry.declared_source_url else None,
        "orig_link": inert_url(entry.orig_link) if entry.orig_link else None,
    }


def _capped_body(html: str, limit: int) -> tuple[str, Reading, bool]:
    """The body and what a reader gets from it (text, lead image), together at most `limit`
    bytes: the story item stores both, and must stay under DynamoDB's 400 KB. The HTML is cut in
    proportion until the pair fits."""
    body, truncated = _cap_body(html, limit)
    reading = read_sanitized(body)
    for _ in range(4):  # the text shrinks with the HTML; a cut or two settles it
        html_bytes, text_bytes = len(body.encode()), len(reading.text.encode())
        if html_bytes + text_bytes <= limit:
            break
        body, _ = _cap_body(body, max(1, limit * html_bytes // (html_bytes + text_bytes) - 64))
        reading, truncated = read_sanitized(body), True
    return body, reading, truncated


def _cut_text(text: str, limit: int) -> str:
    """`text` in at most `limit` characters: cut at the last word boundary in its final fifth
    (else hard), with an ellipsis."""
    if len(text) <= limit:
        return text
    room = text[: limit - 1]
    boundary = room.rfind(" ")
    if boundary >= limit * 4 // 5:
        room = room[:boundary]
    return room.rstrip(" ,;:") + "…"


def _cut_html(html: str, limit: int) -> str:
    """`html` in at most `limit` UTF-8 bytes, without a tag cut in half (the sanitizer closes
    the elements left open)."""
    encoded = html.encode("utf-8", "surrogatepass")
    if len(encoded) <= limit:
        return html
    cut = encoded[:limit].decode("utf-8", errors="ignore")
    return cut[: cut.rfind("<")] if cut.rfind("<") > cut.rfind(">") else cut


def within_limits(entry: RawEntry, limits: EntryLimits) -> tuple[RawEntry, tuple[str, ...]]:
    """The entry with its text fields made plain (`text_fields_as_text`) and cut to `limits`,
    and the names of the fields that were cut."""
    cuts: list[str] = []

    def raw(value: str, limit: int) -> str:
        return value[: limit * RAW_TEXT_FACTOR]

    tags = entry.tags
    if len(tags) > limits.categories:
        tags = tags[: limits.categories]
        cuts.append("categories")
    plain = _plain_fields(
        entry,
        raw(entry.title, limits.title_chars),
        raw(entry.author, limits.author_chars) if entry.author else entry.author,
        tuple(raw(tag, limits.category_chars) for tag in tags),
    )
    title = _cut_text(plain["title"], limits.title_chars)
    author = _cut_text(plain["author"], limits.author_chars) if plain["author"] else plain["author"]
    tags = tuple(_cut_text(tag, limits.category_chars) for tag in plain["tags"])
    summary_html = _cut_html(entry.summary_html, limits.summary_bytes)
    content_html = _cut_html(entry.content_html, limits.content_bytes)
    for name, before, after in (
        ("title", plain["title"], title),
        ("author", plain["author"], author),
        ("category-length", plain["tags"], tags),
        ("summary", entry.summary_html, summary_html),
        ("content", entry.content_html, content_html),
    ):
        if before != after:
            cuts.append(name)
    # One `replace` for the plain fields and the cuts: an uncut field is its plain value.
    changes = {**plain, "title": title, "author": author, "tags": tags}
    return replace(entry, **changes, summary_html=summary_html, content_html=content_html), tuple(cuts)


def build_article(entry: RawEntry, ctx: ProcessingContext) -> Article:
    """The story for `entry`; raises `EntryRejected` when even the cut entry cannot be stored."""
    entry, cuts = within_limits(entry, ctx.limits)
    source = ctx.sources[entry.source_id]
    raw_html = entry.content_html if len(entry.content_html) >= len(entry.summary_html) else entry.summary_html
    raw_html, attribution = extract_attribution(
        raw_html,
        link=entry.link,
        declared_source_url=entry.declared_source_url,
        declared_source_name=entry.declared_source_name,
        orig_link=entry.orig_link,
        known_sources=ctx.known_sites,
    )
    if attribution is not None:
        # A name read from a footer ("appeared first on …") is shown as the credit: same rule.
        attribution = replace(
            attribution,
            original_name=strip_bidi_controls(attribution.original_name) if attribution.original_name else None,
            original_domain=strip_bidi_controls(attribution.original_domain),
        )
    body_html, reading, truncated = _capped_body(sanitize_html(raw_html, base_url=entry.link), ctx.max_body_bytes)
    text = reading.text
    # Google News appends " - <publisher>" to headlines it declares a <source> for.
    title = strip_source_suffix(" ".join(entry.title.split()), entry.declared_source_name)
    # The fallback comes from the body's text, which may read like markup ("<script>" in an article
    # about XSS): a title is a text field some readers render as HTML, so it is made plain too.
    title = title or _one_line(make_standfirst(text, 120)) or entry.link

    own_url = canonical_url(entry.link)
    story_url = own_url
    if attribution is not None and attribution.original_url and is_http_url(attribution.original_url):
        # The story is keyed by its original's URL, so original and copies meet on one item.
        story_url = canonical_url(attribution.original_url)

    terms = scan_article(title, text)  # one pass over the text for category terms and coins
    category = categorize(title, text, feed_tags=entry.tags, hint=source.category_hint, terms=terms)
    coins = coin_tags(title, text, terms=terms)[:MAX_COINS]
    kind = kind_of(
        source_kind_hint=source.kind_hint,
        feed_tags=entry.tags,
        title=title,
        source_domain=site_domain(entry.link) if is_http_url(entry.link) else "",
    )
    image_url = entry.image_url if entry.image_url and entry.image_url.startswith("https://") else None
    image_url = image_url or reading.image
    image = (
        Image(url=image_url, alt=title, caption=None, is_default=False) if image_url else default_image(category, ctx)
    )
    words = count_words(text)
    declared = entry.published or entry.updated
    published = _clamp(declared, ctx, entry.fetched_at)
    updated = max(_clamp(entry.updated, ctx, published), published)
    author = " ".join((entry.author or "").split())
    if truncated:
        cuts = (*cuts, "body")
    if cuts:
        logger.warning(
            "entry cut to the input limits",
            extra={"source_id": source.id, "link": entry.link[:300], "cuts": list(cuts)},
        )
    article = Article(
        id=article_id(story_url),
        canonical_url=story_url,
        url=entry.link,
        guid=entry.guid,
        source_id=source.id,
        source_name=source.name,
        title=title,
        content_html=body_html,
        content_text=text,
        standfirst=make_standfirst(text),
        word_count=words,
        reading_minutes=reading_minutes(words),
        published=published,
        updated=updated,
        first_seen=utc(entry.fetched_at),
        language=detect_language(text, entry.language or source.language),
        image=image,
        category=category,
        coins=coins,
        kind=kind,
        author=author or "Anonymous",
        desk=ctx.desk_name,
        content_hash=content_hash(f"{title}\n{text}"),
        attribution=attribution,
        body_truncated=truncated,
        excerpt_only=source.rights is Rights.EXCERPT,
        published_estimated=declared is None or published != utc(declared),
        input_cuts=cuts,
    )
    _refuse_if_unstorable(article)
    return article


def _json_bytes(doc: object) -> int:
    return len(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))


# A character of a JSON string takes at most 6 bytes: a "\u001f" escape (UTF-8 needs 4 at most).
_JSON_BYTES_PER_CHAR = 6


def _frame_bytes() -> int:
    """The story document's JSON bytes besides its strings' characters and its lists' entries:
    keys, punctuation, dates, `false`s, one-digit numbers and `[""]` for the cuts, measured on an
    article with every string empty and every optional part present."""
    moment = datetime(2000, 1, 1, tzinfo=UTC)
    empty = Article(
        id="",
        canonical_url="",
        url="",
        guid="",
        source_id="",
        source_name="",
        title="",
        content_html="",
        content_text="",
        standfirst="",
        language="",
        author="",
        desk="",
        published=moment,
        updated=moment,
        first_seen=moment,
        word_count=0,
        reading_minutes=0,
        image=Image(url="", alt="", caption=""),
        category=Category.POLICY,
        coins=(),
        kind=Kind.NEWS,
        content_hash="",
        attribution=Attribution(original_url="", original_domain="", original_name="", original_source_id=""),
        input_cuts=("",),
    )
    return _json_bytes(article_to_doc(empty))


# `_frame_bytes` with room for what an empty string does not show: a `null` is 2 bytes longer
# than `""` (7 fields may be None), an enum's value is counted with the strings.
_FRAME_BYTES = _frame_bytes() + 64


def _item_bytes_bound(article: Article) -> int | None:
    """At least the story item's size without building its JSON (~12 µs for a 3 KB article):
    6 bytes per character of every string, 3 per list entry (`"",`), each number's digits and
    the frame; None for a story with copies (build_article makes none). Exact sizes are only
    needed near the limit, where `_item_bytes` gives them."""
    if article.copies:
        return None
    image, attribution = article.image, article.attribution
    strings = [
        *(article.id, article.canonical_url, article.url, article.guid or "", article.source_id),
        *(article.source_name, article.title, article.standfirst, article.language or "", article.author),
        *(article.desk, article.content_hash, article.content_html, article.content_text),
        *(image.url, image.alt, image.caption or "", article.category.value, article.kind.value),
        *article.coins,
        *article.input_cuts,
    ]
    if attribution is not None:
        strings += [attribution.original_url or "", attribution.original_domain, attribution.original_name or ""]
        strings += [attribution.original_source_id or "", attribution.marker]
    return (
        _JSON_BYTES_PER_CHAR * sum(map(len, strings))
        + 3 * (len(article.coins) + len(article.input_cuts))
        + len(str(article.word_count))
        + len(str(article.reading_minutes))
        + _FRAME_BYTES
        + STORY_ITEM_OVERHEAD_BYTES
    )


def _item_bytes(article: Article) -> int:
    """The story item's size: its document's JSON in UTF-8 and the item's own keys."""
    return _json_bytes(article_to_doc(article)) + STORY_ITEM_OVERHEAD_BYTES


def _refuse_if_unstorable(article: Article) -> None:
    """A story too large for a DynamoDB item fails the same way on every retry: what is left
    after the cuts is mostly URLs and identifiers (link, GUID, image), which are never cut."""
    bound = _item_bytes_bound(article)
    if bound is not None and bound <= MAX_ITEM_BYTES:
        return
    size = _item_bytes(article)
    if size > MAX_ITEM_BYTES:
        raise EntryRejected(
            "too-large",
            f"too-large: the story item would be {size} bytes after every input limit, over DynamoDB's "
            f"{MAX_ITEM_BYTES}-byte item limit (cuts: {', '.join(article.input_cuts) or 'none'})",
        )


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"  # a correction from the story's own source
    UNCHANGED = "unchanged"  # an exact duplicate: same entry seen again
    COPY_ATTACHED = "copy-attached"  # another site's copy, credited to the stored original
    ORIGINAL_PROMOTED = "original-promoted"  # the original arrived after a copy we held


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    article: Article


def _as_copy(article: Article) -> Copy:
    return Copy(
        source_id=article.source_id,
        source_name=article.source_name,
        url=article.url,
        title=article.title,
        first_seen=article.first_seen,
    )


def _with_copy(copies: tuple[Copy, ...], copy: Copy) -> tuple[Copy, ...]:
    if any(c.source_id == copy.source_id and c.url == copy.url for c in copies):
        return copies
    return (*copies, copy)[:MAX_COPIES]


def merge(existing: Article, incoming: Article, sources: Mapping[str, Source]) -> Decision:
    """What seeing `incoming` means for the stored story `existing` (same story id)."""

    # The story keeps its id and when we first saw it; its place in the listings moves only when a
    # promoted original was published earlier than the copy that stood for it.
    def keep(article: Article, **changes: Any) -> Article:
        changes.setdefault("published", existing.published)
        changes.setdefault("published_estimated", existing.published_estimated)
        return replace(article, id=existing.id, first_seen=existing.first_seen, **changes)

    if incoming.source_id == existing.source_id:
        if incoming.content_hash == existing.content_hash and incoming.url == existing.url:
            return Decision(Outcome.UNCHANGED, existing)
        corrected = keep(
            incoming,
            updated=max(incoming.updated, existing.updated, incoming.first_seen),
            copies=existing.copies,
        )
        return Decision(Outcome.UPDATED, corrected)
    # Who is the original: an explicit marker, then the source's role, then the earlier date.
    if prefer_incoming(existing, incoming, sources):
        promoted = keep(
            incoming,
            # The story dates from its original's publication, whichever copy we happened to see first.
            published=min(incoming.published, existing.published),
            published_estimated=min((incoming, existing), key=lambda a: a.published).published_estimated,
            updated=max(incoming.updated, existing.updated),
            copies=_with_copy(
                tuple(c for c in existing.copies if c.source_id != incoming.source_id), _as_copy(existing)
            ),
        )
        return Decision(Outcome.ORIGINAL_PROMOTED, promoted)
    copies = _with_copy(existing.copies, _as_copy(incoming))
    if copies == existing.copies:
        return Decision(Outcome.UNCHANGED, existing)
    return Decision(Outcome.COPY_ATTACHED, replace(existing, copies=copies))

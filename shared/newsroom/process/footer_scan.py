"""Finding a footer marker at the end of an article's HTML, and cutting it out.

Only the last `TAIL_CHARS` of the HTML are read. They are tokenised into the text a reader sees
(tags dropped, entities decoded, blocks as line breaks) with a map back to HTML offsets and the
links over each stretch of text, so the marker patterns (`attribution_data`) run over text while
the cut is made in the HTML. The cut keeps the tag structure: only the marker goes, with any
element the removal leaves empty.
"""

from __future__ import annotations

import bisect
import functools
import html as html_module
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from newsroom.core.html import plain_text
from newsroom.process.attribution_data import (
    BLOCK_TAGS,
    DATE_LIKE,
    HREF,
    LOOSE_PATTERNS,
    LOOSE_TRIGGER_WORDS,
    MAX_NAME_WORDS,
    PATTERNS,
    REPUBLISHED_AFTER_SITE,
    SITE_TRIM,
    TRIGGER_WORDS,
    VOID_TAGS,
)

__all__ = ["TAIL_CHARS", "Footer", "cut", "footers"]

# Footers are short and last: only this much of the end of the HTML is examined.
TAIL_CHARS = 4000

# --- tokenising the tail of the HTML into text with a map back to HTML offsets ---------------

_TAG = re.compile(r"<\s*(/)?\s*([A-Za-z][A-Za-z0-9]*)([^>]*?)(/)?\s*>?\Z", re.DOTALL)


@dataclass(frozen=True, slots=True)
class _Link:
    text_start: int
    text_end: int
    href: str


@dataclass(frozen=True, slots=True)
class _TextMap:
    """The text a reader sees and, for each stretch of it read from one part of the HTML (a text
    run, an entity, a block tag's line break), where it starts in the text, where that part is
    in the HTML and whether it is literal (each text character one HTML character). Parallel
    tuples, not an object a stretch: a tail holds dozens, and the map is built for every match."""

    text: str
    starts: tuple[int, ...]
    html_starts: tuple[int, ...]
    html_ends: tuple[int, ...]
    literal: tuple[bool, ...]
    links: tuple[_Link, ...]

    def html_start(self, text_index: int) -> int:
        stretch = bisect.bisect_right(self.starts, text_index) - 1
        if self.literal[stretch]:
            return self.html_starts[stretch] + (text_index - self.starts[stretch])
        return self.html_starts[stretch]

    def html_end(self, text_end: int) -> int:
        """HTML offset just past the character before `text_end`."""
        stretch = bisect.bisect_right(self.starts, text_end - 1) - 1
        if self.literal[stretch]:
            return self.html_starts[stretch] + (text_end - self.starts[stretch])
        return self.html_ends[stretch]

    def links_within(self, start: int, end: int) -> list[str]:
        return [link.href for link in self.links if link.text_start < end and link.text_end > start]


# The tail is split into text and markup in C, one regex split: comments, tags, entities. A tag
# as `_TAG` reads it ("<name…", "</ name…") has its name captured, so what a token reads as is
# known from its name (a block tag reads as a line break, any other tag as nothing) without a
# Python match per token: markup tokens are mostly unique (`<a href="…">`), so a cache keyed on
# the whole token missed and was cleared over and over. The tokens are those of the pattern
# before it (without the name alternative): that alternative also runs from "<" to the first ">"
# (or the end), and takes just the tokens `_TAG` reads as a tag.
_MARKUP_SPLIT = re.compile(
    r"(<!--.*?(?:-->|\Z)"
    r"|<(?:/\s*)?([A-Za-z][A-Za-z0-9]*)[^>]*>?"
    r"|<[A-Za-z/!?][^>]*>?"
    r"|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?)",
    re.DOTALL,
)
# Readings remembered by tag name as written ("p", "P", "div") and by entity ("&amp;", "&#8217;"):
# both repeat. Bounded, as both come from the feed.
_NAME_READINGS: dict[str, str] = {}
_ENTITY_READINGS: dict[str, str] = {}
_MAX_READINGS = 4096


def _remembered(readings: dict[str, str], key: str, reading: str) -> str:
    if len(readings) >= _MAX_READINGS:
        readings.clear()
    readings[key] = reading
    return reading


def _name_reading(name: str) -> str:
    return _remembered(_NAME_READINGS, name, "\n" if name.lower() in BLOCK_TAGS else "")


def _entity_reading(entity: str) -> str:
    return _remembered(_ENTITY_READINGS, entity, html_module.unescape(entity))


class _Split(NamedTuple):
    """The tail cut into `parts` (text, markup token, text, …), each part's reading (`pieces`,
    whose concatenation is the text a reader sees) and each token's tag name (None if no tag)."""

    offset: int
    parts: list[str]
    pieces: list[str]
    names: list[str | None]


def _split(html: str, offset: int) -> _Split:
    # Every third part is a tag name or None (not a tag); the rest are text and markup tokens.
    parts: list[Any] = _MARKUP_SPLIT.split(html[offset:])
    names: list[str | None] = parts[2::3]
    del parts[2::3]
    names_read, entities = _NAME_READINGS, _ENTITY_READINGS
    # A token with no tag name is a comment or other "<!"/"<?" markup (read as nothing), an
    # entity, or a "<" starting no tag as `_TAG` reads it ("</3"), which is text as it stands.
    readings = [
        (names_read[name] if name in names_read else _name_reading(name))
        if name is not None
        else (entities[token] if token in entities else _entity_reading(token))
        if token[0] == "&"
        else ""
        if token[1] in "!?"
        else token
        for token, name in zip(parts[1::2], names, strict=True)
    ]
    pieces = parts.copy()
    pieces[1::2] = readings
    return _Split(offset, parts, pieces, names)


def _mapped(split: _Split, links_from: int = -1) -> _TextMap:
    """The text of `split` with, for each stretch of it, the HTML it was read from, and the links
    reaching past text offset `links_from` (all of them by default)."""
    parts, pieces, names = split.parts, split.pieces, split.names
    text_at = list(itertools.accumulate(map(len, pieces), initial=0))
    html_at = list(itertools.accumulate(map(len, parts), initial=split.offset))
    # A stretch is literal (one text character for one HTML character) when it is text, or a "<"
    # token read as it stands; a block tag's line break and an entity's reading are not. Parts
    # read as nothing (tags, comments) make no stretch.
    literal = [True] * len(pieces)
    literal[1::2] = [name is None and token[0] == "<" for token, name in zip(parts[1::2], names, strict=True)]
    # A link runs from its "<a href>" to the next "<a" or "</a" tag, or to the end. Links ending
    # before `links_from` are left out: no text from there on can fall within them.
    anchors = [2 * index + 1 for index, name in enumerate(names) if name == "a" or name == "A"]
    positions = [text_at[index] for index in anchors]
    ends = [*positions[1:], text_at[-1]] if positions else []
    links: list[_Link] = []
    for index, start, end in zip(anchors, positions, ends, strict=True):
        if end <= links_from:
            continue
        tag = _TAG.match(parts[index])
        if tag is not None and tag.group(1) is None and (href := HREF.search(tag.group(3))) is not None:
            raw = next(group for group in href.groups() if group is not None)
            links.append(_Link(start, end, html_module.unescape(raw).strip()))
    return _TextMap(
        text="".join(pieces),
        starts=tuple(itertools.compress(text_at, pieces)),
        html_starts=tuple(itertools.compress(html_at, pieces)),
        html_ends=tuple(itertools.compress(html_at[1:], pieces)),
        literal=tuple(itertools.compress(literal, pieces)),
        links=tuple(links),
    )


def _map_text(html: str, offset: int) -> _TextMap:
    return _mapped(_split(html, offset))


def _visible_text(html: str, offset: int) -> str:
    """The same text as `_map_text(...).text`, without the map (built only once a pattern has
    matched: most tails hold a trigger word, "source" in a figure caption, and no marker)."""
    return "".join(_split(html, offset).pieces)


def _last_line_start(text: str) -> int:
    """Where the last line holding a word character starts. Every marker pattern matches within
    one line and is followed by nothing but non-word characters (`attribution_data._END`), so a
    match can only start on that line: searching from there finds what searching the whole text
    finds."""
    end = len(text)
    while end and not (text[end - 1].isalnum() or text[end - 1] == "_"):  # `re`'s \w, negated
        end -= 1
    return text.rfind("\n", 0, end) + 1


# Most tails holding a trigger word hold no marker ("source" in a figure caption). Their last line
# is usually within the last few hundred characters: the text read from a token start there is
# the end of the tail's text, and when it holds the last line's line break the patterns search
# that line as they would in the whole text (they look back at most past that line break).
_NEAR_THE_END = 600


def _token_start_near_the_end(html: str, tail_start: int) -> int:
    """A "<" near the end that surely falls in no token of the tail's split (so the split from it
    cuts the rest of the tail as the whole tail's split does), or -1 if none is sure."""
    start = html.rfind("<", tail_start, max(tail_start, len(html) - _NEAR_THE_END) + 1)
    if start <= tail_start:
        return -1
    # Not inside a tag: every "<" before it is followed by a ">" before it (a tag ends at its
    # first ">"), so no tag token runs over it. Not inside a comment: the last "<!--" before it
    # is followed by a "-->" before it (a comment ends at its first "-->").
    if html.rfind("<", tail_start, start) > html.rfind(">", tail_start, start):
        return -1
    comment = html.rfind("<!--", tail_start, start)
    if comment != -1 and html.find("-->", comment + 4, start) == -1:
        return -1
    return start


# Every marker pattern of `attribution_data` holds one of its gates' words ("original",
# "appeared", "[re]published", "reprinted"; "source", "via", "h/t"), matched case-insensitively
# as the patterns match them: a last line holding none of them matches no pattern, proven by one
# search in C instead of one search a pattern.
_MARKER_WORDS = re.compile("|".join(map(re.escape, (*TRIGGER_WORDS, *LOOSE_TRIGGER_WORDS))), re.IGNORECASE)
_WORDED_PATTERNS = frozenset(pattern for pattern, _ in (*PATTERNS, *LOOSE_PATTERNS))


def _no_marker_word(text: str, last_line: int, patterns: tuple[tuple[re.Pattern[str], str], ...]) -> bool:
    """True when the last line holds none of `_MARKER_WORDS` and the patterns are all marker patterns."""
    return _MARKER_WORDS.search(text, last_line) is None and all(pattern in _WORDED_PATTERNS for pattern, _ in patterns)


def _no_match_near_the_end(html: str, tail_start: int, patterns: tuple[tuple[re.Pattern[str], str], ...]) -> bool:
    """True when no pattern can match the tail's last line, proven from the end of the HTML alone;
    False when a pattern may match or the end does not hold the last line's line break."""
    start = _token_start_near_the_end(html, tail_start)
    if start == -1:
        return False
    text = _visible_text(html, start)
    last_line = _last_line_start(text)
    if not last_line:
        return False
    return _no_marker_word(text, last_line, patterns) or all(
        pattern.search(text, last_line) is None for pattern, _ in patterns
    )


# --- cutting the marker out of the HTML -------------------------------------------------------

_TAG_IN_SPAN = re.compile(r"<\s*(/)?\s*([A-Za-z][A-Za-z0-9]*)[^>]*?(/)?\s*>")
_WRAPPER_TAGS = (
    r"p|div|span|em|strong|b|i|u|s|small|a|font|sup|sub|mark|cite|q|blockquote|h[1-6]|li|ul|ol"
    r"|section|footer|aside|figcaption"
)
_FILLER = r"(?:\s|&nbsp;|&#160;|<br\s*/?>)"
# Marks where the footer was; characters that cannot occur in real text are tried in turn.
_SEAM_CHARACTERS = ("\x01", "\ue000", "\ufdd0", "\ufdd1")


@functools.lru_cache(maxsize=len(_SEAM_CHARACTERS))
def _emptied_wrapper(seam: str) -> re.Pattern[str]:
    """An element holding nothing but the seam (and filler): a wrapper the removal emptied."""
    return re.compile(
        rf"<({_WRAPPER_TAGS})\b[^>]*>{_FILLER}*{seam}(?:{_FILLER}|{seam})*</\1\s*>",
        re.IGNORECASE,
    )


def _unbalanced_tags(span: str) -> list[str]:
    """The tags of `span` that open or close an element reaching outside it, in order."""
    open_stack: list[tuple[int, str, str]] = []
    stray: list[tuple[int, str]] = []
    for tag in _TAG_IN_SPAN.finditer(span):
        name = tag.group(2).lower()
        if name in VOID_TAGS or tag.group(3):
            continue
        if tag.group(1):
            if open_stack and open_stack[-1][1] == name:
                open_stack.pop()
            else:
                stray.append((tag.start(), tag.group()))
        else:
            open_stack.append((tag.start(), name, tag.group()))
    stray.extend((index, text) for index, _, text in open_stack)
    stray.sort()
    return [text for _, text in stray]


def cut(html: str, start: int, end: int) -> str:
    """`html` without [start, end), keeping its tag structure, minus the wrappers left empty."""
    seam = next((character for character in _SEAM_CHARACTERS if character not in html), None)
    before = html[:start].rstrip()
    leftover = _unbalanced_tags(html[start:end])
    if seam is None:  # pragma: no cover - every candidate seam character is in the content
        return (before + "".join(leftover) + html[end:]).rstrip()
    joined = before + seam + seam.join(leftover) + seam + html[end:]
    pattern = _emptied_wrapper(seam)
    previous = None
    while previous != joined:
        previous = joined
        joined = pattern.sub(seam, joined)
    return joined.replace(seam, "").rstrip()


# --- footer candidates ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Footer:
    """A marker found at the end of the content: where it is in the HTML, the site it names
    (as a reader sees it) and the links on the site, on a post title and anywhere in it."""

    marker: str
    html_start: int
    html_end: int
    site: str
    site_links: tuple[str, ...]
    title_links: tuple[str, ...]
    footer_links: tuple[str, ...]


def footers(
    content_html: str,
    patterns: tuple[tuple[re.Pattern[str], str], ...],
    triggers: tuple[str, ...],
) -> Iterator[Footer]:
    """Each pattern's footer candidate at the end of `content_html`, in the patterns' order."""
    tail_start = max(0, len(content_html) - TAIL_CHARS)
    if tail_start:
        # Start on a tag boundary so a cut attribute is never read as text.
        boundary = content_html.find("<", tail_start)
        tail_start = boundary if boundary != -1 else tail_start
    lowered_tail = content_html[tail_start:].lower()
    if not any(word in lowered_tail for word in triggers):
        return
    if _no_match_near_the_end(content_html, tail_start, patterns):
        return
    split = _split(content_html, tail_start)
    text = "".join(split.pieces)
    last_line = _last_line_start(text)
    if _no_marker_word(text, last_line, patterns):
        return
    mapped: _TextMap | None = None
    for pattern, marker in patterns:
        match = pattern.search(text, last_line)
        if match is None:
            continue
        if mapped is None:
            mapped = _mapped(split, last_line)
        # The last place a marker can start wins: a title may itself start like a marker.
        while (later := pattern.search(mapped.text, match.start("marker") + 1)) is not None:
            match = later
        # The site is text a reader sees: entity-spelled markup there ("&lt;img onerror=…&gt;")
        # is reduced to its text, which is usually nothing.
        site = plain_text(match.group("site")).strip(SITE_TRIM)
        if not site or DATE_LIKE.match(site):
            continue
        if pattern is REPUBLISHED_AFTER_SITE and len(site.split()) > MAX_NAME_WORDS:
            continue  # "… the figures were reprinted with permission": a sentence, not a credit
        marker_start, site_start, site_end = match.start("marker"), match.start("site"), match.end("site")
        cut_end = max(match.end("marker"), match.end("punct"))
        if match.group("marker").endswith(")"):
            cut_end = match.end("marker")  # "… on Monday (via CoinDesk)." keeps its full stop
        title_links: tuple[str, ...] = ()
        if "title" in pattern.groupindex and match.group("title"):
            title_links = tuple(mapped.links_within(match.start("title"), match.end("title")))
        yield Footer(
            marker=marker,
            html_start=mapped.html_start(marker_start),
            html_end=mapped.html_end(cut_end),
            site=site,
            site_links=tuple(mapped.links_within(site_start, site_end)),
            title_links=title_links,
            footer_links=tuple(mapped.links_within(marker_start, cut_end)),
        )

"""The footer scan as it was before issue 16's C-level readings (main at 4663680), kept verbatim as the
reference the scan is checked against (`test_footer_scan_exact.py`). Not used by the package. What
that change left as it was (`cut`, the `Footer` record, the link record) is the package's own,
imported, not a second copy."""

# ruff: noqa
# mypy: ignore-errors

from __future__ import annotations

import bisect
import html as html_module
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from newsroom.core.html import plain_text
from newsroom.process.footer_scan import Footer, _Link
from newsroom.process.attribution_data import (
    BLOCK_TAGS,
    DATE_LIKE,
    HREF,
    MAX_NAME_WORDS,
    REPUBLISHED_AFTER_SITE,
    SITE_TRIM,
)

__all__ = ["TAIL_CHARS", "footers"]

# Footers are short and last: only this much of the end of the HTML is examined.
TAIL_CHARS = 4000

# --- tokenising the tail of the HTML into text with a map back to HTML offsets ---------------

_TAG = re.compile(r"<\s*(/)?\s*([A-Za-z][A-Za-z0-9]*)([^>]*?)(/)?\s*>?\Z", re.DOTALL)


# A NamedTuple, not a frozen dataclass: a map holds one per stretch of text (dozens a tail) and a
# frozen dataclass's __init__ costs ~1 µs each through object.__setattr__.
class _Segment(NamedTuple):
    text_start: int
    text_end: int
    html_start: int
    html_end: int
    literal: bool  # each text character is one HTML character (not an entity or a tag)


@dataclass(frozen=True, slots=True)
class _TextMap:
    text: str
    segments: tuple[_Segment, ...]
    starts: tuple[int, ...]
    links: tuple[_Link, ...]

    def _segment(self, text_index: int) -> _Segment:
        return self.segments[bisect.bisect_right(self.starts, text_index) - 1]

    def html_start(self, text_index: int) -> int:
        segment = self._segment(text_index)
        if segment.literal:
            return segment.html_start + (text_index - segment.text_start)
        return segment.html_start

    def html_end(self, text_end: int) -> int:
        """HTML offset just past the character before `text_end`."""
        segment = self._segment(text_end - 1)
        if segment.literal:
            return segment.html_start + (text_end - segment.text_start)
        return segment.html_end

    def links_within(self, start: int, end: int) -> list[str]:
        return [link.href for link in self.links if link.text_start < end and link.text_end > start]


def _map_text(html: str, offset: int) -> _TextMap:
    pieces: list[str] = []
    segments: list[_Segment] = []
    links: list[_Link] = []
    open_link: tuple[int, str] | None = None
    position = 0

    def add(text: str, html_start: int, html_end: int, literal: bool) -> None:
        nonlocal position
        if text:
            pieces.append(text)
            segments.append(_Segment(position, position + len(text), html_start, html_end, literal))
            position += len(text)

    # The tail split into text and markup in C (`_MARKUP_SPLIT`, defined below): the text between
    # markup tokens is read as it is, one segment for each stretch, and only markup reaches the
    # Python below. A lone "<" or "&" that starts no markup is text.
    html_end = offset
    for index, value in enumerate(_MARKUP_SPLIT.split(html[offset:])):
        start = html_end
        html_end += len(value)
        if not value:
            continue
        if not index % 2:
            add(value, start, html_end, True)
            continue
        first = value[0]
        if first == "&":
            add(html_module.unescape(value), start, html_end, False)
            continue
        if value[1] in "!?":
            continue  # comment, doctype, CDATA or processing instruction: no reader-visible text
        tag = _TAG.match(value)
        if tag is None:
            add(value, start, html_end, True)
            continue
        name = tag.group(2).lower()
        if name == "a":
            if open_link is not None:
                links.append(_Link(open_link[0], position, open_link[1]))
                open_link = None
            if tag.group(1) is None:
                href = HREF.search(tag.group(3))
                if href is not None:
                    raw = next(group for group in href.groups() if group is not None)
                    open_link = (position, html_module.unescape(raw).strip())
        elif name in BLOCK_TAGS:
            add("\n", start, html_end, False)
    if open_link is not None:
        links.append(_Link(open_link[0], position, open_link[1]))
    return _TextMap(
        text="".join(pieces),
        segments=tuple(segments),
        starts=tuple(segment.text_start for segment in segments),
        links=tuple(links),
    )


# The same text as `_map_text(...).text`, without the map: markup is replaced in C and only tags
# and entities reach Python. Most tails hold a trigger word ("source" in a figure caption) and
# no marker, so the map is built only once a pattern has matched this text.
_MARKUP = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|<[A-Za-z/!?][^>]*>?"
    r"|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?",
    re.DOTALL,
)


def _markup_piece(value: str) -> str:
    """What one markup token of `_MARKUP` reads as (as `_map_text` reads it)."""
    if value[0] == "&":
        return html_module.unescape(value)
    if value[1] in "!?":
        return ""
    tag = _TAG.match(value)
    if tag is None:
        return value
    name = tag.group(2).lower()
    return "\n" if name != "a" and name in BLOCK_TAGS else ""


# The tail split into text and markup in C; markup tokens repeat ("</p>", "<p class=...>",
# "&amp;"), so each one's reading is remembered (bounded: the tokens come from the feed).
_MARKUP_SPLIT = re.compile(f"({_MARKUP.pattern})", re.DOTALL)
_PIECES: dict[str, str] = {}
_MAX_PIECES = 4096


def _piece(value: str) -> str:
    if len(_PIECES) >= _MAX_PIECES:
        _PIECES.clear()
    piece = _PIECES[value] = _markup_piece(value)
    return piece


def _visible_text(html: str, offset: int) -> str:
    parts = _MARKUP_SPLIT.split(html[offset:])
    pieces = _PIECES
    parts[1::2] = [pieces[token] if token in pieces else _piece(token) for token in parts[1::2]]
    return "".join(parts)


def _last_line_start(text: str) -> int:
    """Where the last line holding a word character starts. Every marker pattern matches within
    one line and is followed by nothing but non-word characters (`attribution_data._END`), so a
    match can only start on that line: searching from there finds what searching the whole text
    finds."""
    end = len(text)
    while end and not (text[end - 1].isalnum() or text[end - 1] == "_"):  # `re`'s \w, negated
        end -= 1
    return text.rfind("\n", 0, end) + 1


# --- footer candidates (`Footer`, its record, is the package's, unchanged) ------------------------


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
    text = _visible_text(content_html, tail_start)
    last_line = _last_line_start(text)
    mapped: _TextMap | None = None
    for pattern, marker in patterns:
        match = pattern.search(text, last_line)
        if match is None:
            continue
        if mapped is None:
            mapped = _map_text(content_html, tail_start)
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

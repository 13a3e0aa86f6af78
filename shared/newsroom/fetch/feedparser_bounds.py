"""What feedparser is kept from: entity expansion (`check_xml` on what it is about to parse) and the
steps of its that grow faster than the document a hostile feed controls, bounded where our
limits cannot reach (issue 16's ReDoS audit and the outside reviews of 2026-12-03). Importing
this module installs the bounds on feedparser's classes; `feeds` imports it, so every parse,
on both paths (the fast path calls the same feedparser methods), runs with them.
"""

from __future__ import annotations

from typing import Any

import feedparser
from feedparser.mixin import _FeedParserMixin
from feedparser.parsers.strict import _StrictFeedParser

from newsroom.core.config import (
    MAX_ATTRIBUTES_PER_ELEMENT,
    MAX_AUTHOR_SCANNED,
    MAX_NAMESPACE_PREFIXES,
    MAX_TAGS_READ,
)
from newsroom.core.encoding_pattern import FIRST_LINE_ENCODING
from newsroom.core.xmlguard import HostileXml, check_xml

__all__: list[str] = []  # importing it installs the bounds


def _guarded_replace_doctype(data: bytes) -> tuple[str | None, bytes, dict[str, str]]:
    """feedparser's DOCTYPE rewrite, behind the guard: this is where feedparser has the document
    as the UTF-8 it will parse, just before handing it to expat or to its loose fallback parser,
    so every path through feedparser (in any encoding it can read) is checked here. The loose
    parser expands whatever entities this returns; it is given none."""
    check_xml(data)
    version, rewritten, _entities = _feedparser_replace_doctype(data)
    return version, rewritten, {}


_feedparser_replace_doctype = feedparser.api.replace_doctype
feedparser.api.replace_doctype = _guarded_replace_doctype
# feedparser's own pattern for the declared encoding is quadratic on a long first line (see
# `encoding_pattern`); the same answer in linear time takes its place.
feedparser.encodings.RE_XML_PI_ENCODING = FIRST_LINE_ENCODING

# Two of feedparser's steps are quadratic in what a hostile feed controls, before any of our
# limits can cut the field (issue 16's ReDoS audit, 2026-12-03): its e-mail search over a plain
# author (40 KB of letters: 5.6 s; 5 MB: a day) and its duplicate test over an entry's tags (a
# list scan per tag; 16,000 keywords: 3.5 s). Both are bounded here, on both parse paths (the
# fast path calls the same methods), far above what `EntryLimits` keeps (200 characters, 30 tags).
_feedparser_sync_author_detail = _FeedParserMixin._sync_author_detail
_feedparser_add_tag = _FeedParserMixin._add_tag


def _bounded_sync_author_detail(self: Any, key: str = "author") -> None:
    context = self._get_context()
    value = context.get(key)
    if isinstance(value, str) and len(value) > MAX_AUTHOR_SCANNED:
        context[key] = value[:MAX_AUTHOR_SCANNED]
    _feedparser_sync_author_detail(self, key)


# Set in an entry's dict once its tags are full (no element name holds a space, so no feed's).
_TAGS_FULL = "newsroom tags full"


def _bounded_add_tag(self: Any, term: Any, scheme: Any, label: Any) -> None:
    context = self._get_context()
    tags = context.get("tags")
    if tags is not None and len(tags) >= MAX_TAGS_READ:
        if context.get(_TAGS_FULL) is True:
            return
        _compact_tags(tags)
        if len(tags) > MAX_TAGS_READ // 2:
            # Far more texts than `EntryLimits.categories` reads: the rest is cut, and not
            # compacted again for every tag after (each pass is a scan of the list).
            context[_TAGS_FULL] = True
            return
    _feedparser_add_tag(self, term, scheme, label)


def _compact_tags(tags: list[Any]) -> None:
    """Drop, in place, the tags `_tags` would not read: one repeating an earlier one's text (its
    term, or its label), or with no text at all; the entry reads the same. The last one stays
    wherever it is: an RSS category's term is set on it when its element ends. Without this, 300
    copies of one text under different domains (feedparser keeps each triple) or 300 empty
    categories filled the bound and crowded out the tags after them (the outside review of
    2026-12-03)."""
    seen: set[Any] = set()
    kept = []
    for index, tag in enumerate(tags):
        text = tag.get("term") or tag.get("label")
        if index == len(tags) - 1 or (text and text not in seen):
            kept.append(tag)
        if text:
            seen.add(text)
    tags[:] = kept


_FeedParserMixin._sync_author_detail = _bounded_sync_author_detail
_FeedParserMixin._add_tag = _bounded_add_tag


# feedparser's strict parser works over every prefix it has seen at each element, so a document
# declaring thousands costs prefixes × elements (1,000 prefixes over 450 KB: 8.9 s). Counted
# where it tracks them: past `MAX_NAMESPACE_PREFIXES` the parse stops as hostile XML (`HostileXml`
# is no SAXException, so it reaches `feeds`, which refuses the document). Counting the bytes
# ourselves missed what feedparser reads differently: UTF-16, EBCDIC or UTF-7 bodies, a
# DOCTYPE its rewrite cuts short, declarations hidden behind a `<!--` in a processing
# instruction; and counted XML quoted in CDATA (the outside reviews of 2026-12-03).
_feedparser_track_namespace = _FeedParserMixin.track_namespace


def _bounded_track_namespace(self: Any, prefix: Any, uri: Any) -> None:
    _feedparser_track_namespace(self, prefix, uri)
    if len(self.namespaces_in_use) > MAX_NAMESPACE_PREFIXES:
        raise HostileXml(f"more than {MAX_NAMESPACE_PREFIXES} namespace prefixes declared")


_FeedParserMixin.track_namespace = _bounded_track_namespace

# Its strict parser reads an element's attributes by name, and each read scans them all (the
# standard library's `AttributesNSImpl.getValueByQName`): one element of 40,000 attributes took
# 42 s (the outside review of 2026-12-03). Refused before the scan; the loose parser is linear.
_feedparser_start_element = _StrictFeedParser.startElementNS


def _bounded_start_element(self: Any, name: Any, qname: Any, attrs: Any) -> None:
    if len(attrs) > MAX_ATTRIBUTES_PER_ELEMENT:
        raise HostileXml(f"an element with more than {MAX_ATTRIBUTES_PER_ELEMENT} attributes")
    _feedparser_start_element(self, name, qname, attrs)


_StrictFeedParser.startElementNS = _bounded_start_element

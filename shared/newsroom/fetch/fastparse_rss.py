"""The fast parse path's RSS 2.0 reader (`fastparse` says what the path does and refuses): a
channel and its items as feedparser fills them, element by element.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from feedparser.datetimes import _parse_date
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urljoin, make_safe_absolute_uri
from feedparser.util import FeedParserDict

from newsroom.core.urls import joins_to_itself
from newsroom.fetch.fastparse_rules import (
    _HTML_TYPE,
    _PREFIXES,
    _STANDARD_PREFIXES,
    Unsupported,
    _attributes,
    _Context,
    _finish,
    _guess_type,
    _has_handler,
    _skippable,
)

# What parse_feed reads from a feed and from an entry: an element feedparser would store under
# one of these names is modelled here or refused, never skipped.
_FEED_KEYS = frozenset({"title", "title_detail", "language", "ttl"})
_ENTRY_KEYS = frozenset(
    {
        "id", "link", "links", "title", "title_detail", "summary", "summary_detail", "content",
        "author", "author_detail", "authors", "published_parsed", "updated_parsed", "tags",
        "language", "source", "dc_source", "feedburner_origlink", "media_content", "media_thumbnail",
    }
)  # fmt: skip
# Channel elements feedparser handles without touching the feed's title, language or ttl, or
# any entry: text (or, for link and cloud, attributes) stored under names parse_feed ignores.
_HARMLESS_CHANNEL = frozenset(
    {
        "link", "description", "copyright", "lastbuilddate", "pubdate", "generator", "docs",
        "category", "webmaster", "managingeditor", "cloud", "author", "dc_creator", "dc_date",
        "dc_rights", "dc_publisher", "dc_subject", "feedburner_browserfriendly",
    }
)  # fmt: skip
# Item elements feedparser handles by filling names parse_feed ignores (rights, publisher,
# contributors): text only, nothing else to model.
_HARMLESS_ITEM = frozenset({"dc_rights", "rights", "copyright", "dc_publisher", "dc_contributor"})
_IMAGE_CHILDREN = frozenset({"title", "link", "url", "width", "height", "description"})
_LINK_REFERENCE = re.compile("&([A-Za-z0-9_]+);")


class _Item:
    """One entry being filled, with the parser state feedparser keeps per item."""

    __slots__ = ("context", "data", "has_content", "title_depth", "title_gate")

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.context = _Context(self.data)
        self.has_content = False  # content:encoded was read (feedparser's hasContent)
        # feedparser's title rules: a title is stored unless one at its depth or above was
        # stored before (`title_gate`, reset by <source> and <image>), and the title's type
        # follows the last title read even when its text loses to a shallower one.
        self.title_gate = -1
        self.title_depth: int | None = None


class Document:
    atom = False  # feedparser guesses whether a plain-text title is HTML, except in Atom

    def __init__(self, base_url: str, language: str | None, remapped: frozenset[str]) -> None:
        # feedparser's base: Content-Location as given, then re-made safe at every element.
        base = make_safe_absolute_uri("", base_url)
        self.base = self._stable(make_safe_absolute_uri(base, base) or base if base else _urljoin(base, base))
        self.lang = language.replace("_", "-") if language else language
        self.feed_language = self.lang
        self.remapped = remapped
        self.keys: dict[str, str] = {}
        self.entries: list[dict[str, Any]] = []

    @staticmethod
    def _stable(base: str) -> str:
        """A base feedparser keeps as it is: it re-makes the base safe at every element."""
        if base and (make_safe_absolute_uri(base, base) or base) != base:
            raise Unsupported("a base URL feedparser would rewrite")
        return base

    def root(self, root: Any) -> dict[str, str]:
        """The root's attributes, with the xml:base and xml:lang (or bare base and lang) it may
        carry applied as feedparser's `unknown_starttag` applies them: the base joined to the
        Content-Location (kept when not a safe absolute URI), the language for every detail and
        the feed's (an empty one unsets it). Anywhere below the root they are refused."""
        attributes: dict[str, str] = {}
        scoped: dict[str, str] = {}
        for name, value in root.attrib.items():
            key = name.lower()
            if key in ("{http://www.w3.org/xml/1998/namespace}base", "base"):
                scoped["xml:base" if key.startswith("{") else "base"] = value
            elif key in ("{http://www.w3.org/xml/1998/namespace}lang", "lang"):
                scoped["xml:lang" if key.startswith("{") else "lang"] = value
            elif key.startswith("{"):
                raise Unsupported(f"attribute {name}")
            else:
                attributes[key] = value.lower() if key in ("rel", "type") else value
        given_base = scoped.get("xml:base", scoped.get("base")) or self.base
        if self.base:
            self.base = self._stable(make_safe_absolute_uri(self.base, given_base) or self.base)
        else:
            self.base = self._stable(_urljoin(self.base, given_base))
        lang = scoped.get("xml:lang", scoped.get("lang"))
        if lang is not None:
            # feedparser keeps it as written, but every detail is made after `push_content`
            # has replaced its underscores.
            self.lang = lang.replace("_", "-") if lang else None
            if lang:
                self.feed_language = self.lang
        return attributes

    def children(self, element: Any) -> Iterator[tuple[Any, str, dict[str, str]]]:
        """The element's child elements (comments and PIs skipped), each with feedparser's name
        for it and its attributes as feedparser sees them."""
        for child in element:
            if not _skippable(child):
                yield child, self.key(child), _attributes(child)

    def key(self, element: Any) -> str:
        """feedparser's name for an element: its standard prefix and `_`, then the local name."""
        tag = element.tag
        if not isinstance(tag, str):
            raise Unsupported("an entity reference")
        key = self.keys.get(tag)
        if key is not None:
            return key
        cacheable = True  # the name depends on the tag alone, unless the namespace is unknown
        if tag[0] != "{":
            prefix = ""
            local = tag
        else:
            uri, _, local = tag[1:].partition("}")
            lower = uri.lower()
            if "backend.userland.com/rss" in lower:
                lower = "http://backend.userland.com/rss"
            known = _PREFIXES.get(lower)
            if known is None:
                cacheable = False
                known = element.prefix
                if not known or known in _STANDARD_PREFIXES:
                    raise Unsupported(f"element {tag} in an unknown namespace")
            prefix = known.lower()
        if prefix in self.remapped:
            raise Unsupported(f"prefix {prefix} bound to another known namespace")
        local = local.lower()
        key = f"{prefix}_{local}" if prefix else local
        if cacheable:
            self.keys[tag] = key
        return key

    @staticmethod
    def raw(element: Any) -> str:
        """An element's text stripped, as `pop()` has it before resolving and repairing it (where
        feedparser guesses whether it is HTML)."""
        if len(element):
            raise Unsupported("child nodes where text is expected")
        return (element.text or "").strip()

    def text(self, element: Any, *, resolve: bool = False) -> str:
        """An element's text as feedparser's `pop()` makes it: stripped, resolved against the
        base when it is a URL field, repaired."""
        text = self.raw(element)
        if resolve and text and not joins_to_itself(text, self.base):
            text = _urljoin(self.base, text)
        return _finish(text)

    def detail(self, kind: str, value: str) -> dict[str, Any]:
        return {"type": kind, "language": self.lang, "value": value}

    def channel(self, channel: Any) -> dict[str, Any]:
        if _attributes(channel).keys() & {"lastmod", "href"}:
            raise Unsupported("a CDF channel")
        feed: dict[str, Any] = {}
        if self.feed_language:
            feed["language"] = self.feed_language
        titles = 0
        for child, key, attributes in self.children(channel):
            if key == "item":
                self.entries.append(self.item(child, attributes))
            elif key == "title":
                titles += 1
                if titles > 1 or attributes:
                    raise Unsupported("a second or typed channel title")
                raw = self.raw(child)
                feed["title"] = _finish(raw)
                feed["title_detail"] = self.detail(_guess_type(raw), feed["title"])
            elif key in ("language", "dc_language"):
                feed["language"] = self.text(child)
            elif key == "ttl":
                if attributes:
                    raise Unsupported("a ttl with attributes")
                feed["ttl"] = self.text(child)
            elif key == "image":
                for part in child:
                    if not _skippable(part) and (self.key(part) not in _IMAGE_CHILDREN or len(part)):
                        raise Unsupported("an unusual channel image")
                    _attributes(part)
            elif key in _HARMLESS_CHANNEL:
                if len(child):
                    raise Unsupported(f"channel {key} with child elements")
            else:
                self.unknown(child, key, _FEED_KEYS)
        return feed

    def unknown(self, element: Any, key: str, read: frozenset[str]) -> None:
        """An element feedparser has no handler for and stores under a name parse_feed ignores."""
        # FeedParserDict stores some names under others (`date_parsed` as `updated_parsed`).
        if key in read or key in FeedParserDict.keymap or _has_handler(key):
            raise Unsupported(f"element {key}")
        if len(element):
            raise Unsupported(f"element {key} with child nodes")

    def handler(self, key: str) -> _Handler | None:
        """What reads an entry's child element of that name (None: harmless or refused)."""
        return _ITEM_HANDLERS.get(key)

    def item(self, element: Any, attributes: Mapping[str, str]) -> dict[str, Any]:
        if attributes:
            raise Unsupported("item attributes")
        item = _Item()
        for child, key, child_attributes in self.children(element):
            handler = self.handler(key)
            if handler is not None:
                handler(self, item, child, child_attributes)
            elif key in _HARMLESS_ITEM:
                self.text(child)  # refuses child nodes
            else:
                self.unknown(child, key, _ENTRY_KEYS)
        return item.data

    def title(
        self, item: _Item, element: Any, attributes: Mapping[str, str], depth: int = 0, keep_gate: bool = False
    ) -> None:
        """An item title at `depth` below the item's children (a media:title in media:content and
        an image's title sit one deeper); a media:title leaves the gate as it found it."""
        kind = _FeedParserMixin.map_content_type(attributes.get("type", "text/plain"))
        if kind not in ("text/plain", _HTML_TYPE) or "mode" in attributes:
            raise Unsupported("a title typed other than text or HTML")
        raw = self.raw(element)
        value = _finish(raw)
        if -1 < item.title_gate <= depth:
            return
        if kind == "text/plain" and not self.atom:  # feedparser guesses for every format but Atom
            kind = _guess_type(raw)  # before the repair, as `pop()` guesses
        if item.title_depth is None or depth <= item.title_depth:
            item.data["title"] = value
            item.title_depth = depth
        item.data["title_detail"] = self.detail(kind, value)
        if value and not keep_gate:
            item.title_gate = depth

    def media_title(self, item: _Item, element: Any, attributes: Mapping[str, str]) -> None:
        self.title(item, element, attributes, keep_gate=True)

    def link(self, item: _Item, element: Any, attributes: Mapping[str, str]) -> None:
        link = dict(attributes)
        link.setdefault("rel", "alternate")
        link.setdefault("type", "application/atom+xml" if link["rel"] == "self" else _HTML_TYPE)
        link = _FeedParserMixin._enforce_href(link)
        links = item.data.setdefault("links", [])
        if "href" in link:  # Atom-style: the URL is the attribute, any text is ignored
            if len(element):
                raise Unsupported("a link with child nodes")
            if not joins_to_itself(link["href"], self.base):
                link["href"] = _urljoin(self.base, link["href"])
            links.append(FeedParserDict(link))
            html_type = _FeedParserMixin.map_content_type(link["type"]) in _FeedParserMixin.html_types
            if link["rel"] == "alternate" and html_type:
                item.data["link"] = link["href"]
            return
        links.append(FeedParserDict(link))
        value = self.text(element, resolve=True)
        # feedparser undoes what it takes for an unhandled reference in a query string.
        value = _LINK_REFERENCE.sub(r"&\g<1>", value.replace("&amp;", "&"))
        item.data["link"] = value
        if value:
            links[-1]["href"] = value

    def guid(self, item: _Item, element: Any, attributes: Mapping[str, str]) -> None:
        is_link = attributes.get("ispermalink", "true") == "true"
        value = self.text(element, resolve=is_link)
        item.data["id"] = value
        item.data.setdefault("guidislink", is_link and "link" not in item.data)
        if is_link:
            item.data.setdefault("link", value)

    def description(self, item: _Item, element: Any, attributes: Mapping[str, str]) -> None:
        if attributes or ("summary" in item.data and not item.has_content):
            raise Unsupported("a typed description, or one feedparser would read as content")
        value = self.text(element)
        item.data["summary"] = value
        item.data["summary_detail"] = self.detail(_HTML_TYPE, value)

    def content(self, item: _Item, element: Any, attributes: Mapping[str, str]) -> None:
        if attributes:
            raise Unsupported("typed content")
        item.has_content = True
        value = self.text(element)
        item.data.setdefault("content", []).append(self.detail(_HTML_TYPE, value))
        item.data.setdefault("summary", value)

    def published(self, item: _Item, element: Any, attributes: Mapping[str, str]) -> None:
        value = self.text(element)
        item.data["published"] = value
        item.data["published_parsed"] = _parse_date(value)

    def updated(self, item: _Item, element: Any, attributes: Mapping[str, str]) -> None:
        value = self.text(element)
        item.data["updated"] = value
        item.data["updated_parsed"] = _parse_date(value)

    def category(self, item: _Item, element: Any, attributes: Mapping[str, str]) -> None:
        scheme = attributes.get("scheme", attributes.get("domain"))
        _FeedParserMixin._add_tag(item.context, attributes.get("term"), scheme, attributes.get("label"))
        value = self.text(element)
        if not value:
            return
        tags = item.data["tags"]
        if tags and not tags[-1]["term"]:
            tags[-1]["term"] = value
        else:
            _FeedParserMixin._add_tag(item.context, value, None, None)

    def author(self, item: _Item, element: Any, attributes: Mapping[str, str]) -> None:
        """RSS's text (`Jane Roe (jane@pub.example)`) or Atom's person construct (name, email
        and uri children): each child saved as feedparser's `_save_author` saves it, name and
        email as written (its `pop()` returns them before any repair), the uri resolved."""
        item.data.setdefault("authors", []).append(FeedParserDict())
        people = [part for part in element if not _skippable(part)]
        if people and ((element.text or "").strip() or any((part.tail or "").strip() for part in people)):
            raise Unsupported("an author of text and elements")
        for part in people:
            key = self.key(part)
            if _attributes(part) or key not in _PERSON_PARTS or len(part):
                raise Unsupported(f"an author's {key}")
            # feedparser also keeps the uri as the entry's `href`, which parse_feed never reads.
            value = (part.text or "").strip() if key in ("name", "email") else self.text(part, resolve=True)
            field = _PERSON_PARTS[key]
            item.data.setdefault("author_detail", FeedParserDict())[field] = value
            _FeedParserMixin._sync_author_detail(item.context)
            item.data["authors"][-1][field] = value
        item.data["author"] = self.text(element) if not people else ""
        _FeedParserMixin._sync_author_detail(item.context)

    def enclosure(self, item: _Item, element: Any, attributes: Mapping[str, str]) -> None:
        if len(element):
            raise Unsupported("an enclosure with child nodes")
        link = _FeedParserMixin._enforce_href(dict(attributes))
        link["rel"] = "enclosure"
        item.data.setdefault("links", []).append(FeedParserDict(link))

    def source(self, item: _Item, element: Any, attributes: Mapping[str, str]) -> None:
        item.title_gate = -1
        value = self.text(element)
        source: dict[str, Any] = {}
        if "url" in attributes:
            source["href"] = attributes["url"]
        if value:
            source["title"] = value
        item.data["source"] = FeedParserDict(source)

    def language(self, item: _Item, element: Any, attributes: Mapping[str, str]) -> None:
        # feedparser keeps it as the entry's language; its own language state is restored when
        # the element ends, so the item's other fields keep the language in scope.
        item.data["language"] = self.text(element)

    def image(self, item: _Item, element: Any, attributes: Mapping[str, str]) -> None:
        """An item's <image>: feedparser keeps nothing of it in the entry but its title's type
        (see `title`); its link is dropped, its size and URL go under names parse_feed ignores."""
        item.title_gate = -1
        for part, key, part_attributes in self.children(element):
            if key == "title":
                self.title(item, part, part_attributes, depth=1)
            elif key in ("url", "link", "width", "height"):
                self.text(part)  # refuses child nodes
            else:
                raise Unsupported(f"item image child {key}")

    def plain(self, item: _Item, element: Any, attributes: Mapping[str, str]) -> None:
        """An element feedparser has no handler for, kept under its name (dc:source,
        feedburner:origLink); with attributes it would keep those instead."""
        if attributes:
            raise Unsupported("attributes on a plain element")
        item.data[self.key(element)] = self.text(element)

    def media_content(self, item: _Item, element: Any, attributes: Mapping[str, str]) -> None:
        item.data.setdefault("media_content", []).append(dict(attributes))
        for child, key, child_attributes in self.children(element):
            if key == "media_thumbnail":
                self.media_thumbnail(item, child, child_attributes)
            elif key == "media_title":
                self.title(item, child, child_attributes, depth=1, keep_gate=True)
            elif key == "media_credit":
                if len(child):
                    raise Unsupported("a media:credit with child nodes")
            else:
                self.unknown(child, key, _ENTRY_KEYS)

    def media_thumbnail(self, item: _Item, element: Any, attributes: Mapping[str, str]) -> None:
        thumbnail = dict(attributes)
        item.data.setdefault("media_thumbnail", []).append(thumbnail)
        url = self.text(element, resolve=True)
        if url.strip() and "url" not in thumbnail:
            thumbnail["url"] = url


# An Atom person construct's children, by the key feedparser saves each under.
_PERSON_PARTS = {"name": "name", "email": "email", "uri": "href", "url": "href", "homepage": "href"}


def read_rss(root: Any, doc: Document) -> dict[str, Any]:
    """An `<rss>` root read as feedparser reads it (its base and language applied first)."""
    if not doc.root(root).get("version", "").startswith("2."):
        raise Unsupported("not an RSS 2.0 root")
    channels = [child for child in root if not _skippable(child)]
    if len(channels) != 1 or channels[0].tag != "channel":
        raise Unsupported("the root holds something other than one channel")
    return {"feed": doc.channel(channels[0]), "entries": doc.entries, "version": "rss20", "bozo": 0}


_Handler = Callable[[Document, _Item, Any, Mapping[str, str]], None]
_ITEM_HANDLERS: dict[str, _Handler] = {
    "title": Document.title,
    "link": Document.link,
    "guid": Document.guid,
    "description": Document.description,
    "dc_description": Document.description,
    "content_encoded": Document.content,
    "fullitem": Document.content,
    "pubdate": Document.published,
    "dc_date": Document.updated,
    "updated": Document.updated,
    "language": Document.language,
    "dc_language": Document.language,
    "image": Document.image,
    "category": Document.category,
    "dc_subject": Document.category,
    "author": Document.author,
    "dc_creator": Document.author,
    "dc_author": Document.author,
    "enclosure": Document.enclosure,
    "source": Document.source,
    "dc_source": Document.plain,
    "feedburner_origlink": Document.plain,
    "media_content": Document.media_content,
    "media_thumbnail": Document.media_thumbnail,
    "media_title": Document.media_title,
}

"""The fast parse path's Atom 1.0 reader (`fastparse` says what the path does and refuses): a
feed and its entries as feedparser fills them, on the RSS reader's element handlers where
feedparser's are the same, with Atom's own where they differ.

What Atom changes in feedparser's reading, and so here:

- No guess: a title, summary or content is of the type its `type` attribute names (`text`,
  the default, or `html`); feedparser guesses HTML in plain text for every format but Atom.
  `xhtml`, any other type, `mode` and `src` are left to feedparser (inline XHTML and base64).
- `<id>` is read as an RSS `<guid>` with no `isPermaLink`: resolved, and the link until one comes.
- `<summary>` is the summary, unless the entry already has one and no content, where feedparser
  reads it as content (left to feedparser); `<content>` of text or HTML is the summary too when
  the entry has none.
- Feed-level elements other than the title (id, updated, subtitle, rights, links, logo, icon,
  generator, authors, categories) fill names parse_feed never reads; each must hold only text,
  or, for a person construct, only its name, email and uri.
- An Atom `<source>` (a construct of child elements) is left to feedparser.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from feedparser.mixin import _FeedParserMixin

from newsroom.fetch.fastparse_rss import _FEED_KEYS, _ITEM_HANDLERS, Document, _Handler, _Item
from newsroom.fetch.fastparse_rules import _HTML_TYPE, Unsupported

ATOM_FEED = "{http://www.w3.org/2005/Atom}feed"
# Feed-level elements feedparser reads into names parse_feed ignores, and text-only here.
_HARMLESS_FEED = frozenset({"id", "updated", "published", "subtitle", "rights", "link", "generator", "category"})
_PERSON_PARTS = frozenset({"name", "email", "uri"})
_TEXT_TYPES = frozenset({"text/plain", _HTML_TYPE})


class AtomDocument(Document):
    atom = True

    def handler(self, key: str) -> _Handler | None:
        return _ATOM_HANDLERS.get(key) or super().handler(key)

    def feed(self, root: Any) -> dict[str, Any]:
        feed: dict[str, Any] = {}
        if self.feed_language:
            feed["language"] = self.feed_language
        titles = 0
        for child, key, attributes in self.children(root):
            if key == "entry":
                self.entries.append(self.item(child, attributes))
            elif key == "title":
                titles += 1
                if titles > 1:
                    raise Unsupported("a second feed title")
                kind = _typed(attributes)
                value = self.text(child)
                feed["title"] = value
                feed["title_detail"] = self.detail(kind, value)
            elif key in _HARMLESS_FEED:
                if len(child):
                    raise Unsupported(f"feed {key} with child elements")
            elif key in ("author", "contributor"):
                _person(self, _Item(), child, attributes)
            else:
                self.unknown(child, key, _FEED_KEYS)
        return feed


def _summary(doc: Document, item: _Item, element: Any, attributes: Mapping[str, str]) -> None:
    if "summary" in item.data and not item.has_content:
        raise Unsupported("a summary feedparser would read as content")
    kind = _typed(attributes)
    value = doc.text(element)
    item.data["summary"] = value
    item.data["summary_detail"] = doc.detail(kind, value)


def _content(doc: Document, item: _Item, element: Any, attributes: Mapping[str, str]) -> None:
    kind = _typed(attributes)
    item.has_content = True
    value = doc.text(element)
    item.data.setdefault("content", []).append(doc.detail(kind, value))
    item.data.setdefault("summary", value)  # feedparser's `_save`: only where there is none


def _person(doc: Document, item: _Item, element: Any, attributes: Mapping[str, str]) -> None:
    """A contributor: feedparser keeps it under names parse_feed never reads."""
    for part, key, attributes_of_part in doc.children(element):
        if key not in _PERSON_PARTS or len(part) or attributes_of_part:
            raise Unsupported("a person construct with other parts")


def _source(doc: Document, item: _Item, element: Any, attributes: Mapping[str, str]) -> None:
    raise Unsupported("an Atom source")


def _typed(attributes: Mapping[str, str]) -> str:
    """The type of a text construct, as feedparser maps it; only text and HTML are modelled."""
    if attributes.keys() - {"type"}:
        raise Unsupported("a text construct with a mode, a src or other attributes")
    kind = _FeedParserMixin.map_content_type(attributes.get("type", "text/plain"))
    if kind not in _TEXT_TYPES:
        raise Unsupported(f"a text construct of type {kind}")
    return str(kind)


def read_atom(root: Any, doc: AtomDocument) -> dict[str, Any]:
    """A `<feed>` root in the Atom 1.0 namespace read as feedparser reads it."""
    if doc.root(root):
        raise Unsupported("attributes on the feed")
    return {"feed": doc.feed(root), "entries": doc.entries, "version": "atom10", "bozo": 0}


_ATOM_HANDLERS: dict[str, _Handler] = {
    "id": _ITEM_HANDLERS["guid"],
    "summary": _summary,
    "content": _content,
    "contributor": _person,
    "source": _source,
    "published": _ITEM_HANDLERS["pubdate"],
}

"""The fast parse path: RSS 2.0 (`fastparse_rss`) and Atom 1.0 (`fastparse_atom`) read with lxml,
in front of feedparser.

Rules:

- `routed` (`fastparse_rules`) is the cheap rule, a look at the first bytes and the Content-Type:
  an XML media type as written (`application/xml`, `application/rss+xml`,
  `application/atom+xml`), no byte-order mark, an XML 1.0 declaration naming UTF-8, ISO-8859-1 or
  no encoding, at most stylesheet PIs, then an `<rss` or `<feed` root, and the encoding feedparser
  decides on (its last charset, else its own first-line pattern, else UTF-8) the one lxml reads.
  Anything else (RDF, other encodings, which can fail to decode and send feedparser to others, a
  DOCTYPE, `text/xml`, whose RFC 3023 default is US-ASCII) goes straight to feedparser.
- `parse` returns what `feedparser.parse` returns for the keys `feeds.parse_feed` reads (`feed`,
  `entries`, `version`, `bozo`), so both paths go through the same mapping. Values are made
  with feedparser's own helpers (its date parser, HTML guess, href and author rules, tag rule,
  URL join and cp1252 table), applied in the order its `pop()` applies them: the same values,
  not similar ones.
- Only the shape this module models is taken: each element is dispatched on the name feedparser
  gives it (namespace prefix + lower-cased local name). An element feedparser has a handler for
  and this module does not, an element with child nodes where text is expected, an `xml:lang`
  or `xml:base` below the root, a namespaced attribute, a namespace bound in a way feedparser
  names differently (`fastparse_rules._check_namespaces`), a second channel title, a description
  feedparser would read as content, an item attribute: `Unsupported`, and `parse_feed` hands the
  document to feedparser. Elements feedparser keeps only under names `parse_feed` never reads are skipped.
  Where feedparser's order matters (which title, link or description wins, a media:title or an
  image title changing the title's type), its rules are followed, not approximated.
- lxml reads with no network, no DTD loading, no entity resolution and no huge trees, after
  `xmlguard.check_xml` has run on the same bytes (in `parse_feed`); a document lxml finds
  ill-formed raises, and feedparser (whose loose parser recovers what it can) decides.
"""

from __future__ import annotations

from typing import Any

from lxml import etree  # type: ignore[import-untyped]  # no stubs shipped

from newsroom.fetch.fastparse_atom import ATOM_FEED, AtomDocument, read_atom
from newsroom.fetch.fastparse_rss import Document, read_rss
from newsroom.fetch.fastparse_rules import (
    _ENCODINGS,
    OTHER_VERSION_NAMESPACE,
    Unsupported,
    _check_namespaces,
    routed,
)


def parse(body: bytes, *, base_url: str, language: str | None) -> dict[str, Any]:
    """The document as feedparser's result; `language` is the Content-Language header, if any.
    Raises (Unsupported, lxml's errors, anything) when feedparser must take the document."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, collect_ids=False
    )
    root = etree.fromstring(body, parser)
    encoding = (root.getroottree().docinfo.encoding or "").lower()
    if encoding not in _ENCODINGS:
        raise Unsupported(f"a document in {encoding}")
    if root.tag == "rss":
        return read_rss(root, Document(base_url, language, _check_namespaces(body)))
    if root.tag == ATOM_FEED:
        if OTHER_VERSION_NAMESPACE.search(body):
            raise Unsupported("an RSS 1.0 or 0.9 namespace, which makes feedparser read Atom as RSS")
        return read_atom(root, AtomDocument(base_url, language, _check_namespaces(body)))
    raise Unsupported("neither an RSS 2.0 nor an Atom 1.0 root")


__all__ = ["Unsupported", "parse", "routed"]

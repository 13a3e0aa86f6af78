"""The fast parse path's rules shared by its readers (`fastparse`): the cheap routing rule, the
names feedparser gives elements, and the finishing feedparser's `pop()` gives every value. See
`fastparse` for what the path does and refuses.
"""

from __future__ import annotations

import contextlib
import re
from functools import cache
from typing import Any

from feedparser.api import StrictFeedParser
from feedparser.encodings import parse_content_type
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from lxml import etree  # type: ignore[import-untyped]  # no stubs shipped

from newsroom.core.config import MAX_ATTRIBUTES_PER_ELEMENT, MAX_NAMESPACE_PREFIXES
from newsroom.core.encoding_pattern import FIRST_LINE_ENCODING

_MEDIA_TYPES = frozenset({"application/xml", "application/rss+xml", "application/atom+xml"})


# The XML declaration (version 1.0, encoding UTF-8, ISO-8859-1 or none), stylesheet PIs, then the
# <rss or <feed root.
_HEAD = re.compile(
    rb"(?:<\?xml\s+version\s*=\s*[\"']1\.0[\"']"
    rb"(?:\s+encoding\s*=\s*[\"'](utf-8|iso-8859-1)[\"'])?(?:\s+standalone\s*=\s*[\"'](?:yes|no)[\"'])?\s*\?>)?"
    rb"(?:\s*<\?xml-stylesheet\s[^>]*\?>)*\s*<(?:rss|feed)[\s>]",
    re.IGNORECASE,
)


_DECLARED_PREFIX = re.compile(rb"xmlns:([\w.-]+)\s*=\s*[\"']([^\"']*)[\"']")


# feedparser's namespace table: a URI it knows gets its standard prefix ("" for the RSS and
# Atom namespaces), whatever prefix the document uses.
_PREFIXES: dict[str, str] = {uri.lower(): prefix for uri, prefix in _FeedParserMixin.namespaces.items()}


_STANDARD_PREFIXES = frozenset(_PREFIXES.values())


_HTML_TYPE = "text/html"
_XLINK = "http://www.w3.org/1999/xlink"
# Namespaces whose declaration anywhere sets feedparser's version before an Atom root can: then
# it guesses HTML in text constructs as in RSS (`track_namespace`, `_start_feed`).
OTHER_VERSION_NAMESPACE = re.compile(
    rb"xmlns(?::[\w.-]+)?\s*=\s*[\"'](?:http://purl\.org/rss/1\.0/|http://my\.netscape\.com/rdf/simple/0\.9/)[\"']",
    re.IGNORECASE,
)


_C1_CONTROL = re.compile("[\x80-\x9f]")


# The encodings a routed document may be in, as lxml names the declaration's (none: UTF-8).
_ENCODINGS = frozenset({"utf-8", "iso-8859-1"})


class Unsupported(Exception):
    """The document has something this path does not model; feedparser takes it."""


def routed(body: bytes, content_type: str) -> bool:
    """Whether the fast path may try `body` (cheap: the Content-Type and the first bytes).

    The encoding is decided as feedparser decides it and must be the one lxml reads: feedparser
    takes the Content-Type as written (`Application/RSS+XML` is not an XML media type to it) and
    its last charset, and finds the declaration's encoding with its own pattern, which needs no
    space around `=` and reads the first line greedily (a later `encoding="..."` on that line
    wins); lxml reads the declaration. A document where the two could differ is left to feedparser.
    """
    media_type, charset = parse_content_type(content_type)
    if media_type not in _MEDIA_TYPES:
        return False
    head = _HEAD.match(body, 0, 2048)
    if head is None:
        return False
    read_by_lxml = (head.group(1) or b"utf-8").decode("ascii").lower()
    declared = FIRST_LINE_ENCODING.match(body)
    read_by_feedparser = charset or (declared.group(1).decode("latin-1") if declared else "") or "utf-8"
    return read_by_feedparser.lower() == read_by_lxml


def _check_namespaces(body: bytes) -> frozenset[str]:
    """The prefixes the document binds to a namespace feedparser knows by another prefix
    (feedparser renames every element using them, so the fast path refuses those elements);
    raises for bindings whose names feedparser reads differently from their scope. Its expat
    reader gets no prefixes: an element in a namespace it does not know is named after the first
    prefix ever bound to that namespace, and a binding is never undone, so a prefix bound to two
    namespaces, or a namespace bound to two prefixes, is left to it; so is an xlink binding,
    which feedparser passes to the next element as an attribute. The declarations are found in
    the raw bytes, text and CDATA included: a false alarm only costs the fast path."""
    remapped: set[str] = set()
    namespace_of: dict[str, str] = {}
    prefix_of: dict[str, str] = {}
    for match in _DECLARED_PREFIX.finditer(body):
        if len(namespace_of) > MAX_NAMESPACE_PREFIXES:
            # feedparser's own count decides (`feedparser_bounds`): such a document is refused
            # there unless the declarations are only quoted (in CDATA, a comment).
            raise Unsupported(f"more than {MAX_NAMESPACE_PREFIXES} namespace prefixes")
        prefix, uri = match.group(1).decode("ascii", "replace"), match.group(2).decode("utf-8", "replace").lower()
        if "backend.userland.com/rss" in uri:
            uri = "http://backend.userland.com/rss"
        if uri == _XLINK or namespace_of.setdefault(prefix, uri) != uri:
            raise Unsupported(f"prefix {prefix} bound to two namespaces, or to xlink")
        standard = _PREFIXES.get(uri)
        if standard is None and prefix_of.setdefault(uri, prefix) != prefix:
            raise Unsupported(f"namespace {uri} bound to two prefixes")
        if standard is not None and standard != prefix:
            remapped.update((prefix, prefix.lower()))
    return frozenset(remapped)


def _skippable(node: Any) -> bool:
    """Comments and processing instructions, which feedparser ignores."""
    return node.tag is etree.Comment or node.tag is etree.PI


def _attributes(element: Any) -> dict[str, str]:
    """feedparser's view of an element's attributes: names lower-cased, `rel` and `type` values
    lower-cased. A namespaced attribute (xml:lang, xml:base, or any other) or a bare `lang` or
    `base`, which feedparser reads as xml:lang and xml:base, is not modelled."""
    if len(element.attrib) > MAX_ATTRIBUTES_PER_ELEMENT:
        # lxml's `attrib.items()` grows with the square of their number: feedparser refuses it.
        raise Unsupported("too many attributes")
    attributes: dict[str, str] = {}
    for name, value in element.attrib.items():
        key = name.lower()
        if key.startswith("{") or key in ("lang", "base"):
            raise Unsupported(f"attribute {name}")
        attributes[key] = value.lower() if key in ("rel", "type") else value
    return attributes


def _finish(text: str) -> str:
    """The end of feedparser's `pop()`: UTF-8 read as Latin-1 is repaired, and C1 controls become
    the cp1252 characters they were meant as. feedparser hands its parser the document converted
    to UTF-8 whatever it was in, so the repair applies to an ISO-8859-1 document too."""
    if text.isascii():  # nothing to repair; most values, and the cheap test
        return text
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        text = text.encode("iso-8859-1").decode("utf-8")
    # str.translate with a dict walks every character in Python-level lookups: only when needed.
    return text.translate(_cp1252) if _C1_CONTROL.search(text) else text


class _Context:
    """Stands in for feedparser's parser where its helpers only ask for the dict being filled."""

    __slots__ = ("data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def _get_context(self) -> dict[str, Any]:
        return self.data


@cache
def _has_handler(key: str) -> bool:
    """Whether feedparser does something of its own with an element of that name."""
    return hasattr(StrictFeedParser, "_start_" + key) or hasattr(StrictFeedParser, "_end_" + key)


def _guess_type(value: str) -> str:
    """RSS titles are nominally plain text; feedparser calls them HTML when they look like it."""
    return _HTML_TYPE if _FeedParserMixin.looks_like_html(value) else "text/plain"

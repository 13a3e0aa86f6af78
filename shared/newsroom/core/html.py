"""Feed HTML made safe to serve, and made into plain text.

Rules:

- `sanitize_html` keeps an article tag set (`ALLOWED_TAGS`) and a few harmless attributes, and
  drops everything else with nh3 (ammonia). Elements that carry code or embedded media
  (`DROPPED_WITH_CONTENT`: script, style, iframe, svg, ...) go with their contents; other unknown
  tags are unwrapped and their text kept. Links keep only http(s) targets, relative ones resolved
  against `base_url` (dropped when there is none), and every `<a>` gets
  `rel="noopener noreferrer nofollow"`; an `<a>` left without a target is unwrapped. Images keep
  only https sources (protocol-relative ones are taken as https; http, data: and javascript: are
  dropped), and an `<img>` left without a source is removed: mixed content and tracking beacons
  never reach a reader.
- What a reader gets from a body, its text and its lead image, is `newsroom.core.reading`.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import nh3

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "hr",
        "div",
        "a",
        "strong",
        "em",
        "b",
        "i",
        "u",
        "s",
        "del",
        "ins",
        "sub",
        "sup",
        "small",
        "mark",
        "cite",
        "q",
        "abbr",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "blockquote",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "figure",
        "figcaption",
        "img",
        "pre",
        "code",
        "table",
        "caption",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "th",
        "td",
    }
)

ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}

DROPPED_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "iframe",
        "noscript",
        "template",
        "object",
        "embed",
        "applet",
        "svg",
        "math",
        "canvas",
        "audio",
        "video",
        "form",
        "select",
        "textarea",
        "button",
        "title",
        "frame",
        "frameset",
        "noembed",
        "noframes",
    }
)

LINK_REL = "noopener noreferrer nofollow"
_LINK_SCHEMES = frozenset({"http", "https"})
_IMAGE_SCHEMES = frozenset({"https"})

# nh3 output is normalised (lower-case names, double-quoted attributes), so these are exact.
_IMG_WITHOUT_SRC = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")
# `<a` then a space or `>`: an `<abbr>` matched `<a` and scanned to the end for a `</a>` (48 KB of
# `<abbr>` took 6.2 s, found by the ReDoS audit).
_A_WITHOUT_HREF = re.compile(r"<a(?=[\s>])(?![^>]*\shref=)[^>]*>(.*?)</a>", re.DOTALL)


# An absolute http(s) URL whose authority is a plain ASCII host (and port): most links and images.
# `urlsplit` reads its scheme and host just so (no character in it is one it strips or rejects),
# so the scheme decides without splitting the URL.
_PLAIN_ABSOLUTE = re.compile(r"((?i:https?))://[A-Za-z0-9.-]+(?::[0-9]*)?(?=[/?#]|\Z)")


def _absolute(value: str, base_url: str | None, schemes: frozenset[str]) -> str | None:
    url = value.strip()
    if not url:
        return None
    if url.startswith("//"):
        url = "https:" + url
    plain = _PLAIN_ABSOLUTE.match(url)
    if plain is not None:
        return url if plain.group(1).lower() in schemes else None
    return _split_absolute(url, base_url, schemes)


def _split_absolute(url: str, base_url: str | None, schemes: frozenset[str]) -> str | None:
    """`_absolute` for a stripped, scheme-completed `url`, read by `urlsplit`."""
    try:
        parts = urlsplit(url)
        if not parts.scheme:
            if not base_url:
                return None
            url = urljoin(base_url, url)
            parts = urlsplit(url)
        if parts.scheme.lower() not in schemes or not parts.hostname:
            return None
    except ValueError:
        return None
    return url


# The base URL of the `sanitize_html` call in progress, for `_url_filter`: the cleaner is built
# once (nh3.clean turns its options into ammonia's on every call, ~20 µs of a 3 KB article's
# ~80), so the per-call base travels beside it; a context variable keeps threads apart.
_BASE_URL: ContextVar[str | None] = ContextVar("sanitize_base_url", default=None)


def _url_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "a" and attribute == "href":
        return _absolute(value, _BASE_URL.get(), _LINK_SCHEMES)
    if tag == "img" and attribute == "src":
        return _absolute(value, _BASE_URL.get(), _IMAGE_SCHEMES)
    return value


def _keep_absolute(url: str) -> str | None:
    return url if _absolute(url, None, _LINK_SCHEMES) == url else None


_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(DROPPED_WITH_CONTENT),
    attributes=ALLOWED_ATTRIBUTES,
    attribute_filter=_url_filter,
    url_schemes=set(_LINK_SCHEMES),
    # nh3 decides "relative" on the raw value but hands this the filtered (absolute) one.
    url_relative=_keep_absolute,
    link_rel=LINK_REL,
    strip_comments=True,
)


def sanitize_html(html: str, base_url: str | None = None) -> str:
    """Safe article HTML from feed HTML (see the module rules)."""
    if not html or not html.strip():
        return ""
    token = _BASE_URL.set(base_url)
    try:
        cleaned = _CLEANER.clean(html)
    finally:
        _BASE_URL.reset(token)
    cleaned = _IMG_WITHOUT_SRC.sub("", cleaned)
    cleaned = _A_WITHOUT_HREF.sub(r"\1", cleaned)
    return cleaned.strip()


_BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "tfoot",
        "thead",
        "tr",
        "ul",
        "body",
        "html",
    }
)
# -- plain-text fields ----------------------------------------------------------------------------

# "<" that starts a tag, an end tag, a comment, a declaration or a processing instruction.
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_PLAIN_TEXT_PASSES = 4


class _VisibleText(HTMLParser):
    """The text of a fragment, with elements that carry code or media dropped with their content."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROPPED_WITH_CONTENT:
            self._hidden += 1
        elif tag in _BLOCK_TAGS or tag == "br":
            self.parts.append(" ")  # "<p>a</p><p>b</p>" reads "a b"; "Bit<b>coin</b>" stays one word

    def handle_endtag(self, tag: str) -> None:
        if tag in DROPPED_WITH_CONTENT:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def plain_text(value: str) -> str:
    """A text field (title, byline, tag) that no reader can mistake for markup.

    These fields are text by contract (JSON Feed `title`, Atom `type="text"`), yet RSS readers
    commonly render an RSS title as HTML, and a feed that puts `<img onerror=…>` in a title is
    attacking. Markup is reduced to its visible text, again while removing one tag re-forms
    another (`<scr<script>ipt>`), and any `<` still able to open a tag is dropped. Text without
    markup ("1 < 2", "AT&T") is returned as it was, whitespace collapsed.
    """
    text = value
    for _ in range(_PLAIN_TEXT_PASSES):
        if not _TAG_START.search(text):
            break
        parser = _VisibleText()
        parser.feed(text)
        parser.close()
        text = "".join(parser.parts)
    return " ".join(_TAG_START.sub("", text).split())


# Characters a valid URL never holds raw (RFC 3986) that would end an HTML attribute or a tag.
_URL_UNSAFE = re.compile(r"[\"'<>`\\\s]")


def inert_url(url: str) -> str:
    """`url` with every character that could break out of an attribute percent-encoded, as a
    browser's URL parser would encode it; a well-formed URL comes back unchanged."""
    return _URL_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), url.strip())


# Everything outside XML 1.0's Char production (§2.2): no format can carry these as text.
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def plain_name(value: str) -> str:
    """A name from configuration or an OPML import (a source's name) as a text field like a
    title: markup reduced to its text (`plain_text`) and the characters XML 1.0 forbids removed,
    so JSON, RSS, Atom and the pages all carry the same, inert string."""
    return plain_text(_NOT_XML_CHAR.sub("", value))

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
- `html_to_text` is the text a reader sees: blocks (paragraphs, headings, list items, quotes, table
  rows, ...) separated by a blank line, whitespace collapsed inside a block, `<br>` kept as a line
  break, `<pre>` kept verbatim, entities decoded, scripts/styles/embeds dropped. It uses the stdlib
  `html.parser`, which never raises on broken markup.
- `first_image` is the first `<img>` with an https source that is not a 1x1 tracking pixel
  (lazy-loading `data-src` is honoured when `src` is a placeholder).
- `read_sanitized` gives both, the text and the first image, of `sanitize_html`'s output in one
  pass: that output is serialised by html5ever in a regular form, so a regex tokenizer reads it
  exactly as `html.parser` would, at a fraction of the cost; it drives the same handlers, and
  anything not in that form goes to `html.parser` as before.
"""

from __future__ import annotations

import html as html_module
import re
from contextvars import ContextVar
from dataclasses import dataclass
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
_A_WITHOUT_HREF = re.compile(r"<a(?![^>]*\shref=)[^>]*>(.*?)</a>", re.DOTALL)


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
_CELL_TAGS = frozenset({"td", "th"})
_SKIPPED_TAGS = DROPPED_WITH_CONTENT | {"head"}
_LINE_BREAK = "\x00"  # marks a <br> until the block is flushed; NULs in the input are removed


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self._pieces: list[str] = []
        self._skip_depth = 0
        self._pre_depth = 0
        self.image: str | None = None

    def _flush(self) -> None:
        if not self._pieces:
            return
        raw = "".join(self._pieces)
        self._pieces = []
        lines = (" ".join(line.split()) for line in raw.split(_LINE_BREAK))
        text = "\n".join(line for line in lines if line)
        if text:
            self.blocks.append(text)

    def _flush_pre(self) -> None:
        raw = "".join(self._pieces).replace(_LINE_BREAK, "\n")
        self._pieces = []
        text = "\n".join(line.rstrip() for line in raw.strip("\n").splitlines())
        if text.strip():
            self.blocks.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img" and self.image is None:
            self.image = _image_source(attrs)  # read as `first_image` reads it, hidden or not
        if tag in _SKIPPED_TAGS:
            self._skip_depth += 1
            return
        if self._skip_depth:
            return
        if tag == "br":
            self._pieces.append(_LINE_BREAK)
        elif tag == "pre":
            if not self._pre_depth:
                self._flush()
            self._pre_depth += 1
        elif tag in _CELL_TAGS:
            self._pieces.append(" ")
        elif tag in _BLOCK_TAGS and not self._pre_depth:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            if self._skip_depth:
                self._skip_depth -= 1
            return
        if self._skip_depth:
            return
        if tag == "pre":
            if self._pre_depth:
                self._pre_depth -= 1
                if not self._pre_depth:
                    self._flush_pre()
        elif tag in _CELL_TAGS:
            self._pieces.append(" ")
        elif tag in _BLOCK_TAGS and not self._pre_depth:
            self._flush()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # `<br/>`, `<hr/>`, `<svg/>`: one event, never an open element.
        if tag == "img" and self.image is None:
            self.image = _image_source(attrs)
        if tag in _SKIPPED_TAGS or self._skip_depth:
            return
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self._pieces.append(data.replace("\x00", ""))

    def finish(self) -> str:
        self.close()
        if self._pre_depth:
            self._flush_pre()
        else:
            self._flush()
        return "\n\n".join(self.blocks)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment, blocks separated by blank lines (see the module rules)."""
    if not html:
        return ""
    extractor = _TextExtractor()
    extractor.feed(html)
    return extractor.finish()


class _FoundImage(Exception):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


_PLACEHOLDER_SCHEMES = ("data:", "about:", "blob:")
_LAZY_SOURCE_ATTRIBUTES = ("data-src", "data-lazy-src", "data-original")


def _https_image(value: str | None) -> str | None:
    if not value:
        return None
    return _absolute(value, None, _IMAGE_SCHEMES)


def _image_source(attrs: list[tuple[str, str | None]]) -> str | None:
    """The illustration an `<img>` with these attributes shows, or None."""
    attributes = dict(attrs)
    if attributes.get("width") == "1" and attributes.get("height") == "1":
        return None  # a tracking pixel, not an illustration
    source = (attributes.get("src") or "").strip()
    if not source or source.lower().startswith(_PLACEHOLDER_SCHEMES):
        source = next((attributes[name] or "" for name in _LAZY_SOURCE_ATTRIBUTES if attributes.get(name)), "")
    url = _https_image(source)
    # A relative source resolved against the page keeps its raw characters (a quote, a space):
    # the story's image URL goes into attributes, so it leaves here inert.
    return inert_url(url) if url is not None else None


class _ImageFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img" and (url := _image_source(attrs)) is not None:
            raise _FoundImage(url)


def first_image(html: str) -> str | None:
    """The first https `<img>` source in `html` (tracking pixels skipped), or None."""
    if not html or "<img" not in html.lower():
        return None
    finder = _ImageFinder()
    try:
        finder.feed(html)
        finder.close()
    except _FoundImage as found:
        return found.url
    return None


@dataclass(frozen=True, slots=True)
class Reading:
    """What a reader gets from a body: its text (`html_to_text`) and its lead image (`first_image`)."""

    text: str
    image: str | None


# html5ever's serialisation, which nh3 returns: lower-case names, every attribute value in double
# quotes with `"` and `&` escaped, every `<` in text escaped as `&lt;`, comments gone (HTML
# Standard, "Serializing HTML fragments"). The body is tags in that form and runs of text.
_SANITIZED_ATTRIBUTE = re.compile(r'([^\s"\'=<>/]+)(?:="([^"]*)")?')


def _attributes(source: str) -> list[tuple[str, str | None]]:
    """Attributes as `html.parser` gives them: a value unescaped, None for a bare name."""
    attrs: list[tuple[str, str | None]] = []
    for attribute in _SANITIZED_ATTRIBUTE.finditer(source):
        value = attribute.group(2)
        attrs.append((attribute.group(1), html_module.unescape(value) if value and "&" in value else value))
    return attrs


# A tag in that form, for `re.split`: a split is [text, "/" or "", name, attributes, "/" or "",
# text, ...], cut in C.
_SANITIZED_SPLIT = re.compile(r'<(/?)([a-z][a-z0-9]*)((?:\s+[^\s"\'=<>/]+(?:="[^"]*")?)*)\s*(/?)>')


def read_sanitized(html: str) -> Reading:
    """The text and the first image of `sanitize_html`'s output, in one pass (module rules)."""
    if not html:
        return Reading("", None)
    # Cut into tags and the text between them in C. A "<" left in a text piece started no tag in
    # html5ever's form, so the piece-by-piece reading below would not be `html.parser`'s.
    parts = _SANITIZED_SPLIT.split(html)
    texts = parts[::5]
    if any("<" in text for text in texts):
        return Reading(html_to_text(html), first_image(html))
    extractor = _TextExtractor()
    data, start, end, startend = (
        extractor.handle_data,
        extractor.handle_starttag,
        extractor.handle_endtag,
        extractor.handle_startendtag,
    )
    unescape = html_module.unescape
    for index in range(0, len(parts) - 1, 5):
        text = parts[index]
        if text:
            data(unescape(text) if "&" in text else text)
        name = parts[index + 2]
        if parts[index + 1]:
            end(name)
            continue
        # Only an <img>'s attributes are read (`_image_source`): others are not parsed.
        attributes = parts[index + 3]
        attrs = _attributes(attributes) if name == "img" and attributes else []
        (startend if parts[index + 4] else start)(name, attrs)
    text = parts[-1]
    if text:
        data(unescape(text) if "&" in text else text)
    return Reading(extractor.finish(), extractor.image)


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

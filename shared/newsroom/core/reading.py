"""What a reader gets from a body: its plain text and its lead image.

Rules:

- `html_to_text` is the text a reader sees: blocks (paragraphs, headings, list items, quotes, table
  rows, ...) separated by a blank line, whitespace collapsed inside a block, `<br>` kept as a line
  break, `<pre>` kept verbatim, entities decoded, scripts/styles/embeds dropped. It uses the stdlib
  `html.parser`, which never raises on broken markup.
- `first_image` is the first `<img>` with an https source that is not a 1x1 tracking pixel
  (lazy-loading `data-src` is honoured when `src` is a placeholder).
- `read_sanitized` gives both, the text and the first image, of `sanitize_html`'s output in one
  pass: that output is serialised by html5ever in a regular form, so a regex tokenizer reads it
  exactly as `html.parser` would, at a fraction of the cost. A body with no `<pre>` and no
  skipped element is read flat (every tag becomes the mark of what the handlers do there, and
  the text and marks are joined and cut into blocks in C); the others drive the same handlers
  tag by tag, and anything not in that form goes to `html.parser` as before.
"""

from __future__ import annotations

import html as html_module
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from newsroom.core.html import _BLOCK_TAGS, _IMAGE_SCHEMES, DROPPED_WITH_CONTENT, _absolute, inert_url

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


# What `_TextExtractor` does at a tag, when no <pre> or skipped element makes it depend on what
# came before: a block boundary (flush), a line break, a space (a table cell), or nothing.
_BLOCK_MARK, _BREAK_MARK = "\x01", _LINE_BREAK
_STATEFUL_TAGS = _SKIPPED_TAGS | {"pre"}
_START_MARKS = {
    **dict.fromkeys(_BLOCK_TAGS, _BLOCK_MARK),
    **dict.fromkeys(_CELL_TAGS, " "),
    "br": _BREAK_MARK,
}
_END_MARKS = {**dict.fromkeys(_BLOCK_TAGS, _BLOCK_MARK), **dict.fromkeys(_CELL_TAGS, " ")}


def _read_flat(parts: list[str], texts: list[str], names: list[str]) -> Reading:
    """`read_sanitized` for a body with no <pre>, no skipped element, no NUL and no U+0001:
    every tag becomes its mark (`_START_MARKS`, `_END_MARKS`), the text and the marks are joined
    in C, and the blocks are the pieces between block marks, each flushed as `_flush` does."""
    unescape = html_module.unescape
    start, end = _START_MARKS.get, _END_MARKS.get
    pieces: list[str] = [""] * (len(texts) + len(names))
    pieces[::2] = [unescape(text) if "&" in text else text for text in texts]
    pieces[1::2] = [(end if closing else start)(name, "") for closing, name in zip(parts[1::5], names, strict=True)]
    blocks: list[str] = []
    for raw in "".join(pieces).split(_BLOCK_MARK):
        if _BREAK_MARK in raw:
            lines = (" ".join(line.split()) for line in raw.split(_BREAK_MARK))
            block = "\n".join(line for line in lines if line)
        else:
            block = " ".join(raw.split())
        if block:
            blocks.append(block)
    text = "\n\n".join(blocks)
    image = None
    if "img" in names:
        for index in range(2, len(parts), 5):
            # Start tags only; `_image_source` reads an <img>'s attributes as html.parser does.
            if parts[index] == "img" and not parts[index - 1]:
                attributes = parts[index + 1]
                image = _image_source(_attributes(attributes) if attributes else [])
                if image is not None:
                    break
    return Reading(text, image)


def read_sanitized(html: str) -> Reading:
    """The text and the first image of `sanitize_html`'s output, in one pass (module rules)."""
    if not html:
        return Reading("", None)
    # Cut into tags and the text between them in C. A "<" left in a text piece started no tag in
    # html5ever's form, so the piece-by-piece reading below would not be `html.parser`'s.
    parts = _SANITIZED_SPLIT.split(html)
    texts = parts[::5]
    names = parts[2::5]
    # Every tag cut holds a "<": any other "<" (in a text piece, or an attribute value) and the
    # body is not in html5ever's form as far as this reading can tell, so html.parser reads it.
    if html.count("<") != len(names):
        return Reading(html_to_text(html), first_image(html))
    if _BLOCK_MARK not in html and _BREAK_MARK not in html and _STATEFUL_TAGS.isdisjoint(names):
        return _read_flat(parts, texts, names)
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

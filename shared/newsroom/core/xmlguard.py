"""One bounded pre-scan for XML from outside, run before any parser sees the document.

Rules:

- The prolog (everything before the first element) is tokenized, not searched with a window or a
  "first `<` + letter" regex: the XML declaration, processing instructions, comments, the DOCTYPE
  with its quoted literals and its internal subset (markup declarations, their quoted values,
  comments, PIs, parameter-entity references). A comment or a quoted string holding `<a` is
  still a comment or a string, however long, so nothing can hide a declaration behind it.
- Refused ("hostile-xml"): any entity declaration (`<!ENTITY`, in any case, anywhere in the
  prolog, including inside comments, PIs and literals, because feedparser's own DOCTYPE rewrite
  is a line-based regex that does not know about them), any parameter-entity reference (`%name;`,
  an external DTD fragment), and a prolog larger than the byte or token budget. No feed needs an
  entity declaration; refusing them all closes billion laughs, quadratic blowup and external
  entities at once, whatever a later parser's limits are.
- An external DTD named on the DOCTYPE (`<!DOCTYPE rss PUBLIC "-//Netscape…" "http://…">`, as
  RSS 0.91 feeds carry) is accepted: no parser here loads it (feedparser strips the DOCTYPE before
  expat sees it and turns external entities off), and refusing it would refuse real feeds.
- An ill-formed prolog (stray text, an unterminated comment, CDATA before the root) is decided
  too: the scanner cannot know where such a prolog ends, so the whole document is searched and
  any entity declaration in it is refused.
- Wide documents (UTF-16/32, by BOM or by NUL bytes) are scanned in their decoded form, so
  `<!ENTITY` cannot hide in two-byte characters. `check_xml` is also run by feedparser on the
  UTF-8 text it actually parses (see `feeds`), which covers any encoding it knows.
- Cost is linear in the document: each token is found with one `find` or one regex match from
  its start, the number of tokens is capped, and a wall-clock budget stops a pathological scan.
"""

from __future__ import annotations

import re
import time

# Real prologs are an XML declaration, a stylesheet PI, maybe a comment and a DOCTYPE: a few
# hundred bytes. Whitespace is skipped without counting (a CMS may emit megabytes of it).
MAX_PROLOG_MARKUP_BYTES = 256 * 1024
MAX_PROLOG_TOKENS = 1_000
SCAN_TIME_BUDGET_SECONDS = 2.0

_WHITESPACE = re.compile(rb"[ \t\r\n]+")
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_NAME_START = re.compile(rb"[A-Za-z_:\x80-\xff]")
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
# Inside the DOCTYPE (outside the subset) and inside one markup declaration: anything that is not
# a quote or the delimiters that end or open something.
_DOCTYPE_PLAIN = re.compile(rb"[^\"'\[>]+")
_DECLARATION_PLAIN = re.compile(rb"[^\"'>]+")
_PARAMETER_REFERENCE = re.compile(rb"%[A-Za-z_:\x80-\xff][^;\s]*;")


class HostileXml(ValueError):
    """The document must not be parsed; the message says why (short, fit for a log)."""


class _IllFormed(Exception):
    """The prolog is not well-formed XML, so where it ends is unknowable."""


def check_xml(body: bytes, *, max_prolog_bytes: int = MAX_PROLOG_MARKUP_BYTES) -> int:
    """Raise HostileXml if `body` may not be parsed; otherwise the offset of its first element in
    the scanned (ASCII-compatible) view, or -1 when the prolog was ill-formed."""
    text = ascii_view(body)
    scanner = _PrologScanner(text, max_prolog_bytes)
    try:
        end = scanner.scan()
    except _IllFormed:
        if _ENTITY.search(text):
            raise HostileXml("refused: an ill-formed document that declares an entity") from None
        return -1
    if _ENTITY.search(text, 0, end):
        raise HostileXml("refused: the prolog declares an entity (entity expansion or external entity)")
    return end


def ascii_view(body: bytes) -> bytes:
    """`body` as bytes in which ASCII markup reads as ASCII: UTF-16/32 documents are decoded and
    re-encoded as UTF-8 (undecodable units become U+FFFD); everything else is returned as is."""
    codec = _wide_codec(body[:4])
    if codec is None:
        return body
    return body.decode(codec, "replace").encode("utf-8", "replace")


def _wide_codec(head: bytes) -> str | None:
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if len(head) < 4 or b"\x00" not in head:
        return None
    if head[1:4] == b"\x00\x00\x00":
        return "utf-32-le"
    if head[:3] == b"\x00\x00\x00":
        return "utf-32-be"
    if head[1] == 0 and head[3] == 0:
        return "utf-16-le"
    if head[0] == 0 and head[2] == 0:
        return "utf-16-be"
    return None


class _PrologScanner:
    def __init__(self, text: bytes, max_bytes: int) -> None:
        self.text = text
        self.pos = 3 if text.startswith(b"\xef\xbb\xbf") else 0
        self.whitespace = self.pos  # bytes skipped without charge: the BOM and whitespace runs
        self.max_bytes = max_bytes
        self.tokens = 0
        self.deadline = time.monotonic() + SCAN_TIME_BUDGET_SECONDS

    def scan(self) -> int:
        text = self.text
        while True:
            self._skip_whitespace()
            if self.pos >= len(text):
                raise _IllFormed  # no element at all
            if text.startswith(b"<?", self.pos):
                self._through(b"?>", self.pos + 2)
            elif text.startswith(b"<!--", self.pos):
                self._through(b"-->", self.pos + 4)
            elif _DOCTYPE.match(text, self.pos):
                self._doctype()
            elif text.startswith(b"<", self.pos) and _NAME_START.match(text, self.pos + 1):
                return self.pos
            else:
                raise _IllFormed

    def _skip_whitespace(self) -> None:
        match = _WHITESPACE.match(self.text, self.pos)
        if match:
            self.whitespace += match.end() - self.pos
            self.pos = match.end()

    def _budget_left(self) -> int:
        return self.max_bytes - (self.pos - self.whitespace)

    def _advance(self, to: int) -> None:
        """Move to `to`, charging the bytes passed and one token to the budgets."""
        self.pos = to
        self.tokens += 1
        if self._budget_left() < 0:
            raise HostileXml(f"refused: the prolog holds more than {self.max_bytes} bytes of markup")
        if self.tokens > MAX_PROLOG_TOKENS:
            raise HostileXml(f"refused: the prolog holds more than {MAX_PROLOG_TOKENS} tokens")
        if time.monotonic() > self.deadline:
            raise HostileXml("refused: the prolog scan ran out of its time budget")

    def _through(self, terminator: bytes, search_from: int) -> None:
        # The budget bounds how far one token may reach, so a missing terminator costs no more.
        limit = self.pos + max(self._budget_left(), 0) + len(terminator)
        end = self.text.find(terminator, search_from, limit)
        if end >= 0:
            self._advance(end + len(terminator))
        elif limit < len(self.text):
            self._advance(limit)  # over budget: refused
        else:
            raise _IllFormed  # unterminated

    def _quoted(self) -> None:
        quote = self.text[self.pos : self.pos + 1]
        self._through(quote, self.pos + 1)

    def _doctype(self) -> None:
        text = self.text
        self._advance(self.pos + len(b"<!DOCTYPE"))
        while self.pos < len(text):
            char = text[self.pos : self.pos + 1]
            if char in (b'"', b"'"):
                self._quoted()
            elif char == b"[":
                self._advance(self.pos + 1)
                self._internal_subset()
            elif char == b">":
                self._advance(self.pos + 1)
                return
            else:
                match = _DOCTYPE_PLAIN.match(text, self.pos)
                assert match is not None
                self._advance(match.end())
        raise _IllFormed

    def _internal_subset(self) -> None:
        text = self.text
        while True:
            self._skip_whitespace()
            if self.pos >= len(text):
                raise _IllFormed
            if text.startswith(b"]", self.pos):
                self._advance(self.pos + 1)
                return
            if text.startswith(b"<!--", self.pos):
                self._through(b"-->", self.pos + 4)
            elif text.startswith(b"<?", self.pos):
                self._through(b"?>", self.pos + 2)
            elif _ENTITY.match(text, self.pos):
                raise HostileXml("refused: the DOCTYPE declares an entity (entity expansion or external entity)")
            elif text.startswith(b"<!", self.pos):
                self._declaration()
            elif _PARAMETER_REFERENCE.match(text, self.pos):
                raise HostileXml("refused: the DOCTYPE references a parameter entity (external DTD)")
            else:
                raise _IllFormed

    def _declaration(self) -> None:
        """One `<!ELEMENT …>`, `<!ATTLIST …>` or `<!NOTATION …>`, its quoted values skipped whole."""
        text = self.text
        self._advance(self.pos + 2)
        while self.pos < len(text):
            char = text[self.pos : self.pos + 1]
            if char in (b'"', b"'"):
                self._quoted()
            elif char == b">":
                self._advance(self.pos + 1)
                return
            else:
                match = _DECLARATION_PLAIN.match(text, self.pos)
                assert match is not None
                if _PARAMETER_REFERENCE.search(text, self.pos, match.end()):
                    raise HostileXml("refused: a declaration references a parameter entity (external DTD)")
                self._advance(match.end())
        raise _IllFormed

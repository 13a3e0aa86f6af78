"""Numbers and snippets derived from an article's plain text.

Rules:

- A word is a whitespace-separated token holding at least one letter or digit, so dashes, bullets
  and stray punctuation are not counted ("$14 billion" is two words, "—" is none).
- Reading time is ceil(words / 150) minutes, at least 1: 150 words a minute is a careful reading
  pace for news copy, and the reference article (566 words) reads as "4 min read".
- The standfirst is the first paragraph (the first block of the text split on blank lines, its
  whitespace collapsed). A paragraph of at most `limit` characters is returned whole; a longer one
  is cut at the last word boundary that leaves room for a three-character ellipsis (the result is
  at most `limit - 3` characters, the ellipsis is left to the renderer), then trailing whitespace
  and a dangling comma are removed. A single word longer than that is cut hard.
- Bidirectional embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069) are
  removed from titles and names (`strip_bidi_controls`): in a one-line field they only serve to
  make text read differently from what it is ("moc.elgoog" shown as "google.com"), and an
  unterminated one reorders whatever a page or reader prints after it. Zero-width joiners
  (U+200D) and the plain direction marks (U+200E, U+200F) stay: emoji sequences and several
  scripts need the joiner, and marks cannot override anything.
- The content hash is the SHA-256 (hex) of the text with all whitespace runs collapsed to one
  space and the ends stripped: re-flowing the same words does not count as a correction.
"""

from __future__ import annotations

import hashlib
import math
import re

WORDS_PER_MINUTE = 150
ELLIPSIS_ROOM = 3

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v\xa0]*\n")


# A whole token (as `str.split` cuts them) of only non-alphanumeric characters: "—", "•", "$", "__".
_NO_LETTER_OR_DIGIT_TOKEN = re.compile(r"(?<!\S)(?:[^\w\s]|_)+(?!\S)")


# For ASCII text, in bytes: the characters `str.split` cuts at (\x1c-\x1f too, which
# `bytes.split` keeps) become spaces, and every character other than a letter or digit goes.
_ASCII_SPACES = bytes(0x20 if chr(code).isspace() else code for code in range(256))
_ASCII_NOT_ALNUM = bytes(code for code in range(128) if not chr(code).isalnum() and not chr(code).isspace())


def count_words(text: str) -> int:
    """Number of whitespace-separated tokens that contain a letter or a digit."""
    if text.isascii():
        # With everything but letters, digits and whitespace deleted, a punctuation-only token
        # is gone and any other is left non-empty, in place: one C pass and a split.
        return len(text.encode("ascii").translate(_ASCII_SPACES, _ASCII_NOT_ALNUM).split())
    # All tokens minus the punctuation-only ones: two C-level passes instead of a Python loop.
    return len(text.split()) - len(_NO_LETTER_OR_DIGIT_TOKEN.findall(text))


def reading_minutes(words: int) -> int:
    """Minutes to read `words` words: ceil(words / 150), and never less than 1."""
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


def first_paragraph(text: str) -> str:
    """The first non-empty block of `text` (blocks are separated by blank lines), whitespace collapsed."""
    for block in _PARAGRAPH_BREAK.split(text):
        collapsed = " ".join(block.split())
        if collapsed:
            return collapsed
    return ""


def make_standfirst(text: str, limit: int = 200) -> str:
    """The first paragraph, whole if it fits in `limit`, else cut on a word boundary to `limit - 3`."""
    paragraph = first_paragraph(text)
    if len(paragraph) <= limit:
        return paragraph
    room = max(limit - ELLIPSIS_ROOM, 0)
    # Looking one character past the room tells whether the cut falls exactly between two words.
    window = paragraph[: room + 1]
    boundary = window.rfind(" ")
    cut = paragraph[:boundary] if boundary > 0 else paragraph[:room]
    cut = cut.rstrip()
    if cut.endswith(","):
        cut = cut[:-1].rstrip()
    return cut


_BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def strip_bidi_controls(text: str) -> str:
    """`text` without bidirectional embeddings, overrides and isolates (U+202A-E, U+2066-9)."""
    return text.translate(_BIDI_CONTROLS)


# A run of two or more spaces, in bytes (`content_hash`'s ASCII path).
_SPACE_RUN = re.compile(rb"  +")


def content_hash(text: str) -> str:
    """SHA-256 hex digest of `text` with whitespace normalised (detects corrections, not re-flows)."""
    if text.isascii():
        # `" ".join(text.split())` in bytes without a list of ~400 words: every character
        # `str.split` cuts at becomes a space, the ends are stripped and each run of spaces is
        # made one (about 10 µs against 16 for a 2 KB text). The same bytes, so the same digest.
        spaced = text.encode("ascii").translate(_ASCII_SPACES).strip(b" ")
        return hashlib.sha256(_SPACE_RUN.sub(b" ", spaced)).hexdigest()
    normalised = " ".join(text.split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()

"""feedparser's pattern for the XML declaration's encoding, in linear time.

feedparser (`feedparser.encodings.convert_to_utf8`) finds a document's declared encoding with
`RE_XML_PI_ENCODING = ^<\\?.*encoding=['"](.*?)['"].*\\?>`, run on every document. Its greedy `.*`
and the trailing `.*\\?>` backtrack against each other: a first line holding many `encoding="`
and no `?>` after them costs quadratic time (a 28 KB line took 6.8 s of CPU, a 280 KB one about
ten minutes; a feed of up to 5 MB on one line would hold a fetch worker to its timeout).
`FirstLineEncoding.match` gives the same answer by one pass over the first line, and `feeds`
puts it in feedparser's place; the fast path's routing rule reads it too.

What the pattern matches, read off its backtracking: on the first line (`.` stops at a newline),
starting `<?`, the rightmost `encoding=` followed by a quote for which the first quote after
that one (of either kind: the lazy value stops at the first) is followed, somewhere later on the
line, by `?>`. A later quote cannot help where the first fails (the `?>` would have to come even
later), and an occurrence further left is tried only when every one to its right fails.
"""

from __future__ import annotations

from dataclasses import dataclass

_QUOTES = b"'\""


@dataclass(frozen=True, slots=True)
class EncodingMatch:
    """What feedparser reads of the pattern's match: `groups()[0]`, the declared encoding."""

    value: bytes

    def groups(self) -> tuple[bytes]:
        return (self.value,)

    def group(self, index: int = 0) -> bytes:
        if index != 1:
            raise IndexError("only the encoding's group is kept")
        return self.value


class FirstLineEncoding:
    """A drop-in for feedparser's `RE_XML_PI_ENCODING`: `match(data)` is None where the pattern's
    is, and otherwise holds the same group."""

    pattern = b"encoding="

    def match(self, data: bytes) -> EncodingMatch | None:
        if not data.startswith(b"<?"):
            return None
        end = data.find(b"\n")
        line = data if end < 0 else data[:end]
        last_close = line.rfind(b"?>")
        start = len(line)
        while (start := line.rfind(self.pattern, 2, start)) >= 0:
            opening = start + len(self.pattern)
            if opening < len(line) and line[opening] in _QUOTES:
                closing = _first_quote(line, opening + 1)
                if closing >= 0 and last_close >= closing + 1:
                    return EncodingMatch(line[opening + 1 : closing])
        return None


def _first_quote(line: bytes, start: int) -> int:
    found = [i for i in (line.find(b"'", start), line.find(b'"', start)) if i >= 0]
    return min(found) if found else -1


FIRST_LINE_ENCODING = FirstLineEncoding()

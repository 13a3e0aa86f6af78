"""The footer marker patterns after their backtracking fixes match what they matched before.

Runs of spaces made three of them backtrack for tens of seconds a search (a site, or a title,
followed by thousands of spaces and a word; the feed controls both). The fixes are a lookahead
before the end (`attribution_data._END`), one optional group for the punctuation after a site
named first, and possessive runs of spaces around "The post …"'s title. The references below are
the patterns as they were, verbatim.
"""

from __future__ import annotations

import random
import re
import time

import pytest

from newsroom.process import attribution_data as data
from newsroom.process.footer_scan import footers

_GAP = r"[^\S\n]+"
_START = r"(?:\A|(?<=[\n.!?…\])\"”’'»→:;|])|(?<=more)|(?<=reading))" r"[^\S\n]*"
_SITE = r"(?P<site>[^\n]{1,160}?)"
_END = r"(?P<punct>[^\S\n]*[.!。]*)[^\w]*\Z"


def _marker(body: str) -> re.Pattern[str]:
    return re.compile(_START + "(?P<marker>" + body + _GAP + _SITE + ")" + _END, re.IGNORECASE)


REFERENCE = {
    data.MARKER_READ_ORIGINAL: _marker(rf"read{_GAP}(?:the{_GAP})?original{_GAP}(?:article|story){_GAP}(?:on|at)"),
    data.MARKER_APPEARED_FIRST: _marker(
        rf"(?:the|this){_GAP}post(?:[^\S\n]*(?P<title>[^\n]{{1,400}}?))?{_GAP}appeared{_GAP}first{_GAP}(?:on|at)"
    ),
    "republished-after-site": re.compile(
        rf"(?:\A|(?<=\n))[^\S\n]*(?P<marker>(?:first{_GAP}published{_GAP}(?:by|on|at|in){_GAP})?"
        rf"(?P<site>[^\n]{{1,160}}?)[^\S\n]*[,;:.–—-]?[^\S\n]*(?:and{_GAP})?(?:is{_GAP}|was{_GAP})?"
        rf"(?:republished|reprinted){_GAP}(?:here{_GAP})?with(?:{_GAP}the)?{_GAP}permission)" + _END,
        re.IGNORECASE,
    ),
    "via": re.compile(
        rf"(?P<marker>(?:\(|(?:\A|(?<=\n))[^\S\n]*)via{_GAP}(?P<site>[^\n()]{{1,80}}?)[^\S\n]*\)?)" + _END,
        re.IGNORECASE,
    ),
    "source-line": re.compile(
        r"(?:\A|(?<=\n))[^\S\n]*(?P<marker>(?:source|via|h/t)[^\S\n]*:[^\S\n]*" + _SITE + ")" + _END,
        re.IGNORECASE,
    ),
}
CURRENT = {
    data.MARKER_READ_ORIGINAL: data._READ_ORIGINAL,
    data.MARKER_APPEARED_FIRST: data._APPEARED_FIRST,
    "republished-after-site": data.REPUBLISHED_AFTER_SITE,
    "via": data._VIA,
    "source-line": data._SOURCE_LINE,
}

_PIECES = (
    "The post",
    "the post",
    "This post",
    "appeared first on",
    "appeared  first on",
    "Read original article on",
    "read the original story at",
    "republished with permission",
    "reprinted here with the permission",
    "first published by",
    "via",
    "(via",
    "Source:",
    "h/t:",
    "CoinDesk",
    "The Block",
    "Big news",
    "x",
    "and is",
    "was",
    ",",
    ";",
    ".",
    "...",
    "!",
    "。",
    ")",
    "(",
    "—",
    "\u00a0",
    "\n",
    "  ",
    " ",
)


def _groups(match: re.Match[str] | None) -> object:
    return None if match is None else (match.span(), match.groupdict())


def _texts() -> list[str]:
    rng = random.Random(20261203)  # reproducible test data
    texts = []
    for _ in range(6000):
        texts.append(
            "".join(rng.choice(_PIECES) + rng.choice((" ", "", "  ", "\u00a0")) for _ in range(rng.randint(1, 12)))
        )
    return texts


@pytest.mark.parametrize("name", sorted(CURRENT))
def test_each_marker_pattern_matches_as_it_did(name: str) -> None:
    matched = 0
    for text in _texts():
        for pos in (0, text.rfind("\n") + 1):
            old, new = REFERENCE[name].search(text, pos), CURRENT[name].search(text, pos)
            if name == data.MARKER_APPEARED_FIRST and old is not None and new is not None:
                old_groups, new_groups = old.groupdict(), new.groupdict()
                # The one difference: a title of spaces only is now no title.
                if old_groups["title"] is not None and not old_groups["title"].strip() and new_groups["title"] is None:
                    old_groups["title"] = None
                assert (old.span(), old_groups) == (new.span(), new_groups), text
            else:
                assert _groups(old) == _groups(new), text
            matched += old is not None
    assert matched > 200  # the generated lines do hold markers


@pytest.mark.parametrize(
    "tail",
    [
        "The post Big news appeared first on CoinDesk" + " " * 3_900 + "x",
        "The post" + " " * 3_900 + "x",
        "The post" + "\u00a0" * 3_900 + ".",
        "Read original article on CoinDesk" + " " * 3_900 + "x",
        "CoinDesk, republished" + " " * 3_900 + "x",
    ],
)
def test_a_marker_before_thousands_of_spaces_is_scanned_at_once(tail: str) -> None:
    """A feed controls the spaces: each of these took `re` 20-45 s a pattern before."""
    html = f"<p>Body of the story, original reporting.</p><p>{tail}</p>"
    started = time.monotonic()
    list(footers(html, data.PATTERNS, (*data.TRIGGER_WORDS, "post")))
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"{elapsed:.1f} s"  # ~0.1 s now; generous for a loaded machine


# The embedded-tag patterns as they were (one pattern a tag, keyword included), verbatim.
_OLD_TAGS = {
    "canonical link": (
        re.compile(r"<link\b[^<>]*\brel\s*=\s*[\"']?canonical\b[^<>]*>", re.IGNORECASE),
        data.LINK_TAG,
        data.CANONICAL_REL,
    ),
    "source meta": (
        re.compile(
            r"<meta\b[^<>]*\b(?:name|property)\s*=\s*[\"']?(?:syndication-source|original-source)\b[^<>]*>",
            re.IGNORECASE,
        ),
        data.META_TAG,
        data.SOURCE_NAME,
    ),
}
_OPENERS = ("<link", "<LINK", "<meta", "<Meta", "<linked", "<p", "</p", "text ", "<")
_ATTRIBUTES = (
    "rel=canonical", 'rel="canonical"', "rel = 'canonical'", "REL=Canonical", "rel=canonicals", "rel=alternate",
    "name=syndication-source", 'property="original-source"', "name=original-sources", "data-rel=canonical",
    "href=https://a.example/", 'content="https://b.example/"', "x", "=", '"', "<", ">", "",
)  # fmt: skip


def _tag_soup(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 5)):
        parts.append(rng.choice(_OPENERS))
        for _ in range(rng.randint(0, 5)):
            parts.append(rng.choice((" ", "  ", "\n", "")) + rng.choice(_ATTRIBUTES))
        parts.append(rng.choice((">", "/>", " >", "", "", "text")))
    return "".join(parts)


@pytest.mark.parametrize("name", sorted(_OLD_TAGS))
def test_each_embedded_tag_is_found_as_before(name: str) -> None:
    """The tag found first, then its keyword within it: the tags the one pattern found, in order."""
    old, tags, naming = _OLD_TAGS[name]
    rng = random.Random(20261204)  # reproducible test data
    found = 0
    for _ in range(20_000):
        html = _tag_soup(rng)
        before = [m.group() for m in old.finditer(html)]
        assert before == [t.group() for t in tags.finditer(html) if naming.search(t.group())], html
        found += bool(before)
    assert found > 500  # the generated soups do hold such tags

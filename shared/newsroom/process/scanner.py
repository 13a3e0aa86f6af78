"""A big alternation of regexes, scanned fast: `Dispatcher` gives the same matches as
`re.compile(prefix + "(?:" + "|".join(alternatives) + ")" + suffix).finditer`, dispatched on the
text's first characters at each word start.

Python's `re` tries every alternative of an alternation at every word start, so one pass of the
~60-term category scanner costs ~1 ms on a 3 KB article. Here each alternative's possible first
characters are read from its parsed form, and at each word start only the alternatives that can
begin with the text's next characters are tried, in their original order (so the leftmost-first,
non-overlapping semantics of `finditer` are unchanged: an alternative left out could not have
matched there anyway).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from re import _constants as _sre  # type: ignore[attr-defined]
from re import _parser as _sre_parser  # type: ignore[attr-defined]
from typing import Any

__all__ = ["Dispatcher"]

_PREFIX_CHARS = 3
_MAX_CLASS_CHARS = 64
_MAX_CACHED_KEYS = 50_000
# A prefix is a sequence of (character, case-insensitive) pairs; `complete` says the parsed
# element ended there, so the next element may extend the prefix.
_Prefix = tuple[tuple[str, bool], ...]
_Options = set[tuple[_Prefix, bool]]


def _sequence_options(items: Any, ignorecase: bool, limit: int = _PREFIX_CHARS) -> _Options:
    partial: _Options = {((), True)}
    for op, av in items:
        if not any(complete for _, complete in partial):
            break
        options = _item_options(op, av, ignorecase, limit)
        extended: _Options = set()
        for prefix, complete in partial:
            if not complete:
                extended.add((prefix, False))
                continue
            for more, more_complete in options:
                joined = prefix + more
                extended.add((joined[:limit], more_complete and len(joined) < limit))
        partial = extended
    return partial


def _item_options(op: Any, av: Any, ignorecase: bool, limit: int) -> _Options:
    def chars(characters: Iterable[str]) -> _Options:
        return {(((ch.lower(), True),) if ignorecase else ((ch, False),), True) for ch in characters}

    if op is _sre.LITERAL:
        return chars(chr(av))
    if op is _sre.IN:
        members: list[str] = []
        for member_op, member in av:
            if member_op is _sre.LITERAL:
                members.append(chr(member))
            elif member_op is _sre.RANGE and member[1] - member[0] < _MAX_CLASS_CHARS:
                members.extend(chr(code) for code in range(member[0], member[1] + 1))
            else:  # \w, \s, negated classes: anything may follow, the prefix stops here
                return {((), False)}
        return chars(members) if len(members) <= _MAX_CLASS_CHARS else {((), False)}
    if op is _sre.SUBPATTERN:
        _group, add_flags, del_flags, items = av
        scoped = (ignorecase or bool(add_flags & re.IGNORECASE)) and not del_flags & re.IGNORECASE
        return _sequence_options(items, scoped, limit)
    if op is _sre.BRANCH:
        union: _Options = set()
        for items in av[1]:
            union |= _sequence_options(items, ignorecase, limit)
        return union
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
        low, high, items = av
        once = _sequence_options(items, ignorecase, limit)
        if high != 1:  # after one repetition another may follow: the prefix stops there
            once = {(prefix, False) for prefix, _ in once}
        return once | {((), True)} if low == 0 else once
    if op in (_sre.ASSERT, _sre.ASSERT_NOT, _sre.AT):
        return {((), True)}  # zero-width
    return {((), False)}  # anything else: unknown, the prefix stops here


def _compatible(prefix: _Prefix, key: str) -> bool:
    for (expected, ignorecase), actual in zip(prefix, key, strict=False):
        if (actual.lower() if ignorecase else actual) != expected:
            return False
    return True


# Word starts are screened in C before any Python runs: a run of [\w$] is looked at only when
# its first `_CANDIDATE_CHARS` characters can begin some alternative (read, like the dispatch
# keys, from the parsed alternatives) or when it starts with a non-ASCII letter. Most words
# of an article begin no term, so most of them never reach the per-word Python code.
_CANDIDATE_CHARS = 6
_ASCII = tuple(map(chr, range(128)))
_OTHER = ""  # stands for every non-ASCII character in a `_Classes` set
# For each position of a prefix, the characters a text may have there.
_Classes = tuple[frozenset[str], ...]


def _prefix_classes(prefix: _Prefix) -> _Classes:
    """For each position of `prefix`, the characters a text may have there for an alternative
    with that prefix to match. A superset: after the first character a position also admits
    any non-ASCII character (`re.IGNORECASE` folds K, ſ, ı, İ onto ASCII letters, and the
    dispatch then keys on the first character alone), and a non-ASCII expected character ends
    the prefix (anything may stand there). A non-ASCII first character is always admitted
    anyway (it goes to `full`), so the first position holds ASCII characters only."""
    classes: list[frozenset[str]] = []
    for depth, (expected, ignorecase) in enumerate(prefix):
        if not (len(expected) == 1 and expected.isascii()):
            break
        chars = {ch for ch in _ASCII if (ch.lower() if ignorecase else ch) == expected}
        classes.append(frozenset(chars if depth == 0 else chars | {_OTHER}))
    return tuple(classes)


def _class_source(chars: Iterable[str]) -> str:
    ordered = sorted(chars)
    if len(ordered) == 1 and ordered[0] != _OTHER:
        return re.escape(ordered[0])  # a literal: `re` tries a branch starting with one cheapest
    ascii_class = "[" + "".join(re.escape(ch) for ch in ordered if ch != _OTHER) + "]"
    if _OTHER not in ordered:
        return ascii_class
    # Any non-ASCII character, case-sensitively: under IGNORECASE a class holding the range
    # \x80-\U0010ffff makes `re` work out every case equivalent of a million code points, 6-8 ms
    # per class and seconds per import; the text's non-ASCII characters are admitted all the same.
    return "(?:" + ascii_class + "|(?-i:[^\\x00-\\x7f]))" if len(ordered) > 1 else "(?-i:[^\\x00-\\x7f])"


def _candidate_source(sequences: frozenset[_Classes], memo: dict[frozenset[_Classes], str]) -> str:
    """A regex (for a lookahead) matching the text that starts like one of `sequences`. Built
    as a deterministic trie, so `re` enters at most one branch per character, with characters
    whose continuations are the same sharing one branch (so "[Tt]" not "T|t")."""
    if () in sequences:
        return ""  # a whole prefix ends here: whatever follows is admitted
    cached = memo.get(sequences)
    if cached is not None:
        return cached
    alphabet = sorted({ch for sequence in sequences for ch in sequence[0]})
    by_rest: dict[str, list[str]] = {}
    for ch in alphabet:
        rest = frozenset(sequence[1:] for sequence in sequences if ch in sequence[0])
        by_rest.setdefault(_candidate_source(rest, memo), []).append(ch)
    branches = [_class_source(chars) + rest for rest, chars in by_rest.items()]
    source = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    memo[sequences] = source
    return source


class Dispatcher:
    """`finditer` of `prefix(?:alt0|alt1|...)suffix`, trying only the alternatives that can start
    where the text is. `prefix` must be `(?<![\\w$])` (every match starts a run of [\\w$]) and every
    alternative must start with an ASCII character; both are checked here."""

    _RUN = re.compile(r"[\w$]+")

    def __init__(self, alternatives: Sequence[tuple[str, str]], flags: int, prefix: str, suffix: str) -> None:
        if prefix != r"(?<![\w$])":
            raise ValueError("matches must start where a run of [\\w$] starts")
        self._alternatives = tuple(alternatives)
        self._flags = flags
        self._prefix = prefix
        self._suffix = suffix
        self._prefixes: list[set[_Prefix]] = []
        candidates: set[_Classes] = set()
        for _name, pattern in self._alternatives:
            parsed = _sre_parser.parse(pattern, flags)
            options = _sequence_options(parsed, bool(flags & re.IGNORECASE))
            prefixes = {p for p, _ in options}
            if any(not p or not p[0][0].isascii() or not re.match(r"[\w$]", p[0][0]) for p in prefixes):
                raise ValueError(f"an alternative must start with an ASCII word character or '$': {pattern}")
            self._prefixes.append(prefixes)
            for candidate, _ in _sequence_options(parsed, bool(flags & re.IGNORECASE), _CANDIDATE_CHARS):
                candidates.add(_prefix_classes(candidate))
        # From `start`, skip the rest of a run begun before it, then every run that can begin no
        # alternative and does not start with a non-ASCII letter: its end is the next run to try.
        # Possessive: the runs are maximal, so nothing is gained by backtracking into them.
        can_begin = _candidate_source(frozenset(candidates), {})
        self._skip = re.compile(rf"(?:(?<=[\w$])[\w$]*+)?+[^\w$]*+(?:(?!{can_begin}|[^\W\x00-\x7f])[\w$]++[^\w$]*+)*+")
        self.full = self._compile(range(len(self._alternatives)))
        self._by_key: dict[str, re.Pattern[str] | None] = {}
        self._by_members: dict[tuple[int, ...], re.Pattern[str]] = {}

    def _compile(self, members: Iterable[int]) -> re.Pattern[str]:
        body = "|".join(f"(?P<{self._alternatives[i][0]}>{self._alternatives[i][1]})" for i in members)
        return re.compile(f"{self._prefix}(?:{body}){self._suffix}", self._flags)

    def _for_key(self, key: str) -> re.Pattern[str] | None:
        members = tuple(i for i, prefixes in enumerate(self._prefixes) if any(_compatible(p, key) for p in prefixes))
        scanner = None
        if members:
            scanner = self._by_members.get(members)
            if scanner is None:
                scanner = self._by_members[members] = self._compile(members)
        if len(self._by_key) >= _MAX_CACHED_KEYS:  # keys come from the text: keep memory bounded
            self._by_key.clear()
        self._by_key[key] = scanner
        return scanner

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        # The same matches as a loop over every run of [\w$] (skipping runs that start inside
        # the last match), but only the runs `_skip` stops at get here: the others cannot
        # begin a match, so leaving them out changes nothing.
        by_key = self._by_key
        skip = self._skip.match
        length = len(text)
        pos = 0
        while True:
            start = skip(text, pos).end()  # type: ignore[union-attr]  # everything in it is optional
            if start >= length:
                return
            key = text[start : start + _PREFIX_CHARS]
            if key.isascii():
                scanner = by_key[key] if key in by_key else self._for_key(key)
            elif key[0].isascii():
                key = key[0]
                scanner = by_key[key] if key in by_key else self._for_key(key)
            else:  # a non-ASCII letter may still case-fold to an ASCII one (K, ſ, İ, ı)
                scanner = self.full
            match = scanner.match(text, start) if scanner is not None else None
            if match is not None:
                pos = match.end()
                yield match
            else:
                pos = start + 1  # inside this run: `_skip` goes on from its end

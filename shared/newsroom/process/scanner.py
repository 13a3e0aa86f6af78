"""Several big alternations of regexes (term groups: category terms, coin names and tickers),
scanned in one pass: `Scanner.scan` walks a text once and, at each word start, tries every
group's alternatives there with one compiled pattern, returning the matches tagged by group.
`Scanner.finditer(text, group)` — the scan, kept non-overlapping within the group — gives the
same matches as that group's own `re.compile(prefix + "(?:" + "|".join(alternatives) + ")" +
suffix, flags).finditer` (`Scanner.full[group]`), so each group keeps its own case rules.

Python's `re` tries every alternative of an alternation at every word start, so one pass of the
~60-term category alternation costs ~1 ms on a 3 KB article. Here each alternative's possible
first characters are read from its parsed form; the word starts that can begin no alternative of
any group are skipped in C, and at the others only the alternatives that can begin with the
text's next characters are tried, in their original order (so the leftmost-first semantics are
unchanged: an alternative left out could not have matched there anyway). Each group's
alternatives sit in their own lookahead, so one group's match never hides another's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from re import _constants as _sre  # type: ignore[attr-defined]
from re import _parser as _sre_parser  # type: ignore[attr-defined]
from typing import Any

__all__ = ["Group", "Match", "Scanner"]

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


@dataclass(frozen=True, slots=True)
class Group:
    """One alternation: named alternatives, the flags it is compiled with (0 or
    `re.IGNORECASE`) and the suffix every match must satisfy (a lookahead, such as `(?!\\w)`)."""

    name: str
    alternatives: Sequence[tuple[str, str]]
    flags: int
    suffix: str


# (group index, alternative name, start, end)
Match = tuple[int, str, int, int]
# A compiled pattern for one dispatch key; for each of its capturing groups (in order) the term
# group and alternative name it stands for; whether it holds one term group only.
_Entry = tuple[re.Pattern[str], tuple[tuple[int, int, str], ...], bool]

PREFIX = r"(?<![\w$])"


def _lookbehind_width(items: Any) -> int:
    """The furthest any lookbehind in a parsed pattern looks back (0 when there is none)."""
    widest = 0
    for op, av in items:
        if op in (_sre.ASSERT, _sre.ASSERT_NOT):
            direction, inner = av
            if direction < 0:
                widest = max(widest, inner.getwidth()[1])
            widest = max(widest, _lookbehind_width(inner))
        elif op is _sre.SUBPATTERN:
            widest = max(widest, _lookbehind_width(av[3]))
        elif op is _sre.BRANCH:
            widest = max([widest, *(_lookbehind_width(branch) for branch in av[1])])
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
            widest = max(widest, _lookbehind_width(av[2]))
    return widest


class Scanner:
    """One pass over a text for several `Group`s. Every match starts where a run of [\\w$]
    starts (the groups share the prefix `(?<![\\w$])`), and every alternative must start with
    an ASCII character and hold no capturing group; both are checked here."""

    _RUN = re.compile(r"[\w$]+")

    def __init__(self, groups: Sequence[Group]) -> None:
        self.groups = tuple(groups)
        # Every alternative of every group, in order: (group index, name, pattern in its
        # group's case rule, the prefixes it can start with).
        self._alternatives: list[tuple[int, str, str, set[_Prefix]]] = []
        self.lookbehind: list[int] = []  # per group: how far its patterns look back
        candidates: set[_Classes] = set()
        for index, group in enumerate(self.groups):
            ignorecase = bool(group.flags & re.IGNORECASE)
            if group.flags & ~re.IGNORECASE:
                raise ValueError(f"only re.IGNORECASE is supported: {group.name}")
            widest = 0
            for name, pattern in group.alternatives:
                parsed = _sre_parser.parse(pattern, group.flags)
                if parsed.state.groups > 1:
                    raise ValueError(f"an alternative must hold no capturing group: {pattern}")
                options = _sequence_options(parsed, ignorecase)
                prefixes = {p for p, _ in options}
                if any(not p or not p[0][0].isascii() or not re.match(r"[\w$]", p[0][0]) for p in prefixes):
                    raise ValueError(f"an alternative must start with an ASCII word character or '$': {pattern}")
                scoped = f"(?i:{pattern})" if ignorecase else pattern
                self._alternatives.append((index, name, scoped, prefixes))
                for candidate, _ in _sequence_options(parsed, ignorecase, _CANDIDATE_CHARS):
                    candidates.add(_prefix_classes(candidate))
                widest = max(widest, _lookbehind_width(parsed))
            self.lookbehind.append(widest)
        # From `start`, skip the rest of a run begun before it, then every run that can begin no
        # alternative and does not start with a non-ASCII letter: its end is the next run to try.
        # Possessive: the runs are maximal, so nothing is gained by backtracking into them.
        can_begin = _candidate_source(frozenset(candidates), {})
        self._skip = re.compile(rf"(?:(?<=[\w$])[\w$]*+)?+[^\w$]*+(?:(?!{can_begin}|[^\W\x00-\x7f])[\w$]++[^\w$]*+)*+")
        self._everything = self._compile(range(len(self._alternatives)))
        self._by_key: dict[str, _Entry | None] = {}
        self._by_members: dict[tuple[int, ...], _Entry] = {}
        # Each group alone, as one alternation: the reference its matches are tested against.
        self.full = tuple(
            re.compile(
                f"{PREFIX}(?:" + "|".join(f"(?P<{n}>{p})" for n, p in group.alternatives) + f"){group.suffix}",
                group.flags,
            )
            for group in self.groups
        )

    def _compile(self, members: Iterable[int]) -> _Entry:
        """One pattern for `members`. When they all belong to one group (most keys: few words
        begin both a category term and a coin) it is that group's plain alternation, which fails
        fast and names its alternative by `lastindex`; otherwise each group's alternation sits
        in an optional lookahead, so both are tried at the same start."""
        chosen = [self._alternatives[i] for i in members]
        parts: list[str] = []
        names: list[tuple[int, int, str]] = []
        groups = sorted({g for g, _, _, _ in chosen})
        for index in groups:
            mine = [(name, pattern) for g, name, pattern, _ in chosen if g == index]
            body = "|".join(f"({pattern})" for _, pattern in mine)
            suffix = self.groups[index].suffix
            parts.append(f"(?:{body}){suffix}" if len(groups) == 1 else f"(?=(?:{body}){suffix})?")
            names.extend((len(names) + 1, index, name) for name, _ in mine)
        return re.compile(PREFIX + "".join(parts)), tuple(names), len(groups) == 1

    def _for_key(self, key: str) -> _Entry | None:
        members = tuple(
            i for i, (_, _, _, prefixes) in enumerate(self._alternatives) if any(_compatible(p, key) for p in prefixes)
        )
        entry = None
        if members:
            entry = self._by_members.get(members)
            if entry is None:
                entry = self._by_members[members] = self._compile(members)
        if len(self._by_key) >= _MAX_CACHED_KEYS:  # keys come from the text: keep memory bounded
            self._by_key.clear()
        self._by_key[key] = entry
        return entry

    def scan(self, text: str, pos: int = 0, stop: int | None = None) -> list[Match]:
        """Every group's match at every word start from `pos` up to (not including) `stop`:
        at each start, each group's first alternative (in its order) that matches there.
        Matches of one group may overlap; `first_fit` keeps the ones `finditer` would."""
        found: list[Match] = []
        by_key = self._by_key
        skip = self._skip.match
        length = len(text) if stop is None else min(stop, len(text))
        while True:
            start = skip(text, pos).end()  # type: ignore[union-attr]  # everything in it is optional
            if start >= length:
                return found
            key = text[start : start + _PREFIX_CHARS]
            if key.isascii():
                entry = by_key[key] if key in by_key else self._for_key(key)
            elif key[0].isascii():
                key = key[0]
                entry = by_key[key] if key in by_key else self._for_key(key)
            else:  # a non-ASCII letter may still case-fold to an ASCII one (K, ſ, İ, ı)
                entry = self._everything
            if entry is not None:
                match = entry[0].match(text, start)
                if match is None:
                    pass
                elif entry[2]:  # one group: its alternation's match
                    _, group, name = entry[1][match.lastindex - 1]  # type: ignore[operator]
                    found.append((group, name, match.start(), match.end()))
                else:
                    spans = match.regs
                    done = -1
                    for number, group, name in entry[1]:
                        if group != done:
                            begin, end = spans[number]
                            if begin >= 0:
                                found.append((group, name, begin, end))
                                done = group
            pos = start + 1  # inside this run: `_skip` goes on from its end

    def finditer(self, text: str, group: int) -> Iterator[Match]:
        """`group`'s matches in `text`, as its own alternation's `finditer` finds them."""
        return iter(first_fit(self.scan(text), group))


def first_fit(matches: Iterable[Match], group: int, pos: int = 0) -> list[Match]:
    """`group`'s matches among `matches` (in text order) that `finditer` from `pos` keeps: each
    one starting at or after the end of the one kept before it."""
    kept: list[Match] = []
    for match in matches:
        if match[0] == group and match[2] >= pos:
            kept.append(match)
            pos = match[3]
    return kept

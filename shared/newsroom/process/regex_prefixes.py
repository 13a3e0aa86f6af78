"""What a regex can begin with and which plain words it spells, read from `re`'s parsed form
(`re._parser`): the prefixes, character classes and finite word lists the term scanner
(`newsroom.process.scanner`) builds its dispatch, its C-level screen and its word table from.
Pure functions of a parsed pattern; nothing here runs per text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from re import _constants as _sre  # type: ignore[attr-defined]
from typing import Any

PREFIX_CHARS = 3
_MAX_CLASS_CHARS = 64
# A prefix is a sequence of (character, case-insensitive) pairs; `complete` says the parsed
# element ended there, so the next element may extend the prefix.
Prefix = tuple[tuple[str, bool], ...]
_Options = set[tuple[Prefix, bool]]


# In a prefix, a character outside [\w$] (any of them): two characters, so it equals none.
_SEPARATOR = "\\s"
_RUN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")


def _separator_only(op: Any, av: Any) -> bool:
    """Whether a class member matches only characters outside [\\w$]."""
    if op is _sre.CATEGORY:
        return av in (_sre.CATEGORY_SPACE, _sre.CATEGORY_NOT_WORD)
    return op is _sre.LITERAL and not re.fullmatch(r"[\w$]", chr(av))


def sequence_options(items: Any, ignorecase: bool, limit: int = PREFIX_CHARS, separators: bool = False) -> _Options:
    partial: _Options = {((), True)}
    for op, av in items:
        if not any(complete for _, complete in partial):
            break
        options = _item_options(op, av, ignorecase, limit, separators)
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


def _item_options(op: Any, av: Any, ignorecase: bool, limit: int, separators: bool = False) -> _Options:
    """With `separators`, a class of characters outside [\\w$] only (such as \\s) stands as
    `_SEPARATOR` in a prefix."""

    def chars(characters: Iterable[str]) -> _Options:
        return {(((ch.lower(), True),) if ignorecase else ((ch, False),), True) for ch in characters}

    if op is _sre.LITERAL:
        return chars(chr(av))
    if op is _sre.IN:
        if separators and all(_separator_only(member_op, member) for member_op, member in av):
            return {(((_SEPARATOR, False),), True)}
        members = _class_members(av)
        if members is None:  # \w, \s, negated classes: anything may follow, the prefix stops here
            return {((), False)}
        return chars(members) if len(members) <= _MAX_CLASS_CHARS else {((), False)}
    if op is _sre.SUBPATTERN:
        _group, add_flags, del_flags, items = av
        scoped = (ignorecase or bool(add_flags & re.IGNORECASE)) and not del_flags & re.IGNORECASE
        return sequence_options(items, scoped, limit, separators)
    if op is _sre.BRANCH:
        union: _Options = set()
        for items in av[1]:
            union |= sequence_options(items, ignorecase, limit, separators)
        return union
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
        low, high, items = av
        once = sequence_options(items, ignorecase, limit, separators)
        if high != 1:  # after one repetition another may follow: the prefix stops there
            once = {(prefix, False) for prefix, _ in once}
        return once | {((), True)} if low == 0 else once
    if op in (_sre.ASSERT, _sre.ASSERT_NOT, _sre.AT):
        return {((), True)}  # zero-width
    return {((), False)}  # anything else: unknown, the prefix stops here


def compatible(prefix: Prefix, key: str) -> bool:
    for (expected, ignorecase), actual in zip(prefix, key, strict=False):
        if (actual.lower() if ignorecase else actual) != expected:
            return False
    return True


def fits_run(prefix: Prefix, complete: bool, run: str) -> bool:
    """Whether a match with `prefix` (`complete`: the pattern ends with it) can start a run of
    [\\w$] that is `run`, whole: the characters they share agree; the character after the run,
    outside [\\w$], is no letter, digit, "_" or "$" the prefix expects; and a pattern ending
    inside the run fails the suffix, which wants no word character after a match."""
    if not compatible(prefix, run):
        return False
    if len(prefix) > len(run):
        return prefix[len(run)][0] not in _RUN_CHARS
    return not (complete and len(prefix) < len(run))


_ASCII = tuple(map(chr, range(128)))
OTHER = ""  # stands for every non-ASCII character in a `Classes` set
# For each position of a prefix, the characters a text may have there.
Classes = tuple[frozenset[str], ...]


def prefix_classes(prefix: Prefix) -> Classes:
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
        classes.append(frozenset(chars if depth == 0 else chars | {OTHER}))
    return tuple(classes)


def _class_source(chars: Iterable[str]) -> str:
    ordered = sorted(chars)
    if len(ordered) == 1 and ordered[0] != OTHER:
        return re.escape(ordered[0])  # a literal: `re` tries a branch starting with one cheapest
    ascii_class = "[" + "".join(re.escape(ch) for ch in ordered if ch != OTHER) + "]"
    if OTHER not in ordered:
        return ascii_class
    # Any non-ASCII character, case-sensitively: under IGNORECASE a class holding the range
    # \x80-\U0010ffff makes `re` work out every case equivalent of a million code points, 6-8 ms
    # per class and seconds per import; the text's non-ASCII characters are admitted all the same.
    return "(?:" + ascii_class + "|(?-i:[^\\x00-\\x7f]))" if len(ordered) > 1 else "(?-i:[^\\x00-\\x7f])"


def candidate_source(sequences: frozenset[Classes], memo: dict[frozenset[Classes], str]) -> str:
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
        by_rest.setdefault(candidate_source(rest, memo), []).append(ch)
    branches = [_class_source(chars) + rest for rest, chars in by_rest.items()]
    source = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    memo[sequences] = source
    return source


_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_MAX_WORDS = 256  # an alternative spelling out more words than this is left to its regex
_MAX_REPEAT_WORDS = 3
_Word = tuple[tuple[str, bool], ...]  # characters, each with whether it is case-insensitive


def finite(items: Any, ignorecase: bool) -> list[_Word] | None:
    """Every string a parsed sequence matches, when it is a short finite list of literal
    characters (no class escapes, assertions or open repeats); None otherwise."""
    words: list[_Word] = [()]
    for op, av in items:
        options = _finite_item(op, av, ignorecase)
        if options is None:
            return None
        words = [word + more for word in words for more in options]
        if len(words) > _MAX_WORDS:
            return None
    return words


def _class_members(av: Any) -> list[str] | None:
    """The characters a parsed class [...] holds, when it lists them (literals and short
    ranges); None for a class escape (\\w, \\s), a negated class or a long range."""
    members: list[str] = []
    for member_op, member in av:
        if member_op is _sre.LITERAL:
            members.append(chr(member))
        elif member_op is _sre.RANGE and member[1] - member[0] < _MAX_CLASS_CHARS:
            members.extend(chr(code) for code in range(member[0], member[1] + 1))
        else:
            return None
    return members


def _finite_item(op: Any, av: Any, ignorecase: bool) -> list[_Word] | None:
    if op is _sre.LITERAL:
        return [((chr(av), ignorecase),)]
    if op is _sre.IN:
        chars = _class_members(av)
        return None if chars is None else [((ch, ignorecase),) for ch in chars]
    if op is _sre.SUBPATTERN:
        _group, add_flags, del_flags, items = av
        scoped = (ignorecase or bool(add_flags & re.IGNORECASE)) and not del_flags & re.IGNORECASE
        return finite(items, scoped)
    if op is _sre.BRANCH:
        union: list[_Word] = []
        for items in av[1]:
            words = finite(items, ignorecase)
            if words is None:
                return None
            union.extend(words)
        return union
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
        low, high, items = av
        once = finite(items, ignorecase)
        if once is None or high > _MAX_REPEAT_WORDS:
            return None
        result: list[_Word] = []
        for count in range(low, high + 1):
            repeated: list[_Word] = [()]
            for _ in range(count):
                repeated = [word + more for word in repeated for more in once]
            result.extend(repeated)
        return result
    return None  # assertions, anchors, class escapes: not a plain word


def as_word(word: _Word) -> tuple[str, bool] | None:
    """A finite alternative's string as the run of [\\w$] it must equal, lower case when its
    cased characters are all case-insensitive (True) or as written when none is (False); None
    when it is no such run (a phrase, a hyphen) or mixes the two case rules."""
    text = "".join(ch for ch, _ in word)
    body = text[1:] if text.startswith("$") else text
    if not body or not set(body) <= _WORD_CHARS:
        return None
    cased = {ignorecase for ch, ignorecase in word if ch.lower() != ch.upper()}
    if cased == {True}:
        return text.lower(), True
    if not cased or cased == {False}:
        return text, False
    return None


def branches(items: Any, ignorecase: bool) -> list[tuple[Any, bool]]:
    """A parsed alternative's top-level branches, each with its case rule: a match of the
    alternative at a start is that of its first branch matching there."""
    if len(items) == 1:
        op, av = items[0]
        if op is _sre.BRANCH:
            return [branch for items in av[1] for branch in branches(items, ignorecase)]
        if op is _sre.SUBPATTERN and av[0] is None:
            _group, add_flags, del_flags, inner = av
            scoped = (ignorecase or bool(add_flags & re.IGNORECASE)) and not del_flags & re.IGNORECASE
            return branches(inner, scoped)
    return [(items, ignorecase)]


def required_literal(items: Any, ignorecase: bool) -> tuple[str, bool] | None:
    """The longest run of literal characters every match of a parsed sequence holds, with its
    case rule, or None."""
    best = ""
    run = ""
    for op, av in items:
        run = run + chr(av) if op is _sre.LITERAL else ""
        best = max(best, run, key=len)
    return (best, ignorecase) if best else None


def lookbehind_width(items: Any) -> int:
    """The furthest any lookbehind in a parsed pattern looks back (0 when there is none)."""
    widest = 0
    for op, av in items:
        if op in (_sre.ASSERT, _sre.ASSERT_NOT):
            direction, inner = av
            if direction < 0:
                widest = max(widest, inner.getwidth()[1])
            widest = max(widest, lookbehind_width(inner))
        elif op is _sre.SUBPATTERN:
            widest = max(widest, lookbehind_width(av[3]))
        elif op is _sre.BRANCH:
            widest = max([widest, *(lookbehind_width(branch) for branch in av[1])])
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
            widest = max(widest, lookbehind_width(av[2]))
    return widest

"""Several big alternations of regexes (term groups: category terms, coin names and tickers),
scanned in one pass: `Scanner.scan` walks a text once and, at each word start, tries every
group's alternatives there with one compiled pattern, returning the matches tagged by group.
`Scanner.finditer(text, group)` — the scan, kept non-overlapping within the group — gives the
same matches as that group's own `re.compile(prefix + "(?:" + "|".join(alternatives) + ")" +
suffix, flags).finditer` (`Scanner.full[group]`), so each group keeps its own case rules.

Python's `re` tries every alternative of an alternation at every word start, so one pass of the
~60-term category alternation costs ~1 ms on a 3 KB article. `Scanner.scan` decides most word
starts by a table of words (see "the word table" below); `Scanner.scan_runs`, the scan it
replaced and the reference it is tested against, works as follows. Here each alternative's possible
first characters are read from its parsed form; the word starts that can begin no alternative of
any group are skipped in C, and at the others only the alternatives that can begin with the
text's next characters are tried, in their original order (so the leftmost-first semantics are
unchanged: an alternative left out could not have matched there anyway). Each group's
alternatives sit in their own lookahead, so one group's match never hides another's.
"""

from __future__ import annotations

import codecs
import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate, compress
from re import _parser as _sre_parser  # type: ignore[attr-defined]
from typing import Any

from newsroom.process.regex_prefixes import (
    OTHER,
    PREFIX_CHARS,
    Classes,
    Prefix,
    as_word,
    branches,
    candidate_source,
    compatible,
    finite,
    fits_run,
    lookbehind_width,
    prefix_classes,
    required_literal,
    sequence_options,
)

__all__ = ["MAX_KEPT_RUN", "Group", "Match", "Scanner"]

_MAX_CACHED_KEYS = 50_000

# Word starts are screened in C before any Python runs: a run of [\w$] is looked at only when
# its first `_CANDIDATE_CHARS` characters can begin some alternative (read, like the dispatch
# keys, from the parsed alternatives) or when it starts with a non-ASCII letter. Most words
# of an article begin no term, so most of them never reach the per-word Python code.
_CANDIDATE_CHARS = 6

# --- the word table --------------------------------------------------------------------------
# Most alternatives are words ("bitcoins?", "regulat(?:ion|ions|or)", "(?-i:SEC)"): their match
# at a word start is decided by the run of word characters there alone. A text is cut into its
# runs of [\w$] in C; each distinct run is looked up once (per warm process) and told what
# happens at a word start holding it: nothing (most words), a word alternative's match (the run
# itself), a regex to try there (an alternative that is no single word, such as a phrase, can
# begin with it), or the run-skipping scan's dispatch (a run with non-ASCII characters, which
# `re.IGNORECASE` may fold onto ASCII letters, or with a "$" inside it).

# A group's suffix that makes a word alternative match exactly when the run it starts is that word.
_WORD_END_SUFFIXES = frozenset({r"(?!\w)", r"(?![\w])"})
# Runs remembered per table (~1.4 MB when full, measured with tracemalloc on random words; at most
# four tables, one per set of guarded branches left out); a full table starts again.
_MAX_TABLE_RUNS = 20_000
MAX_KEPT_RUN = 64  # longer runs (no term is one, a blob may be) are worked out each time, not kept
_RX_PREFIX_CHARS = 12  # how far the prefixes of a regex alternative are read, to tell words apart
# A regex alternative that can begin this many different prefixes (such as "[A-Z][A-Za-z]+\s+Act",
# any capitalised word) and needs a literal of its own ("Act") is left out of the texts without it.
_GUARD_PREFIXES = 8


@dataclass(frozen=True, slots=True)
class _Words:
    """What the word table knows of one alternative: the runs it matches as a whole (lower
    case, or as written), and the prefixes of its other branches."""

    folded: frozenset[str]
    exact: frozenset[str]
    regex: tuple[Prefix, ...]


# An action at a word start: (group index, alternative name, None) a word alternative's match,
# the run itself; (group index, "", entry) the regex to try there; (-1, "", None) the dispatch
# of the run-skipping scan.
_Action = tuple[int, str, "_Entry | None"]
_DISPATCH: tuple[_Action, ...] = ((-1, "", None),)


class _Table(dict[str, "tuple[_Action, ...] | None"]):
    """A run's actions, worked out the first time the run is seen (with `disabled` regex
    branches left out)."""

    def __init__(self, scanner: Scanner, disabled: frozenset[int]) -> None:
        super().__init__()
        self._scanner = scanner
        self._disabled = disabled

    def __missing__(self, run: str) -> tuple[_Action, ...] | None:
        actions = self._scanner._actions(run, self._disabled)
        if len(run) > MAX_KEPT_RUN:  # a blob (hex, base64) is one run: worked out, not kept
            return actions
        if len(self) >= _MAX_TABLE_RUNS:  # runs come from the text: keep memory bounded
            self.clear()
        self[run] = actions
        return actions


_RUNS = re.compile(r"([\w$]+)").split
_RUN_END = re.compile(r"[\w$]*").match
_NON_ASCII_WORD = "\x01"
_FOLDED_SHARE = 5  # at most one character in 2**5 non-ASCII (counted as UTF-8 bytes past the first)
_WORD = re.compile(r"\w")
_NOT_WORD = re.compile(r"\W")


def _fold(error: UnicodeError) -> tuple[str, int]:
    """Each non-ASCII character as one ASCII one: "\\x01" for a word character (as `re`'s \\w
    reads it), a space for any other."""
    assert isinstance(error, UnicodeEncodeError)
    piece = error.object[error.start : error.end]
    return _WORD.sub(_NON_ASCII_WORD, _NOT_WORD.sub(" ", piece)), error.end


_FOLD = "newsroom.scanner.fold"
codecs.register_error(_FOLD, _fold)
# Bytes of [\w$] (ASCII) and "\x01" stay; every other byte becomes a space.
_SEPARATORS = bytes(
    code if chr(code) == _NON_ASCII_WORD or chr(code) == "$" or re.fullmatch(r"\w", chr(code), re.ASCII) else 0x20
    for code in range(256)
)


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


class Scanner:
    """One pass over a text for several `Group`s. Every match starts where a run of [\\w$]
    starts (the groups share the prefix `(?<![\\w$])`), and every alternative must start with
    an ASCII character and hold no capturing group; both are checked here."""

    def __init__(self, groups: Sequence[Group]) -> None:
        self.groups = tuple(groups)
        # Every alternative of every group, in order: (group index, name, pattern in its
        # group's case rule, the prefixes it can start with).
        self._alternatives: list[tuple[int, str, str, set[Prefix]]] = []
        self.lookbehind: list[int] = []  # per group: how far its patterns look back
        self._parsed: list[tuple[Any, bool]] = []  # each alternative parsed, with its case rule
        for index, group in enumerate(self.groups):
            ignorecase = bool(group.flags & re.IGNORECASE)
            if group.flags & ~re.IGNORECASE:
                raise ValueError(f"only re.IGNORECASE is supported: {group.name}")
            widest = 0
            for name, pattern in group.alternatives:
                parsed = _sre_parser.parse(pattern, group.flags)
                if parsed.state.groups > 1:
                    raise ValueError(f"an alternative must hold no capturing group: {pattern}")
                options = sequence_options(parsed, ignorecase)
                prefixes = {p for p, _ in options}
                if any(not p or not p[0][0].isascii() or not re.match(r"[\w$]", p[0][0]) for p in prefixes):
                    raise ValueError(f"an alternative must start with an ASCII word character or '$': {pattern}")
                scoped = f"(?i:{pattern})" if ignorecase else pattern
                self._alternatives.append((index, name, scoped, prefixes))
                self._parsed.append((parsed, ignorecase))
                widest = max(widest, lookbehind_width(parsed))
            self.lookbehind.append(widest)
        self._by_key: dict[str, _Entry | None] = {}
        self._by_members: dict[tuple[int, ...], _Entry] = {}
        self._words: list[_Words] = []
        self._by_word: dict[str, list[int]] = {}  # a run in lower case: the alternatives it may be
        # A regex branch's first character in lower case: (branch, alternative, prefix, whether
        # a match ends with the prefix and the group's suffix wants a word's end after it).
        self._by_first: dict[str, list[tuple[int, int, Prefix, bool]]] = {}
        self._guards: list[tuple[int, str]] = []  # (regex branch, a literal every match of it holds)
        branch_count = 0
        for index, (group_index, _name, pattern, _prefixes) in enumerate(self._alternatives):
            group = self.groups[group_index]
            ignorecase = bool(group.flags & re.IGNORECASE)
            folded: set[str] = set()
            exact: set[str] = set()
            regex: list[Prefix] = []
            word_end = group.suffix in _WORD_END_SUFFIXES
            for items, case_rule in branches(_sre_parser.parse(pattern, group.flags), ignorecase):
                words = finite(items, case_rule) if word_end else None
                if words is not None:
                    # A branch spelling out strings: the runs are words; any other string (a
                    # phrase, "government's", mixed case rules) is the whole prefix of a match.
                    for word in words:
                        run = as_word(word)
                        if run is None:
                            prefix = tuple((ch.lower() if insensitive else ch, insensitive) for ch, insensitive in word)
                            regex.append(prefix)
                            first = self._by_first.setdefault(prefix[0][0].lower(), [])
                            first.append((branch_count, index, prefix, True))
                            branch_count += 1
                        else:
                            (folded if run[1] else exact).add(run[0])
                            self._by_word.setdefault(run[0].lower(), []).append(index)
                    continue
                branch = branch_count
                branch_count += 1
                options = sequence_options(items, case_rule, _RX_PREFIX_CHARS, separators=True)
                prefixes = {p for p, _ in options}
                regex.extend(prefixes)
                for prefix, complete in options:
                    first = self._by_first.setdefault(prefix[0][0].lower(), [])
                    first.append((branch, index, prefix, complete and word_end))
                literal = required_literal(items, case_rule)
                if literal is not None and len(prefixes) >= _GUARD_PREFIXES:
                    text, folds = literal
                    if not folds or text.lower() == text.upper():
                        self._guards.append((branch, text))
            self._words.append(_Words(frozenset(folded), frozenset(exact), tuple(regex)))
        self._tables: dict[frozenset[int], _Table] = {}

    # Built when first used, not at import (a cold start pays for what it uses): the skip
    # pattern serves `scan_runs`, the one pattern of every alternative a run starting with a
    # non-ASCII letter, and each group's alternation the tests.

    @functools.cached_property
    def _skip(self) -> re.Pattern[str]:
        """From `start`, skip the rest of a run begun before it, then every run that can begin
        no alternative and does not start with a non-ASCII letter: its end is the next run to
        try. Possessive: the runs are maximal, so nothing is gained by backtracking into them."""
        candidates = {classes for by_first in self._candidates.values() for classes in by_first}
        can_begin = candidate_source(frozenset(candidates), {})
        return re.compile(rf"(?:(?<=[\w$])[\w$]*+)?+[^\w$]*+(?:(?!{can_begin}|[^\W\x00-\x7f])[\w$]++[^\w$]*+)*+")

    @functools.cached_property
    def _candidates(self) -> dict[str, frozenset[Classes]]:
        """The character classes an alternative's first `_CANDIDATE_CHARS` characters fall in,
        by first character: what `_skip` reads a run's start against."""
        by_first: dict[str, set[Classes]] = {}
        for parsed, ignorecase in self._parsed:
            for candidate, _ in sequence_options(parsed, ignorecase, _CANDIDATE_CHARS):
                classes = prefix_classes(candidate)
                # An empty sequence (none is expected: every alternative starts with an ASCII
                # character) would let every run through, under "".
                for first in classes[0] if classes else ("",):
                    by_first.setdefault(first, set()).add(classes)
        return {first: frozenset(classes) for first, classes in by_first.items()}

    def _may_begin(self, run: str) -> bool:
        """Whether `_skip` would stop at a run (a non-ASCII character as "\\x01" or itself):
        one starting with a non-ASCII letter, or one whose characters fit some alternative's
        first classes (past its end, any character is taken to fit)."""
        first = run[0]
        if first == _NON_ASCII_WORD or not first.isascii() or "" in self._candidates:
            return True
        return any(
            all(
                ch in chars or ((ch == _NON_ASCII_WORD or not ch.isascii()) and OTHER in chars)
                for ch, chars in zip(run[1:], classes[1:], strict=False)
            )
            for classes in self._candidates.get(first, ())
        )

    @functools.cached_property
    def _everything(self) -> _Entry:
        return self._compile(range(len(self._alternatives)))

    @functools.cached_property
    def full(self) -> tuple[re.Pattern[str], ...]:
        """Each group alone, as one alternation: the reference its matches are tested against."""
        return tuple(
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
            i for i, (_, _, _, prefixes) in enumerate(self._alternatives) if any(compatible(p, key) for p in prefixes)
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

    def _actions(self, run: str, disabled: frozenset[int]) -> tuple[_Action, ...] | None:
        """What happens at a word start holding `run` (a whole run of [\\w$]), for each group:
        the first of its alternatives that can match there decides, in their order. A word
        alternative matches exactly when the run is one of its words (the group's suffix ends
        the match at the run's end); an alternative with a regex branch whose prefix the run
        fits (left out if `disabled`) must be tried at the start, with the ones after it."""
        if not run:
            return None
        if not run.isascii() or "$" in run[1:] or _NON_ASCII_WORD in run:
            # Left to the run-skipping scan's dispatch, when its screen lets the run through.
            return _DISPATCH if self._may_begin(run) else None
        folded = run.lower()
        regex = {
            index
            for branch, index, prefix, complete in self._by_first.get(folded[0], ())
            if branch not in disabled and fits_run(prefix, complete, run)
        }
        candidates = sorted(regex.union(self._by_word.get(folded, ())))
        actions: list[_Action] = []
        decided = -1
        for position, index in enumerate(candidates):
            group, name = self._alternatives[index][:2]
            if group == decided:
                continue
            if index in regex:
                members = tuple(i for i in candidates[position:] if self._alternatives[i][0] == group)
                entry = self._by_members.get(members)
                if entry is None:
                    entry = self._by_members[members] = self._compile(members)
                actions.append((group, "", entry))
                decided = group
            elif folded in self._words[index].folded or run in self._words[index].exact:
                actions.append((group, name, None))
                decided = group
        return tuple(actions) or None

    def scan(self, text: str, pos: int = 0, stop: int | None = None) -> list[Match]:
        """Every group's match at every word start from `pos` up to (not including) `stop`:
        at each start, each group's first alternative (in its order) that matches there.
        Matches of one group may overlap; `first_fit` keeps the ones `finditer` would.

        The text goes through the word table: its runs are cut in C and looked up in a dict,
        and only the runs some alternative can begin reach Python (`scan_runs` is the same scan
        without the table)."""
        if pos or stop is not None:
            return self._scan_part(text, pos, len(text) if stop is None else min(stop, len(text)))
        # Cutting by bytes is ~4x cheaper than by regex, but each stretch of non-ASCII
        # characters costs a Python call: texts with many go through the regex.
        # A "\x01" of the text's own would join the runs around it in the folded cut; a lone
        # surrogate (a feed's broken escape) is measured, not refused.
        if _NON_ASCII_WORD not in text and (
            text.isascii() or len(text.encode("utf-8", "surrogatepass")) - len(text) <= len(text) >> _FOLDED_SHARE
        ):
            return self.scan_folded(text)
        return self.scan_split(text)

    def _table(self, text: str) -> _Table:
        disabled = frozenset(branch for branch, literal in self._guards if literal not in text)
        table = self._tables.get(disabled)
        if table is None:
            table = self._tables[disabled] = _Table(self, disabled)
        return table

    def scan_folded(self, text: str) -> list[Match]:
        """`scan` of a whole text with its runs cut by bytes: every non-ASCII character stands
        as one byte (so offsets are kept), "\\x01" when it is a word character, so a run holding
        one goes to the dispatch; every other character outside [\\w$] is a space. Splitting at
        each space gives the runs and an empty piece for each further separator: piece k starts
        at the length of the pieces before it plus k. For texts without "\\x01"."""
        pieces = text.encode("ascii", _FOLD).translate(_SEPARATORS).decode("ascii").split(" ")
        actions = list(map(self._table(text).__getitem__, pieces))
        hits = list(compress(range(len(actions)), actions))
        if not hits:
            return []
        offsets = list(accumulate(map(len, pieces), initial=0))
        return self._apply(text, [(offsets[k] + k, len(pieces[k]), actions[k]) for k in hits])  # type: ignore[misc]

    def scan_split(self, text: str) -> list[Match]:
        """`scan` of a whole text with its runs cut by `re.split`: run j starts where the
        parts up to the one before it end."""
        parts = _RUNS(text)  # [between, run, between, run, ..., between]
        runs = parts[1::2]
        actions = list(map(self._table(text).__getitem__, runs))
        hits = list(compress(range(len(actions)), actions))
        if not hits:
            return []
        ends = list(accumulate(map(len, parts)))
        return self._apply(text, [(ends[2 * j], len(runs[j]), actions[j]) for j in hits])  # type: ignore[misc]

    def _apply(self, text: str, hits: list[tuple[int, int, tuple[_Action, ...]]]) -> list[Match]:
        """The matches at the word starts `hits` (start, length of its run, actions)."""
        found: list[Match] = []
        for start, length, actions in hits:
            for group, name, entry in actions:
                if entry is not None:
                    match = entry[0].match(text, start)
                    if match is not None:
                        _, group, name = entry[1][match.lastindex - 1]  # type: ignore[operator]
                        found.append((group, name, start, match.end()))
                elif group >= 0:
                    found.append((group, name, start, start + length))
                else:
                    self._match_at(text, start, found)
        return found

    def _scan_part(self, text: str, pos: int, stop: int) -> list[Match]:
        """`scan` from `pos` up to `stop` (a few characters, in practice): the runs of the text
        up to the end of the one holding `stop - 1`, those starting in [pos, stop) looked up."""
        end = _RUN_END(text, stop).end()  # type: ignore[union-attr]  # matches, maybe empty
        table = self._table(text)
        hits: list[tuple[int, int, tuple[_Action, ...]]] = []
        start = 0
        for index, part in enumerate(_RUNS(text[:end])):
            if index % 2 and pos <= start < stop:
                actions = table[part]
                if actions:
                    hits.append((start, len(part), actions))
            start += len(part)
        return self._apply(text, hits)

    def scan_runs(self, text: str, pos: int = 0, stop: int | None = None) -> list[Match]:
        """`scan` without the word table: word starts that can begin no alternative are skipped
        in C, and every other start goes through `_match_at`'s dispatch."""
        found: list[Match] = []
        skip = self._skip.match
        length = len(text) if stop is None else min(stop, len(text))
        while True:
            start = skip(text, pos).end()  # type: ignore[union-attr]  # everything in it is optional
            if start >= length:
                return found
            self._match_at(text, start, found)
            pos = start + 1  # inside this run: `_skip` goes on from its end

    def _match_at(self, text: str, start: int, found: list[Match]) -> None:
        """Each group's match at the word start `start`, added to `found`: the alternatives
        that can begin with the text's next characters, in one pattern."""
        key = text[start : start + PREFIX_CHARS]
        by_key = self._by_key
        if key.isascii():
            entry = by_key[key] if key in by_key else self._for_key(key)
        elif key[0].isascii():
            key = key[0]
            entry = by_key[key] if key in by_key else self._for_key(key)
        else:  # a non-ASCII letter may still case-fold to an ASCII one (K, ſ, İ, ı)
            entry = self._everything
        if entry is None:
            return
        match = entry[0].match(text, start)
        if match is None:
            return
        if entry[2]:  # one group: its alternation's match
            _, group, name = entry[1][match.lastindex - 1]  # type: ignore[operator]
            found.append((group, name, match.start(), match.end()))
            return
        spans = match.regs
        done = -1
        for number, group, name in entry[1]:
            if group != done:
                begin, end = spans[number]
                if begin >= 0:
                    found.append((group, name, begin, end))
                    done = group

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

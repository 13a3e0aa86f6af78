"""Classify an article: its category, the coins it is about, its kind and its language.

Every function here is pure and runs on every processed entry, so all patterns are compiled
once at import and each text is scanned a fixed, small number of times.

Rules, in short:

- `categorize` scores weighted keyword and phrase hits per `Category`: a hit in the title
  counts 3×, a hit in a feed tag 2×, a hit in the body 1× (at most `_MAX_HITS_PER_TERM` hits
  of one term in the body, so one word repeated all through a long article cannot carry
  it). The highest score wins. A tie that includes the hint goes to the hint; other ties go
  to the more specific category (`_TIE_ORDER`). Nothing scoring at all gives the hint, else
  Markets, the catch-all of a crypto news desk.
- `coin_tags` finds coins named by name (case-insensitive, whole words) or by ticker
  (upper-case whole words, or any-case cashtags like `$sol`), ordered by first appearance,
  title before body. Tickers that are also ordinary words or other organisations' initials
  (SOL, DOT, LINK, TON, ADA, LTC, TRX, DOGE) count only with crypto evidence; each trap has
  its rule spelled out next to its pattern below.
- `kind_of`: wire services and press-release tags give Press release; Opinion/Op-Ed/Column/
  Commentary tags or title prefixes give Opinion; Analysis/Market Analysis/Explainer tags give
  Analysis; otherwise the source's hint, else News.
- `detect_language` normalises a declared language to its primary subtag ("en-US" -> "en");
  without one it guesses among en, es, pt, fr, de, it, cs, sk from stopword frequencies and
  returns None rather than a weak guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from re import _constants as _sre  # type: ignore[attr-defined]
from re import _parser as _sre_parser  # type: ignore[attr-defined]
from typing import Any

from newsroom.core.models import Category, Kind

__all__ = ["categorize", "coin_tags", "detect_language", "kind_of"]


# --------------------------------------------------------------------------------------
# Scanning: a big alternation, dispatched on the first two characters
# --------------------------------------------------------------------------------------
#
# Python's `re` tries every alternative of an alternation at every word start, so one pass of
# the ~60-term category scanner costs ~1 ms on a 3 KB article. `_Dispatcher` gives the same
# matches as `re.compile(prefix + "(?:" + "|".join(alternatives) + ")" + suffix).finditer`
# much faster: each alternative's possible first characters are read from its parsed form, and
# at each word start only the alternatives that can begin with the text's next two characters
# are tried, in their original order (so the leftmost-first, non-overlapping semantics of
# `finditer` are unchanged: an alternative left out could not have matched there anyway).

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
    non_ascii = "\\x80-\\U0010ffff" if _OTHER in ordered else ""
    return "[" + "".join(re.escape(ch) for ch in ordered if ch != _OTHER) + non_ascii + "]"


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


class _Dispatcher:
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


# --------------------------------------------------------------------------------------
# Category
# --------------------------------------------------------------------------------------

_TITLE_WEIGHT = 3.0
_TAG_WEIGHT = 2.0
_BODY_WEIGHT = 1.0
_MAX_HITS_PER_TERM = 3

# When two categories score the same and the hint is not among them, the narrower beat is
# the better label: a hack story that also mentions prices is a Security story.
_TIE_ORDER: tuple[Category, ...] = (
    Category.SECURITY,
    Category.POLICY,
    Category.DEFI,
    Category.TECHNOLOGY,
    Category.BUSINESS,
    Category.MARKETS,
)

# (regex, weight). Patterns are case-insensitive unless they start with `(?-i:`; acronyms
# that are also ordinary words in lower case ("sec", "dex", "amm", "ipo") are matched only
# in capitals.
_CATEGORY_TERMS: dict[Category, tuple[tuple[str, float], ...]] = {
    Category.POLICY: (
        (r"regulat(?:ion|ions|or|ors|ory|e|es|ing)", 1.0),
        # "regulated" mostly describes a venue ("a regulated exchange"), not a policy event.
        (r"regulated", 0.5),
        (r"(?-i:SEC)", 1.5),
        (r"securities\s+and\s+exchange\s+commission", 1.5),
        (r"(?-i:CFTC|OCC|ESMA|FCA|HKMA|SFC|FATF|FinCEN|OFAC|IRS|DOJ|DoJ|MiCA|MiCAR|CBDCs?|AML|KYC)", 1.5),
        (r"lawmakers?|legislat(?:ion|ive|ors?|ure)|policymak(?:ers?|ing)|policy|policies", 1.0),
        # Capital "Bill" only mid-title ("Crypto Bill"), so "Bill Miller said" stays out.
        (r"(?-i:bills?|(?<=[A-Za-z]\s)Bills?(?!\s+(?:Gates|Miller|Ackman|Clinton)\b))", 1.0),
        # "GENIUS Act", "CLARITY Act", "Digital Asset Market Clarity Act".
        (r"(?-i:[A-Z][A-Za-z]+\s+Act)", 1.5),
        (r"governments?|government'?s|authorit(?:y|ies)|ministry|minister|parliament|senate|senators?", 1.0),
        (r"congress(?:ional)?|(?-i:MPs)|white\s+house|treasury\s+department", 1.0),
        (r"monetary\s+authority|central\s+banks?|financial\s+regulator|watchdog", 2.0),
        (r"sanction(?:s|ed)?|licen[cs](?:e|es|ed|ing)|compliance|compliant|enforcement|oversight", 1.0),
        (
            r"courts?|lawsuits?|sue[sd]?|judge|ruling|indict(?:s|ed|ment)?|prosecutors?|attorney\s+general",
            1.0,
        ),
        (
            r"police|arrest(?:s|ed)?|charged|sentenced|guilty|convicted|seiz(?:e|es|ed|ure)|ban(?:s|ned)?|charters?|jurisdictions?",
            1.0,
        ),
        (r"tax(?:es|ation)?|no-action\s+letter|framework", 0.75),
    ),
    Category.MARKETS: (
        (r"prices?|rall(?:y|ies|ied)|surg(?:e|es|ed)|slump(?:s|ed)?|plung(?:e|es|ed)", 1.0),
        (r"tumbl(?:e|es|ed)|sinks?|slid(?:e|es)?|sell-?offs?|dips?|soar(?:s|ed)?|rebound(?:s|ed)?", 1.0),
        (r"trading|traders?|trades|liquidat(?:ions?|ed)|market\s+cap(?:italization)?", 1.0),
        (r"(?:ETF|fund)\s+(?:in|out)?flows|inflows|outflows|(?-i:ETFs?)", 1.0),
        (r"bull(?:s|ish)?|bear(?:s|ish)?|volatil(?:e|ity)|futures|open\s+interest|funding\s+rates?", 1.0),
        (r"support\s+(?:level|zone)|key\s+support|resistance|all-time\s+highs?|(?-i:ATH)|(?-i:RSI)", 1.0),
        (r"moving\s+average|technical\s+analysis|breakout|price\s+targets?|short\s+squeeze|whales?", 1.0),
        # A price level ("$92K"; "$40B" is an amount, not a price) or a move ("up 6%", "UP 7-10%").
        (r"\$\d[\d,.]*\s?[Kk]", 1.0),
        (
            r"(?:up|down|gain(?:s|ed|ing)?|fall(?:s|ing)?|fell|drop(?:s|ped|ping)?|jump(?:s|ed|ing)?"
            r"|climb(?:s|ed|ing)?|slip(?:s|ped|ping)?|ris(?:es|ing)|rose|sink(?:s|ing)?|sank|add(?:s|ed))"
            r"\s+(?:by\s+)?\d[\d.]*(?:[-–]\d[\d.]*)?%",
            1.0,
        ),
        (r"top\s+movers|top\s+gainers|top\s+losers|majors", 1.0),
    ),
    Category.DEFI: (
        (r"(?-i:DeFi|DEFI)|decentrali[sz]ed\s+finance|decentrali[sz]ed\s+exchanges?|(?-i:DEXs?|DEXes)", 2.0),
        (r"lending\s+(?:protocols?|markets?|platforms?)|liquidity\s+(?:pools?|providers?)", 2.0),
        (r"yield\s+farming|yield-bearing|yields?|re?staking|liquid\s+staking", 1.0),
        (r"(?-i:TVL)|total\s+value\s+locked|(?-i:AMMs?)|automated\s+market\s+makers?", 2.0),
        (r"(?-i:Aave|Uniswap|Lido|Pendle|Ethena|MakerDAO|Compound\s+Finance|Curve\s+Finance|Morpho)", 1.5),
        (r"(?-i:DAOs?)|governance\s+(?:proposal|vote|token)s?|swaps?|vaults?|borrow(?:ing|ers)?", 1.0),
    ),
    Category.TECHNOLOGY: (
        (r"protocol\s+upgrades?|network\s+upgrades?|upgrades?|hard\s+forks?|soft\s+forks?", 1.5),
        (
            r"layer[\s-]?[12]s?|(?-i:L[12]s?)|rollups?|zero[\s-]knowledge|(?-i:ZK|zk)[\s-]?(?:proofs?|rollups?)?",
            1.5,
        ),
        (r"developers?|devs|mainnet|testnet|scal(?:ing|ability)|throughput|(?-i:TPS)", 1.0),
        (
            r"validators?|nodes?|(?:execution|consensus|validator)\s+clients?|smart\s+contracts?|codebase|open[\s-]source|(?-i:SDKs?|APIs?)",
            1.0,
        ),
        (r"interoperab(?:ility|le)|consensus|quantum|(?-i:EIP|BIP)-?\d*|lightning\s+network", 1.0),
    ),
    Category.BUSINESS: (
        (r"funding\s+rounds?|seed\s+rounds?|series\s+[A-E]|raises|raised|raising|venture\s+capital", 1.5),
        (r"acquisitions?|acquir(?:e|es|ed|ing)|mergers?|partnerships?|partners?\s+with|(?-i:IPO|IPOs)", 1.5),
        (r"earnings|revenue|profits?|valuation|shareholders?|share\s+sales?|buybacks?|quarterly", 1.0),
        (r"hires?|hired|appoint(?:s|ed|ment)|(?-i:CEO|CFO|COO|CTO)|executives?|layoffs?|lays?\s+off", 1.0),
        (r"compan(?:y|ies)|deals?|stake|investors?|invest(?:s|ed|ment)?", 0.5),
    ),
    Category.SECURITY: (
        (r"hack(?:s|ed|ers?)?|exploit(?:s|ed|ers?)?|breach(?:es|ed)?|stolen|theft|heist", 2.0),
        (r"phishing|vulnerabilit(?:y|ies)|drain(?:ed|er|s)?|scam(?:s|med|ming|mers?)?|rug[\s-]?pulls?", 2.0),
        (r"malware|ransomware|cyberattacks?|attackers?|compromised|private\s+keys?\s+leak\w*", 2.0),
        (r"fraud(?:ulent|sters?)?|ponzi|security\s+(?:incident|flaw|audit)s?", 1.0),
    ),
}

# Tags that are themselves a section name. Other tags still score through the keyword terms.
_TAG_CATEGORIES: dict[str, Category] = {
    "policy": Category.POLICY,
    "regulation": Category.POLICY,
    "legal": Category.POLICY,
    "law and order": Category.POLICY,
    "legislation": Category.POLICY,
    "u.s. policymaking": Category.POLICY,
    "markets": Category.MARKETS,
    "market": Category.MARKETS,
    "market wrap": Category.MARKETS,
    "prices": Category.MARKETS,
    "price analysis": Category.MARKETS,
    "trading": Category.MARKETS,
    "defi": Category.DEFI,
    "decentralized finance": Category.DEFI,
    "tech": Category.TECHNOLOGY,
    "technology": Category.TECHNOLOGY,
    "infrastructure": Category.TECHNOLOGY,
    "developer tools": Category.TECHNOLOGY,
    "software": Category.TECHNOLOGY,
    "business": Category.BUSINESS,
    "finance": Category.BUSINESS,
    "companies": Category.BUSINESS,
    "deals": Category.BUSINESS,
    "finance firms": Category.BUSINESS,
    "venture capital": Category.BUSINESS,
    "funding": Category.BUSINESS,
    "security": Category.SECURITY,
    "hacks": Category.SECURITY,
    "scams": Category.SECURITY,
}


@dataclass(frozen=True, slots=True)
class _Term:
    category: Category
    weight: float


def _compile_category_scanner() -> tuple[_Dispatcher, dict[str, _Term]]:
    """All terms of all categories as one alternation: one `finditer` pass per text."""
    terms: dict[str, _Term] = {}
    alternatives: list[tuple[str, str]] = []
    for category, entries in _CATEGORY_TERMS.items():
        for pattern, weight in entries:
            group = f"t{len(terms)}"
            terms[group] = _Term(category, weight)
            alternatives.append((group, pattern))
    return _Dispatcher(alternatives, re.IGNORECASE, r"(?<![\w$])", r"(?![\w])"), terms


_CATEGORY_SCANNER, _TERMS = _compile_category_scanner()


def _term_hits(text: str) -> dict[str, int]:
    hits: dict[str, int] = {}
    for match in _CATEGORY_SCANNER.finditer(text):
        group = match.lastgroup
        if group is not None:
            hits[group] = hits.get(group, 0) + 1
    return hits


def _add_hits(scores: dict[Category, float], hits: dict[str, int], weight: float, cap: int) -> None:
    for group, count in hits.items():
        term = _TERMS[group]
        scores[term.category] += term.weight * weight * min(count, cap)


def category_scores(title: str, text: str, feed_tags: Sequence[str] = ()) -> dict[Category, float]:
    """Each category's score for an article; exposed for debugging and tests."""
    scores = dict.fromkeys(Category, 0.0)
    _add_hits(scores, _term_hits(title), _TITLE_WEIGHT, cap=_MAX_HITS_PER_TERM)
    _add_hits(scores, _term_hits(text), _BODY_WEIGHT, cap=_MAX_HITS_PER_TERM)
    for tag in feed_tags:
        # One tag votes at most once per category, however many terms it contains.
        tag_categories = {_TERMS[group].category for group in _term_hits(tag)}
        named = _TAG_CATEGORIES.get(" ".join(tag.lower().split()))
        if named is not None:
            tag_categories.add(named)
        for category in tag_categories:
            scores[category] += _TAG_WEIGHT
    return scores


def categorize(
    title: str,
    text: str,
    *,
    feed_tags: Sequence[str] = (),
    hint: Category | None = None,
) -> Category:
    """The article's section, by keyword scoring (see the module docstring for the rules)."""
    scores = category_scores(title, text, feed_tags)
    best = max(scores.values())
    if best <= 0:
        return hint if hint is not None else Category.MARKETS
    leaders = [category for category in _TIE_ORDER if scores[category] == best]
    if hint is not None and hint in leaders:
        return hint
    return leaders[0]


# --------------------------------------------------------------------------------------
# Coins
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Coin:
    ticker: str
    # Whole-word name patterns, case-insensitive unless wrapped in (?-i:...).
    names: tuple[str, ...]
    # True when the upper-case ticker is also an ordinary word or someone else's initials,
    # so a bare mention needs crypto evidence (see `_mention_counts`).
    ambiguous_ticker: bool = False


_COINS: tuple[_Coin, ...] = (
    _Coin("BTC", (r"bitcoins?",)),
    # "ETH Zurich" is handled in `_mention_counts`; "Ethernet"/"Etherscan" fail the whole-word test.
    _Coin("ETH", (r"ethereum", r"ether")),
    # The name is "Solana" only: lower-case "sol" (the sun in Spanish/Portuguese, "o sol nasce",
    # "el sol") is never a coin, and words that merely contain it ("solution", "solar",
    # "console") fail the whole-word test. Upper-case SOL is an ambiguous ticker.
    _Coin("SOL", (r"solana",), ambiguous_ticker=True),
    _Coin("BNB", (r"bnb\s+chain", r"binance\s+coin")),
    # "Ripple" (the company) counts as XRP, but only capitalised, so the verb/noun "ripple"
    # ("news that rippled", "a ripple of selling") is out, and never in "ripple effect(s)",
    # in any case, since "The Ripple Effect of ..." headlines are about consequences.
    _Coin("XRP", (r"(?-i:Ripple|RIPPLE)(?!\s+(?i:effects?)\b)",)),
    # "DOGE" may be the Department of Government Efficiency: see `_DOGE_DEPARTMENT` below.
    _Coin("DOGE", (r"dogecoin",), ambiguous_ticker=True),
    _Coin("ADA", (r"cardano",), ambiguous_ticker=True),  # ADA: Americans with Disabilities Act
    _Coin("TRX", (r"tron",), ambiguous_ticker=True),  # TRX: suspension trainers; the film is out of scope
    # Capitalised only: a lower-case avalanche is snow. A capitalised one still needs context.
    _Coin("AVAX", (r"(?-i:Avalanche|AVALANCHE)",)),
    _Coin("DOT", (r"polkadot",), ambiguous_ticker=True),  # DOT: US Department of Transportation
    # "link" in lower case is never LINK (case-sensitive ticker); "LINK" in capitals needs context.
    _Coin("LINK", (r"chainlink",), ambiguous_ticker=True),
    _Coin("LTC", (r"litecoin",), ambiguous_ticker=True),  # LTC: long-term care
    _Coin("TON", (r"toncoin",), ambiguous_ticker=True),  # TON: a unit of weight in shouted headlines
    # Capitalised only: "to tether" is a verb. "Tether" the company counts as USDT.
    _Coin("USDT", (r"(?-i:Tether|TETHER)",)),
    _Coin("USDC", (r"usd\s+coin",)),
)

_COIN_BY_TICKER = {coin.ticker: coin for coin in _COINS}

# Names that are also ordinary words even when capitalised (sentence starts): they need the
# same crypto evidence as an ambiguous ticker.
_NAMES_NEEDING_CONTEXT = frozenset({"AVAX"})


def _compile_coin_scanner() -> _Dispatcher:
    alternatives: list[tuple[str, str]] = []
    for coin in _COINS:
        names = "|".join(coin.names)
        alternatives.append((f"n_{coin.ticker}", f"(?i:{names})"))
        # Cashtags in any case ("$sol", "$ETH") are deliberate ticker syntax; bare tickers
        # must be upper case.
        alternatives.append((f"c_{coin.ticker}", rf"\$(?i:{coin.ticker})"))
        alternatives.append((f"t_{coin.ticker}", coin.ticker))
    return _Dispatcher(alternatives, 0, r"(?<![\w$])", r"(?!\w)")


_COIN_SCANNER = _compile_coin_scanner()

# Words that make an upper-case ambiguous ticker read as a coin.
_CRYPTO_CONTEXT = re.compile(
    r"(?<!\w)(?:crypto\w*|cryptocurrenc(?:y|ies)|blockchains?|tokens?|tokeni[sz]\w*|altcoins?|stablecoins?"
    r"|memecoins?|defi|web3|on-?chain|nfts?|airdrops?|staking|validators?|mainnet|testnet|satoshis?"
    r"|hodl\w*|cripto\w*|criptomoed\w*|krypto\w*|coinbase|binance|kraken|bybit|okx"
    r"|exchange-traded|market\s+cap\w*|altcoin\s+season)(?!\w)",
    re.IGNORECASE,
)

# Strong, local evidence that a bare ticker is a coin: a unit after a number ("1,000 SOL"),
# a crypto noun after it ("SOL price", "DOT holders"), a trading pair ("SOL/USDT") or a
# price move ("DOT Sinks 2%", "TRX (+2%)", "SOL held steady at $136").
_TICKER_AFTER_EVIDENCE = re.compile(
    r"(?:[\s-]+(?i:tokens?|coins?|prices?|holders|stakers|staking|etfs?|futures|perps?|options|whales?"
    r"|supply|treasur(?:y|ies)|network|ecosystem|chain|market\s+cap)\b"
    r"|\s*/\s*(?:USD[TC]?|EUR|BTC|ETH)\b|-(?:USD[TC]?|PERP)\b"
    r"|\s*\(\s*[+\-−]\d"
    r"|(?:\s+[A-Za-z]+){0,3}\s+[+\-−]?\d+(?:[.,]\d+)?\s?%"
    r"|(?:\s+[A-Za-z]+){0,3}\s+\$\d)"
)
_UNIT_TICKERS = frozenset({"TON"})
_TICKER_BEFORE_EVIDENCE = re.compile(
    r"\d(?:[\d,.]*\d)?\s*(?:[kKmMbB]|million|billion|thousand)?\s+$",
)

# "ETH Zurich"/"ETH Zürich"/"ETH Zuerich" is the Swiss university, not Ether. When the
# university is in the text, other bare "ETH"s ("researchers at ETH") need local evidence.
_ETH_ZURICH = re.compile(r"(?-i:ETH)\s*[-–]?\s*Z(?:u|ü|ue)rich", re.IGNORECASE)

# "DOGE" is also the US Department of Government Efficiency. It is the department when the
# text names the department, when DOGE sits next to a government cue ("Musk-led DOGE",
# "DOGE cuts", "DOGE staffers"), or when the text has government words (federal, agency,
# ...) and either mentions Musk ("Elon Musk's DOGE") or has no crypto context at all. Then
# only "Dogecoin" by name (or a "$DOGE" cashtag) tags DOGE.
_DOGE_DEPARTMENT = re.compile(r"department\s+of\s+government\s+efficiency", re.IGNORECASE)
_DOGE_GOVERNMENT_CUE = re.compile(
    r"(?i:musk[\s-]led|musk['’]s|trump['’]s|white\s+house|administration['’]s|federal)\s+DOGE\b"
    r"|\bDOGE(?:['’]s)?\s+(?i:cuts?|staff(?:ers)?|team|employees|officials?|workers|access|audits?"
    r"|savings|layoffs|chief|head|agents?|task\s+force|initiative|website|firings)\b",
)
_GOVERNMENT_WORDS = re.compile(
    r"\b(?:federal|agency|agencies|government|administration|congress|white\s+house|taxpayers?"
    r"|bureaucra\w+|civil\s+servants?|workforce|pentagon)\b",
    re.IGNORECASE,
)
_MUSK = re.compile(r"\bMusk\b")


@dataclass(frozen=True, slots=True)
class _Mention:
    ticker: str
    start: int
    end: int
    form: str  # "n" name, "c" cashtag, "t" bare upper-case ticker


class _CoinContext:
    """Text-wide facts, computed at most once per text and only when a rule asks."""

    def __init__(self, haystack: str, mentions: Sequence[_Mention]) -> None:
        self._haystack = haystack
        self._mentions = mentions
        self._crypto: bool | None = None
        self._doge_government: bool | None = None
        self._eth_zurich: bool | None = None

    @property
    def crypto(self) -> bool:
        if self._crypto is None:
            # Any coin named outright, or an unambiguous ticker, is crypto context too.
            self._crypto = bool(_CRYPTO_CONTEXT.search(self._haystack)) or any(
                (mention.form == "n" and mention.ticker not in _NAMES_NEEDING_CONTEXT)
                or mention.form == "c"
                or (mention.form == "t" and not _COIN_BY_TICKER[mention.ticker].ambiguous_ticker)
                for mention in self._mentions
                if not (mention.ticker == "ETH" and self.eth_zurich)
            )
        return self._crypto

    @property
    def eth_zurich(self) -> bool:
        if self._eth_zurich is None:
            self._eth_zurich = bool(_ETH_ZURICH.search(self._haystack))
        return self._eth_zurich

    @property
    def doge_government(self) -> bool:
        if self._doge_government is None:
            text = self._haystack
            self._doge_government = bool(
                _DOGE_DEPARTMENT.search(text)
                or _DOGE_GOVERNMENT_CUE.search(text)
                or (_GOVERNMENT_WORDS.search(text) and (_MUSK.search(text) or not self.crypto))
            )
        return self._doge_government


def _has_local_evidence(haystack: str, mention: _Mention) -> bool:
    if _TICKER_AFTER_EVIDENCE.match(haystack, mention.end):
        return True
    if mention.ticker in _UNIT_TICKERS:
        return False  # "A 40 TON TRUCK": after a number, TON is the weight
    return bool(_TICKER_BEFORE_EVIDENCE.search(haystack[max(0, mention.start - 24) : mention.start]))


def _mention_counts(haystack: str, mention: _Mention, context: _CoinContext) -> bool:
    ticker = mention.ticker
    if mention.form == "n":
        return ticker not in _NAMES_NEEDING_CONTEXT or context.crypto
    if mention.form == "c":
        return True  # "$SOL", "$DOGE", "$eth": nobody writes a cashtag for a university
    # A bare, upper-case ticker.
    if ticker == "ETH":
        if _ETH_ZURICH.match(haystack, mention.start):
            return False
        return not context.eth_zurich or _has_local_evidence(haystack, mention)
    if ticker == "DOGE" and context.doge_government:
        return False
    if _COIN_BY_TICKER[ticker].ambiguous_ticker:
        return _has_local_evidence(haystack, mention) or context.crypto
    return True


def coin_tags(title: str, text: str) -> tuple[str, ...]:
    """Tickers of the coins the article mentions, in order of first mention (title first)."""
    haystack = f"{title}\n{text}"
    mentions: list[_Mention] = []
    for match in _COIN_SCANNER.finditer(haystack):
        group = match.lastgroup
        if group is None:
            continue
        form, _, ticker = group.partition("_")
        mentions.append(_Mention(ticker, match.start(), match.end(), form))
    if not mentions:
        return ()
    context = _CoinContext(haystack, mentions)
    found: list[str] = []
    for mention in mentions:
        if mention.ticker not in found and _mention_counts(haystack, mention, context):
            found.append(mention.ticker)
    return tuple(found)


# --------------------------------------------------------------------------------------
# Kind
# --------------------------------------------------------------------------------------

_WIRE_DOMAINS = (
    "prnewswire.com",
    "globenewswire.com",
    "businesswire.com",
    "accesswire.com",
    "einpresswire.com",
)
_PRESS_RELEASE_TAGS = frozenset({"press release", "press releases", "press-release", "pr"})
_OPINION_TAGS = frozenset(
    {"opinion", "opinions", "op-ed", "op-eds", "oped", "column", "columns", "commentary", "columnists"}
)
# Exact tags only: CoinDesk's "Technical Analysis" sits on automated market news items
# that also carry "News", so it does not make an item Analysis.
_ANALYSIS_TAGS = frozenset(
    {"analysis", "market analysis", "markets analysis", "explainer", "explainers", "news analysis"}
)
_OPINION_TITLE = re.compile(r"^\s*(?:opinion|op-?ed|column|commentary)\s*[:|–—-]\s*", re.IGNORECASE)


def _normalized_tags(tags: Iterable[str]) -> set[str]:
    return {" ".join(tag.lower().split()) for tag in tags}


def _is_wire_domain(domain: str) -> bool:
    host = domain.strip().lower().rstrip(".")
    host = host.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return any(host == wire or host.endswith("." + wire) for wire in _WIRE_DOMAINS)


def kind_of(
    *,
    source_kind_hint: Kind | None,
    feed_tags: Sequence[str],
    title: str,
    source_domain: str,
) -> Kind:
    """News, Press release, Opinion or Analysis (see the module docstring for the order)."""
    tags = _normalized_tags(feed_tags)
    if source_kind_hint is Kind.PRESS_RELEASE or _is_wire_domain(source_domain) or tags & _PRESS_RELEASE_TAGS:
        return Kind.PRESS_RELEASE
    if tags & _OPINION_TAGS or _OPINION_TITLE.match(title):
        return Kind.OPINION
    if tags & _ANALYSIS_TAGS:
        return Kind.ANALYSIS
    return source_kind_hint if source_kind_hint is not None else Kind.NEWS


# --------------------------------------------------------------------------------------
# Language
# --------------------------------------------------------------------------------------

_STOPWORDS: dict[str, str] = {
    "en": "the and of to in is that for it with as was on are be by this from at have has not which"
    " but will its their were been would said after about",
    "es": "el la los las de del que y en un una es por con para se al lo como más pero sus le ya fue"
    " este esta son también sobre entre desde",
    "pt": "o a os as de do da dos das que e em no na nos nas um uma para com não por se mais ao foi é"
    " são pelo pela também sobre entre",
    "fr": "le la les de des du et en un une est que qui dans pour pas au aux sur avec ce il elle sont"
    " ont par plus été cette mais",
    "de": "der die das und ist nicht ein eine zu den dem mit von auf für sich im des auch es wird sind"
    " bei nach wie aus einen werden",
    "it": "il lo la gli le di del della che e è un una per non con sono nel alla anche più da dei ha come delle questo",
    "cs": "a je se na v ve že to s z do o k by ale jako jsou byl bylo byla pro který která které při"
    " také jeho již už když nebo podle jsme",
    "sk": "a je sa na v vo že to s z do o k by ale ako sú bol bolo bola pre ktorý ktorá ktoré pri aj"
    " jeho už keď alebo podľa sme",
    # Not a language we label, but one our sources publish in: without it Dutch text ("de",
    # "en", "in", "van") would be read as Spanish or French. Winning here means "unsure".
    "nl": "de het een van en in is op dat te met voor niet zijn aan er ook bij naar om werd wordt maar nog",
}
_GUESSABLE = frozenset({"en", "es", "pt", "fr", "de", "it", "cs", "sk"})
# Letters that only some of the candidates use.
_DISTINCTIVE_LETTERS: dict[str, str] = {
    "cs": "řěů",
    "sk": "ľĺŕ",
    "es": "ñ¿¡",
    "pt": "ãõ",
    "de": "ß",
}
_MIN_EVIDENCE = 4.0
_MIN_MARGIN = 1.5


def _stopword_weights() -> dict[str, dict[str, float]]:
    """word -> {language: weight}; a word shared by k languages is worth 1/k to each."""
    owners: dict[str, list[str]] = {}
    for language, words in _STOPWORDS.items():
        for word in set(words.split()):
            owners.setdefault(word, []).append(language)
    return {word: {lang: 1.0 / len(langs) for lang in langs} for word, langs in owners.items()}


_WORD_WEIGHTS = _stopword_weights()
_WORD = re.compile(r"[^\W\d_]+")
_LANGUAGE_TAG = re.compile(r"^([a-z]{2,3})(?:[-_].*)?$")


def _normalize_declared(declared: str | None) -> str | None:
    if declared is None:
        return None
    match = _LANGUAGE_TAG.match(declared.strip().lower())
    if match is None or match.group(1) in ("und", "mul", "zxx"):
        return None
    return match.group(1)


def _guess_language(text: str) -> str | None:
    scores = dict.fromkeys(_STOPWORDS, 0.0)
    folded = unicodedata.normalize("NFC", text).lower()
    # Counted in C first: the loop then runs once per distinct word, not once per word.
    for word, count in Counter(_WORD.findall(folded)).items():
        weights = _WORD_WEIGHTS.get(word)
        if weights is not None:
            for language, weight in weights.items():
                scores[language] += weight * count
    for language, letters in _DISTINCTIVE_LETTERS.items():
        scores[language] += 0.5 * sum(folded.count(letter) for letter in letters)
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, best_score), (_, runner_up) = ranked[0], ranked[1]
    if best_score < _MIN_EVIDENCE or best_score < _MIN_MARGIN * runner_up:
        return None
    return best if best in _GUESSABLE else None


def detect_language(text: str, declared: str | None) -> str | None:
    """The declared language's primary subtag, else a stopword guess, else None."""
    normalized = _normalize_declared(declared)
    if normalized is not None:
        return normalized
    return _guess_language(text)

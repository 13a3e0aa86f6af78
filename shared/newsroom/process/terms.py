"""The terms an article contains, found in one pass over its text: category terms (for
`classify`) and coin names and tickers (for `coins`), with one `scanner.Scanner` built at import.

Each group keeps the rules it had as its own alternation: category terms are case-insensitive
unless a pattern says `(?-i:`, coin names are case-insensitive and bare tickers upper case (see
`classify_data`); both match whole words. Category terms are counted in the title and in the
text separately (each as if alone: a term never runs from one into the other); coins read
`f"{title}\\n{text}"` as one haystack, so a name may run across the line break ("BNB\\nChain").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from newsroom.core.models import Category
from newsroom.process.classify_data import CATEGORY_TERMS, COINS
from newsroom.process.scanner import Group, Match, Scanner, first_fit

__all__ = ["CATEGORY", "COIN", "SCANNER", "TERM_CATEGORY", "ArticleTerms", "scan_article", "scan_category_terms"]

CATEGORY = 0
COIN = 1


def _category_alternatives() -> tuple[list[tuple[str, str]], dict[str, tuple[Category, float]]]:
    alternatives: list[tuple[str, str]] = []
    terms: dict[str, tuple[Category, float]] = {}
    for category, entries in CATEGORY_TERMS.items():
        for pattern, weight in entries:
            name = f"t{len(terms)}"
            terms[name] = (category, weight)
            alternatives.append((name, pattern))
    return alternatives, terms


def _coin_alternatives() -> list[tuple[str, str]]:
    alternatives: list[tuple[str, str]] = []
    for coin in COINS:
        names = "|".join(coin.names)
        alternatives.append((f"n_{coin.ticker}", f"(?i:{names})"))
        # Cashtags in any case ("$sol", "$ETH") are deliberate ticker syntax; bare tickers
        # must be upper case.
        alternatives.append((f"c_{coin.ticker}", rf"\$(?i:{coin.ticker})"))
        alternatives.append((f"t_{coin.ticker}", coin.ticker))
    return alternatives


_CATEGORY_ALTERNATIVES, TERM_CATEGORY = _category_alternatives()
SCANNER = Scanner(
    (
        Group("category", _CATEGORY_ALTERNATIVES, re.IGNORECASE, r"(?![\w])"),
        Group("coin", _coin_alternatives(), 0, r"(?!\w)"),
    )
)


@dataclass(frozen=True, slots=True)
class ArticleTerms:
    """What `scan_article` found: category term names hit in the title and in the text (each
    non-overlapping, one entry per hit), and coin mentions as (alternative name, start, end) in
    `f"{title}\\n{text}"`, in order."""

    title_terms: tuple[str, ...]
    text_terms: tuple[str, ...]
    coin_mentions: tuple[tuple[str, int, int], ...]


def _names(matches: list[Match]) -> tuple[str, ...]:
    return tuple(match[1] for match in first_fit(matches, CATEGORY))


def scan_category_terms(text: str) -> tuple[str, ...]:
    """The category term names hit in `text` alone (a feed tag), one entry per hit."""
    return _names(SCANNER.scan(text))


def scan_article(title: str, text: str) -> ArticleTerms:
    """Both groups' terms in an article, with one pass over `f"{title}\n{text}"` (and one over
    the title alone, a line, for its category terms)."""
    offset = len(title) + 1
    found = SCANNER.scan(f"{title}\n{text}")
    # A category match in the haystack at a start in the text is the one the text alone gives,
    # unless a lookbehind there reaches back past the text's start: those first few characters
    # are matched again in the text alone. The text's terms are kept as `first_fit` keeps them
    # over those matches and then the haystack's from `window` on, in haystack offsets.
    window = offset + SCANNER.lookbehind[CATEGORY]
    text_terms: list[str] = []
    pos = 0
    for group, name, start, end in SCANNER.scan(text, 0, window - offset):
        if group == CATEGORY and start >= pos:
            text_terms.append(name)
            pos = end
    pos = max(pos + offset, window)
    for group, name, start, end in found:
        if group == CATEGORY and start >= pos:
            text_terms.append(name)
            pos = end
    return ArticleTerms(
        title_terms=_names(SCANNER.scan(title)),
        text_terms=tuple(text_terms),
        coin_mentions=tuple((name, start, end) for _, name, start, end in first_fit(found, COIN)),
    )

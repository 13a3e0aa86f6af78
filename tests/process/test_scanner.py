"""The one-pass scanner finds exactly what each group's own big alternation finds."""

from __future__ import annotations

import re

import feedparser
import pytest

from newsroom.process.scanner import Group, Scanner
from newsroom.process.terms import CATEGORY, COIN, SCANNER, scan_article
from tests.process.feed_samples import CRYPTO_FEEDS, REAL_FEEDS
from tests.process.feed_samples import plain as _plain

# ------------------------------------------------------------------------------------------
# the one-pass scanner finds exactly what each group's own alternation finds
# ------------------------------------------------------------------------------------------

_SCANNER_WORDS = (
    "SEC sec Bill bills GENIUS Act price targets up 5% UP 7-10% $92K $40B ETH eth Ether Zurich "
    "$sol SOL Solana DOGE Ripple effect Tether tether regulators regulated lending protocols "
    "liquidity pools hack layer-2 L2s zk-rollups EIP-1559 series B partners with a the of "
    "Avalanche avalanche USD Coin BNB Chain TRON Tron DeFi DEXes AMMs futures open interest "
    "drop 3% drops by 2.5% white house Treasury crypto 1,000 SOL SOL/USDT TON 40 TON x "
    # Characters that case-fold to ASCII letters under re.IGNORECASE, and other non-ASCII ones.
    "\u212aYC \u017fec \u0130 \u0131 é ñ — ( ) $ _"
)
_SCANNER_PIECES = tuple(_SCANNER_WORDS.split())
_SCANNER_SEPARATORS = (" ", " ", "", "-", "\n", ", ", ". ", "$", "_", "\xa0")


def _scanner_texts() -> list[str]:
    import random

    rng = random.Random(20260601)  # reproducible test data
    texts = [
        "".join(rng.choice(_SCANNER_PIECES) + rng.choice(_SCANNER_SEPARATORS) for _ in range(rng.randint(1, 30)))
        for _ in range(3000)
    ]
    for name in CRYPTO_FEEDS:
        parsed = feedparser.parse(str(REAL_FEEDS / name))
        for entry in parsed.entries:
            texts.append(entry.get("title", ""))
            texts.append(_plain(entry.get("summary", "")))
            texts.extend(_plain(content.get("value", "")) for content in entry.get("content", []))
    return texts


def test_one_pass_finds_what_each_group_s_own_alternation_finds() -> None:
    checked = 0
    for text in _scanner_texts():
        for group, full in enumerate(SCANNER.full):
            expected = [(m.lastgroup, m.span()) for m in full.finditer(text)]
            assert [(name, (start, end)) for _, name, start, end in SCANNER.finditer(text, group)] == expected, text
            checked += len(expected)
    assert checked > 5000  # the texts do exercise the scanners


# Title and text meet where a term could run across (or look across) the line between them.
_SEAMS = (
    ("BNB", "Chain fees fell."),
    ("Ripple", "effect of the ruling"),
    ("Ripple", "Effects aside, XRP rose"),
    ("Senate passes", "Bills on stablecoins"),
    ("Crypto", "Bill Miller said"),
    ("White", "House officials"),
    ("Price up", "5% today"),
    ("USD", "Coin reserves"),
    ("ETH", "Zurich researchers"),
    ("", "SEC sues"),
    ("SEC sues", ""),
    ("$", "SOL and $ETH"),
)


def test_an_article_scan_reads_title_and_text_as_the_separate_scans_did() -> None:
    """Category terms: title and text each as if alone; coins: `title\ntext` as one haystack."""
    category, coin = SCANNER.full[CATEGORY], SCANNER.full[COIN]
    texts = _scanner_texts()
    pairs = [*_SEAMS, *zip(texts[::2], texts[1::2], strict=False)]
    for title, text in pairs:
        terms = scan_article(title, text)
        assert terms.title_terms == tuple(m.lastgroup for m in category.finditer(title)), (title, text)
        assert terms.text_terms == tuple(m.lastgroup for m in category.finditer(text)), (title, text)
        expected = tuple((m.lastgroup, m.start(), m.end()) for m in coin.finditer(f"{title}\n{text}"))
        assert terms.coin_mentions == expected, (title, text)
    # The seams do reach across: a coin name from the title into the text, a title's last word
    # read by a category lookbehind in the haystack but not in the text alone.
    assert scan_article("BNB", "Chain fees fell.").coin_mentions == (("n_BNB", 0, 9),)
    assert category.match("Senate passes\nBills on", 14) and not category.match("Bills on")


def test_the_scanner_refuses_patterns_it_cannot_dispatch() -> None:
    def scanner(pattern: str, flags: int = 0) -> Scanner:
        return Scanner([Group("g", [("a", pattern)], flags, r"(?!\w)")])

    with pytest.raises(ValueError, match="must start"):
        scanner(r"\w+")
    with pytest.raises(ValueError, match="must start"):
        scanner(r"x?")
    with pytest.raises(ValueError, match="capturing group"):
        scanner(r"x(y)")
    with pytest.raises(ValueError, match="IGNORECASE"):
        scanner("x", re.MULTILINE)
    assert scanner("x(?:y)").lookbehind == [0]
    assert scanner(r"(?<=a\s)x").lookbehind == [2]

"""The dispatched scanners find exactly what the one big alternation finds."""

from __future__ import annotations

import feedparser
import pytest

from newsroom.process.scanner import Dispatcher
from tests.process.feed_samples import CRYPTO_FEEDS, REAL_FEEDS
from tests.process.feed_samples import plain as _plain

# ------------------------------------------------------------------------------------------
# the dispatched scanners find exactly what the one big alternation finds
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


def test_dispatched_scanners_match_the_single_alternation() -> None:
    from newsroom.process.classify import _CATEGORY_SCANNER
    from newsroom.process.coins import _COIN_SCANNER

    checked = 0
    for text in _scanner_texts():
        for scanner in (_CATEGORY_SCANNER, _COIN_SCANNER):
            expected = [(m.lastgroup, m.span()) for m in scanner.full.finditer(text)]
            assert [(m.lastgroup, m.span()) for m in scanner.finditer(text)] == expected, text
            checked += len(expected)
    assert checked > 5000  # the texts do exercise the scanners


def test_dispatcher_refuses_patterns_it_cannot_dispatch() -> None:
    with pytest.raises(ValueError, match="must start"):
        Dispatcher([("a", r"\w+")], 0, r"(?<![\w$])", r"(?!\w)")
    with pytest.raises(ValueError, match="must start"):
        Dispatcher([("a", r"x?")], 0, r"(?<![\w$])", r"(?!\w)")
    with pytest.raises(ValueError, match="run of"):
        Dispatcher([("a", "x")], 0, r"\b", r"\b")

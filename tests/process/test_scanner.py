"""The one-pass scanner finds exactly what each group's own big alternation finds."""

from __future__ import annotations

import functools
import re

import feedparser
import pytest

from newsroom.process.scanner import MAX_KEPT_RUN, Group, Scanner, first_fit
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
# "\x01" (a control character feeds do carry) stands for a non-ASCII word character in the folded
# cut, and a lone surrogate cannot be encoded strictly: both must leave the matches unchanged.
_CONTROL_SEPARATORS = (*_SCANNER_SEPARATORS, "\x01", "\ud800")


def _scanner_texts() -> list[str]:
    import random

    rng = random.Random(20260601)  # reproducible test data
    texts = [
        "".join(rng.choice(_SCANNER_PIECES) + rng.choice(_SCANNER_SEPARATORS) for _ in range(rng.randint(1, 30)))
        for _ in range(3000)
    ]
    odd = random.Random(20261203)
    texts += [
        "".join(odd.choice(_SCANNER_PIECES) + odd.choice(_CONTROL_SEPARATORS) for _ in range(odd.randint(1, 30)))
        for _ in range(600)
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


# ------------------------------------------------------------------------------------------
# the word table finds what the run-skipping scan finds
# ------------------------------------------------------------------------------------------


@functools.cache
def _corpus_texts() -> tuple[str, ...]:
    """Every corpus and sample document as text (markup, entities, CDATA, non-ASCII letters and
    punctuation, scripts other than Latin), the real feeds' also with their markup taken out,
    and the synthetic feeds' article texts."""
    from benchmarks import synthetic
    from devtools import golden
    from newsroom.fetch.feeds import parse_feed
    from newsroom.process.build import build_article

    texts: list[str] = []
    for document in golden.documents():
        raw = document.body.decode("utf-8", "replace")
        texts.append(raw)
        if document.name.split("/")[1] in ("real-feeds", "crypto-2026-10-03"):  # articles' text
            texts.append(_plain(raw))
    seeds = range(1, 3)
    ctx = synthetic.context(seeds)
    for seed in seeds:
        feed = parse_feed(
            synthetic.synthetic_feed(seed), source_id=f"site{seed}", base_url="https://x/", fetched_at=ctx.now
        )
        for entry in feed.entries:
            article = build_article(entry, ctx)
            texts += [article.title, article.content_text]
    return tuple(texts)


def test_the_word_table_finds_at_every_word_start_what_the_run_skipping_scan_finds() -> None:
    """Both ways of cutting a text into runs (bytes with non-ASCII characters folded, and
    `re.split`) give the matches `scan_runs` gives, start by start, on the scanner's test texts,
    every corpus document and the synthetic articles; the folded cut also on texts past its
    non-ASCII share. `scan_runs` is the scan the test above checks against each group's own
    alternation, and so is `scan` itself over the corpus here."""
    texts = [*_scanner_texts(), *_corpus_texts()]
    folded = split = 0
    for text in texts:
        expected = SCANNER.scan_runs(text)
        assert SCANNER.scan(text) == expected, text[:200]  # and its choice of cut
        assert SCANNER.scan_split(text) == expected, text[:200]
        split += 1
        if "\x01" not in text:
            assert SCANNER.scan_folded(text) == expected, text[:200]
            folded += 1
    assert folded > 5000 and split > 5000
    # A part of a text (what `scan_article` reads again at the start of the text), anywhere.
    for text in _scanner_texts()[:600]:
        for pos, stop in ((0, 0), (0, 1), (0, 2), (0, 3), (1, 2), (2, 9), (5, None), (0, len(text) + 5)):
            assert SCANNER.scan(text, pos, stop) == SCANNER.scan_runs(text, pos, stop), (text, pos, stop)
    assert sum(not text.isascii() for text in texts) > 1000  # the non-ASCII paths are exercised


def test_a_long_run_is_looked_up_but_not_kept_in_the_word_table() -> None:
    """Runs come from the text: a hex or base64 blob is one run as long as the body, so only
    short runs are remembered and the table's memory stays bounded by its run count."""
    blob = "deadbeef" * 2_000
    text = f"{blob} SEC {blob[:-1]}x"
    assert [name for _, name, _, _ in SCANNER.scan(text)] == [name for _, name, _, _ in SCANNER.scan_runs(text)]
    assert SCANNER.scan(text)  # SEC is found
    assert all(len(run) <= MAX_KEPT_RUN for table in SCANNER._tables.values() for run in table)


def test_the_word_table_scan_of_corpus_documents_is_each_group_s_own_alternation() -> None:
    for text in _corpus_texts()[::5]:
        found = SCANNER.scan(text)
        for group, full in enumerate(SCANNER.full):
            expected = [(m.lastgroup, m.start(), m.end()) for m in full.finditer(text)]
            assert [(name, start, end) for _, name, start, end in first_fit(found, group)] == expected, text[:200]


def test_word_alternatives_and_regex_branches_are_told_apart() -> None:
    """The table's view of a few alternatives: whole words (in lower case, or as written),
    and the prefixes of the rest; a regex branch needing a literal is left out of texts
    without it when it can begin many words."""
    scanner = Scanner(
        [
            Group(
                "g",
                [
                    ("a", r"bitcoins?|(?-i:SEC)|white\s+house|government'?s"),
                    ("b", r"(?-i:[A-Z][a-z]+\s+Act)"),
                    ("c", r"\$(?i:eth)|(?-i:Ripple)(?!\s+effect)"),
                ],
                re.IGNORECASE,
                r"(?![\w])",
            )
        ]
    )
    a, b, c = scanner._words
    assert a.folded == {"bitcoin", "bitcoins", "governments"} and a.exact == {"SEC"}
    # "\\s" stands for any character outside [\\w$] in a prefix.
    assert {"".join(ch for ch, _ in prefix) for prefix in a.regex} == {"white\\s", "government's"}
    # A regex is tried only at a run it can start: "white" (then a separator), not "whites"
    # or "whit" (the character after a run is a separator, not "e"), nor "governments'"
    # (a match ending inside a run fails the suffix); "Bitcoins" is a word, no regex.
    regex = {
        run
        for run in ("white", "WHITE", "whites", "whit", "government", "governments")
        if any(entry is not None for _, _, entry in scanner._actions(run, frozenset()) or ())
    }
    assert regex == {"white", "WHITE", "government"}
    assert scanner._actions("Bitcoins", frozenset()) == ((0, "a", None),)
    assert not b.folded and not b.exact and len(b.regex) == 26 * 26
    assert c.folded == {"$eth"} and not c.exact and len(c.regex) == 1
    assert [literal for _, literal in scanner._guards] == ["Act"]
    for text in ("The Clarity Act passed", "Clarity was passed", "BITCOIN SEC sec White  House $ETH Ripple effect"):
        assert scanner.scan(text) == scanner.scan_runs(text)
    assert [name for _, name, _, _ in scanner.scan("Bitcoins, the SEC, the sec")] == ["a", "a"]

"""The coins an article is about: `coin_tags`.

Coins are found by name (case-insensitive, whole words) or by ticker (upper-case whole words, or
any-case cashtags like `$sol`), ordered by first appearance, title before body. Tickers that are
also ordinary words or other organisations' initials (SOL, DOT, LINK, TON, ADA, LTC, TRX, DOGE)
count only with crypto evidence; each trap has its rule spelled out next to its pattern below
(the coin table itself is `classify_data.COINS`).

Pure, and run on every processed entry: the names and tickers are found by `terms.scan_article`
(one pass over the text with the category terms); the evidence patterns here are compiled once
at import.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from newsroom.process.classify_data import COINS, NAMES_NEEDING_CONTEXT
from newsroom.process.terms import ArticleTerms, scan_article

__all__ = ["coin_tags"]

_COIN_BY_TICKER = {coin.ticker: coin for coin in COINS}


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
                (mention.form == "n" and mention.ticker not in NAMES_NEEDING_CONTEXT)
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
        return ticker not in NAMES_NEEDING_CONTEXT or context.crypto
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


def coin_tags(title: str, text: str, *, terms: ArticleTerms | None = None) -> tuple[str, ...]:
    """Tickers of the coins the article mentions, in order of first mention (title first).
    `terms` is `terms.scan_article(title, text)` when the caller has it already."""
    if terms is None:
        terms = scan_article(title, text)
    haystack = f"{title}\n{text}"
    mentions: list[_Mention] = []
    for name, start, end in terms.coin_mentions:
        form, _, ticker = name.partition("_")
        mentions.append(_Mention(ticker, start, end, form))
    if not mentions:
        return ()
    context = _CoinContext(haystack, mentions)
    found: list[str] = []
    for mention in mentions:
        if mention.ticker not in found and _mention_counts(haystack, mention, context):
            found.append(mention.ticker)
    return tuple(found)

"""Word lists event grouping reads (`events`): function words, words every crypto story shares,
and keys too common to find candidates by. Data only."""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# English function words and reporting verbs: never a key.
STOPWORDS = _words(
    """a about above across after again against all almost along also although am among an and another
    any are around as at away back be became because become been before behind being below between
    both but by can cannot could did do does doing done down during each either else even ever every
    few for from further get gets getting go goes going got had has have having he her here hers him
    his how however i if in into is it its itself just least less like made make makes many may me
    might more most much must my nearly never next no nor not now of off on once one only onto
    or other others our out over own per perhaps rather same says said say saying see seen set she
    should since so some still such than that the their them then there these they this those though
    through thus to too toward towards under until up upon us very via was we were what whatever when
    where whether which while who whom whose why will with within without would yet you your
    here's what's it's that's there's don't doesn't isn't won't can't
    amid ahead despite following according nears neared nearing"""
)

# Headline marks of a digest of several events (a daily video recap, "X! Y! Z!"): a digest is
# never tied to an event, since it reports several.
DIGEST_MARKS = (
    "daily crypto recap",
    "what happened in crypto today",
    "top weekly crypto news",
    "price analysis for",
    "the daily:",
)

# Words of nearly every crypto or markets story: they say what the story is about in general,
# not which event. Never a key, not even in a pair.
GENERIC = _words(
    """news report reports reported reporting update updates latest today daily week weekly weeks month
    monthly months year years day days time times hour hours morning evening night live now first
    last new big biggest major key top main more most high higher low lower record could may might
    digital asset assets price prices trading
    trader traders investor investors industry sector firm firms company companies platform platforms
    project projects network networks user users holder holders token tokens coin coins million
    billion trillion thousand percent amid after says said here why how what whats heres analysis
    explained explainer opinion interview recap wrap roundup minute things watch expect expected
    could would should will make makes made take takes took give gives given gets get got move moves
    moved amid while sees see seen look looks looking set sets plan plans planned plus also just
    still even back out over again soon already data chart charts level levels
    buy buys buying bought sell sells selling sold january february march april may june july
    august september october november december monday tuesday wednesday thursday friday saturday
    sunday inflow inflows outflow outflows net hit hits boost boosts build builds include including
    hold holds holding show shows reach reaches bring brings want wants call calls seek seeks eye eyes
    add adds join joins continue continues remain remains become becomes help helps keep keeps put
    puts come comes coming"""
)

# Keys that appear in a large share of crypto stories: they count toward a decision only a
# little, and are never a lookup key on their own (they would be a hot partition and an
# unbounded read). Everything not listed here is treated as specific.
COMMON_KEYS = _words(
    """bitcoin btc ethereum eth ether xrp ripple solana sol sec cftc us u.s usa america american
    crypto stablecoin stablecoins etf etfs spot fund funds blockchain onchain defi web3 nft nfts
    binance coinbase tether usdt usdc circle trump federal fed government bank banks banking
    exchange exchanges wallet wallets regulator regulators regulatory rule rules regulation law
    court congress senate lawmakers eu europe european uk china chinese korea south tokenization
    tokenized treasury treasuries inflows outflows flows institutional retail whale whales bull
    bullish bear bearish rally surge surges drop drops falls fall rises rise gains gain losses
    dogecoin doge cardano ada shiba inu shib stellar xlm ai ceo founder cofounder co-founder
    investment investing payments payment ledger xrpl layer layer-2 l2 chain mainnet upgrade
    hack hacker hackers exploit stock stocks shares equities nasdaq market markets
    cryptocurrency cryptocurrencies altcoin altcoins hacked exploited stolen attack attacker"""
)

"""Category and kind: realistic headlines, every trap, the seed, real feeds."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest

from newsroom.core.models import Category, Kind
from newsroom.process.classify import categorize, category_scores, kind_of
from newsroom.process.coins import coin_tags
from newsroom.process.language import detect_language
from tests.process.feed_samples import CRYPTO_FEEDS, REAL_FEEDS
from tests.process.feed_samples import plain as _plain

SHARED = Path(__file__).resolve().parents[3] / "shared"
SEED_PAGE = SHARED / "seed" / "article-page.txt"
SEED_TITLE = "Hong Kong Expands Digital Asset Ecosystem With Tokenization and Crypto Infrastructure"


def _seed_body() -> str:
    page = SEED_PAGE.read_text(encoding="utf-8")
    first = page.index("Hong Kong is accelerating")
    start = page.index("Hong Kong is accelerating", first + 1)
    return page[start : page.index("Disclaimer:")]


# ------------------------------------------------------------------------------------------
# categorize
# ------------------------------------------------------------------------------------------


def test_seed_article_is_policy() -> None:
    body = _seed_body()
    assert len(body.split()) > 500  # the whole body, not the standfirst
    assert categorize(SEED_TITLE, body) is Category.POLICY
    scores = category_scores(SEED_TITLE, body)
    assert scores[Category.POLICY] > 2 * max(v for c, v in scores.items() if c is not Category.POLICY)


def test_seed_article_stays_policy_against_a_markets_hint() -> None:
    assert categorize(SEED_TITLE, _seed_body(), hint=Category.MARKETS) is Category.POLICY


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        (
            "SEC Delays Decision on Spot Solana ETF as Lawmakers Push Market Structure Bill",
            "The Securities and Exchange Commission extended its review, while senators said the "
            "legislation would give regulators clear authority over crypto exchanges.",
            Category.POLICY,
        ),
        (
            "Bitcoin Slumps Below $90K as Traders Brace for Fed; $600M in Liquidations",
            "BTC fell 4% in Asian trading hours, with bearish traders adding shorts as ETF outflows "
            "continued and the price lost key support near $91,000.",
            Category.MARKETS,
        ),
        (
            "Aave TVL Tops $40B as Liquidity Pool Yields Draw Stablecoin Depositors",
            "The lending protocol's total value locked rose as DeFi users moved funds from DEX "
            "liquidity pools into staking vaults with higher yield.",
            Category.DEFI,
        ),
        (
            "Ethereum Developers Set Mainnet Date for Fusaka Hard Fork",
            "Core developers confirmed the protocol upgrade after a final testnet run, promising "
            "cheaper data for layer 2 rollups and better scaling.",
            Category.TECHNOLOGY,
        ),
        (
            "Crypto Custodian Raises $50M in Series B Funding Round Led by Paradigm",
            "The company said the raise values it at $1 billion; its CEO plans to hire 80 people "
            "after revenue doubled and it completed the acquisition of a smaller rival.",
            Category.BUSINESS,
        ),
        (
            "DeFi Lender Drained of $12M in Exploit; Hackers Launder Stolen Funds",
            "Attackers used a vulnerability in the protocol's price oracle, and a phishing site "
            "imitating the app has since been reported as a scam.",
            Category.SECURITY,
        ),
    ],
)
def test_each_category_from_a_realistic_story(title: str, text: str, expected: Category) -> None:
    assert categorize(title, text) is expected


def test_title_outweighs_body() -> None:
    # One Security word in the title (x3) beats two Markets words in the body (x1 each).
    assert categorize("Exchange hack under investigation", "Trading resumed; prices steadied.") is (Category.SECURITY)


def test_feed_tags_count_twice() -> None:
    neutral_title = "Five Things to Watch This Week"
    assert categorize(neutral_title, "", feed_tags=["Policy"]) is Category.POLICY
    assert categorize(neutral_title, "", feed_tags=["Law and Order", "Regulation"]) is Category.POLICY
    assert category_scores(neutral_title, "", ["DeFi"])[Category.DEFI] == 2.0
    # Two body words of Markets (2 points) against one tag of Technology (2 points): a tie,
    # which goes to the more specific section.
    assert categorize(neutral_title, "rally and slump", feed_tags=["Tech"]) is Category.TECHNOLOGY


def test_hint_used_when_nothing_scores_and_markets_otherwise() -> None:
    title, text = "A Conversation With a Crypto Founder", "We talked about the past year."
    assert categorize(title, text) is Category.MARKETS
    assert categorize(title, text, hint=Category.BUSINESS) is Category.BUSINESS
    assert categorize("", "") is Category.MARKETS


def test_hint_wins_ties_but_not_clear_leads() -> None:
    # "price" (Markets) and "hires" (Business) score one point each.
    tied = ("Weekly notes", "The price moved; the firm hires.")
    assert categorize(*tied, hint=Category.BUSINESS) is Category.BUSINESS
    assert categorize(*tied, hint=Category.MARKETS) is Category.MARKETS
    assert categorize("Bitcoin price rally extends", "", hint=Category.BUSINESS) is Category.MARKETS


def test_lower_case_acronyms_are_not_policy_or_defi() -> None:
    # "sec" (seconds) is not the SEC and "dex" in a word list is not a DEX.
    assert category_scores("Block time drops to 2 sec", "")[Category.POLICY] == 0
    assert category_scores("Investor Bill Miller buys more", "")[Category.POLICY] == 0


def test_amounts_are_not_price_levels() -> None:
    assert category_scores("Tether seeks $20B raise", "")[Category.MARKETS] == 0
    assert category_scores("Bitcoin reclaims $92K", "")[Category.MARKETS] > 0


# ------------------------------------------------------------------------------------------
# kind_of
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "domain",
    [
        "prnewswire.com",
        "www.prnewswire.com",
        "globenewswire.com",
        "www.businesswire.com",
        "accesswire.com",
        "www.einpresswire.com",
        "https://www.prnewswire.com/news-releases/x.html",
        "WWW.GLOBENEWSWIRE.COM",
    ],
)
def test_wire_services_are_press_releases(domain: str) -> None:
    kind = kind_of(source_kind_hint=None, feed_tags=["Opinion"], title="Company X Launches Y", source_domain=domain)
    assert kind is Kind.PRESS_RELEASE


def test_press_release_from_hint_or_tag() -> None:
    assert (
        kind_of(source_kind_hint=Kind.PRESS_RELEASE, feed_tags=(), title="t", source_domain="example.com")
        is Kind.PRESS_RELEASE
    )
    assert (
        kind_of(source_kind_hint=None, feed_tags=["Press Release"], title="t", source_domain="decrypt.co")
        is Kind.PRESS_RELEASE
    )
    # A look-alike domain is not a wire service.
    assert kind_of(source_kind_hint=None, feed_tags=(), title="t", source_domain="notprnewswire.com") is Kind.NEWS


@pytest.mark.parametrize(
    ("tags", "title"),
    [
        (["Opinion"], "Bitcoin Needs a New Narrative"),
        (["op-ed"], "Why Stablecoins Matter"),
        (["Column"], "The Week in Crypto"),
        (["Commentary"], "Regulators Are Late Again"),
        ([], "Opinion: The SEC Should Step Back"),
        ([], "Op-Ed: DeFi Is Not Dead"),
    ],
)
def test_opinion_from_tags_or_title_prefix(tags: list[str], title: str) -> None:
    assert kind_of(source_kind_hint=None, feed_tags=tags, title=title, source_domain="coindesk.com") is Kind.OPINION


@pytest.mark.parametrize("tag", ["Analysis", "Market Analysis", "Explainer", "  market   ANALYSIS "])
def test_analysis_from_tags(tag: str) -> None:
    kind = kind_of(source_kind_hint=None, feed_tags=[tag, "News"], title="t", source_domain="theblock.co")
    assert kind is Kind.ANALYSIS


def test_opinion_beats_analysis_and_hint_is_the_fallback() -> None:
    both = kind_of(source_kind_hint=None, feed_tags=["Analysis", "Opinion"], title="t", source_domain="a.com")
    assert both is Kind.OPINION
    assert kind_of(source_kind_hint=Kind.ANALYSIS, feed_tags=(), title="t", source_domain="a.com") is Kind.ANALYSIS
    assert kind_of(
        source_kind_hint=None, feed_tags=["Markets"], title="Opinions differ on ETH", source_domain="a.com"
    ) is (Kind.NEWS)
    # CoinDesk's automated "Technical Analysis" items are news.
    coindesk_tags = ["Markets", "AI Market Insights", "Technical Analysis", "News"]
    assert kind_of(source_kind_hint=None, feed_tags=coindesk_tags, title="t", source_domain="coindesk.com") is Kind.NEWS


# ------------------------------------------------------------------------------------------
# Real crypto feeds
# ------------------------------------------------------------------------------------------


def test_every_function_runs_over_the_real_crypto_feeds() -> None:
    results: dict[str, tuple[Category, tuple[str, ...], Kind]] = {}
    for name in CRYPTO_FEEDS:
        parsed = feedparser.parse(str(REAL_FEEDS / name))
        assert parsed.entries, name
        for entry in parsed.entries:
            title = entry.get("title", "")
            text = _plain(entry.get("summary", ""))
            tags = [tag.get("term") or "" for tag in entry.get("tags", [])]
            category = categorize(title, text, feed_tags=tags)
            coins = coin_tags(title, text)
            kind = kind_of(source_kind_hint=None, feed_tags=tags, title=title, source_domain=name)
            detect_language(f"{title}. {text}", None)
            assert isinstance(category, Category)
            assert len(set(coins)) == len(coins)
            results[title] = (category, coins, kind)

    assert sum("BTC" in coins for _, coins, _ in results.values()) >= 10
    assert {category for category, _, _ in results.values()} == set(Category)
    assert results["DOT Sinks 2% After Breaking Key Support"][:2] == (Category.MARKETS, ("DOT",))
    assert results["Upbit hack puts Binance’s emergency freeze policy under scrutiny"][0] is Category.SECURITY
    assert results["Polish Government Urges President to Sign Crypto Bill He Already Rejected: Report"][0] is (
        Category.POLICY
    )
    assert results["Ether price rallied 260% last time this happened: Can ETH reach $5K?"][:2] == (
        Category.MARKETS,
        ("ETH",),
    )
    # Decrypt lists "Btc: 81.6k ... sol: 123" in lower case: no SOL, no BNB from "bnb: 800".
    plummets = results["Bitcoin Plummets 11%! Crypto in Free-Fall! Guests: OSF & Wizard Of SoHo"][1]
    assert "SOL" not in plummets
    assert "BNB" not in plummets
    # Decrypt tags its "Morning Minute" newsletter column "Opinion"; everything else is news.
    opinions = [title for title, (_, _, kind) in results.items() if kind is Kind.OPINION]
    assert opinions == ["Morning Minute: Do Kwon Gets 15 Years for $40B Terra Luna Fraud"]
    assert all(kind in (Kind.NEWS, Kind.OPINION) for _, _, kind in results.values())

"""The tables classification reads: category terms and section tags, the coin table, the
kind tags and wire services, and the stopword lists. Data only; the rules that use them are in
`classify`, `coins` and `language`."""

from __future__ import annotations

from dataclasses import dataclass

from newsroom.core.models import Category

# --- category ---------------------------------------------------------------------------------

# (regex, weight). Patterns are case-insensitive unless they start with `(?-i:`; acronyms
# that are also ordinary words in lower case ("sec", "dex", "amm", "ipo") are matched only
# in capitals.
CATEGORY_TERMS: dict[Category, tuple[tuple[str, float], ...]] = {
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
TAG_CATEGORIES: dict[str, Category] = {
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


# --- coins ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Coin:
    ticker: str
    # Whole-word name patterns, case-insensitive unless wrapped in (?-i:...).
    names: tuple[str, ...]
    # True when the upper-case ticker is also an ordinary word or someone else's initials,
    # so a bare mention needs crypto evidence (the rules are in `coins`).
    ambiguous_ticker: bool = False


COINS: tuple[Coin, ...] = (
    Coin("BTC", (r"bitcoins?",)),
    # "ETH Zurich" is handled in `coins`; "Ethernet"/"Etherscan" fail the whole-word test.
    Coin("ETH", (r"ethereum", r"ether")),
    # The name is "Solana" only: lower-case "sol" (the sun in Spanish/Portuguese, "o sol nasce",
    # "el sol") is never a coin, and words that merely contain it ("solution", "solar",
    # "console") fail the whole-word test. Upper-case SOL is an ambiguous ticker.
    Coin("SOL", (r"solana",), ambiguous_ticker=True),
    Coin("BNB", (r"bnb\s+chain", r"binance\s+coin")),
    # "Ripple" (the company) counts as XRP, but only capitalised, so the verb/noun "ripple"
    # ("news that rippled", "a ripple of selling") is out, and never in "ripple effect(s)",
    # in any case, since "The Ripple Effect of ..." headlines are about consequences.
    Coin("XRP", (r"(?-i:Ripple|RIPPLE)(?!\s+(?i:effects?)\b)",)),
    # "DOGE" may be the Department of Government Efficiency: see `coins`.
    Coin("DOGE", (r"dogecoin",), ambiguous_ticker=True),
    Coin("ADA", (r"cardano",), ambiguous_ticker=True),  # ADA: Americans with Disabilities Act
    Coin("TRX", (r"tron",), ambiguous_ticker=True),  # TRX: suspension trainers; the film is out of scope
    # Capitalised only: a lower-case avalanche is snow. A capitalised one still needs context.
    Coin("AVAX", (r"(?-i:Avalanche|AVALANCHE)",)),
    Coin("DOT", (r"polkadot",), ambiguous_ticker=True),  # DOT: US Department of Transportation
    # "link" in lower case is never LINK (case-sensitive ticker); "LINK" in capitals needs context.
    Coin("LINK", (r"chainlink",), ambiguous_ticker=True),
    Coin("LTC", (r"litecoin",), ambiguous_ticker=True),  # LTC: long-term care
    Coin("TON", (r"toncoin",), ambiguous_ticker=True),  # TON: a unit of weight in shouted headlines
    # Capitalised only: "to tether" is a verb. "Tether" the company counts as USDT.
    Coin("USDT", (r"(?-i:Tether|TETHER)",)),
    Coin("USDC", (r"usd\s+coin",)),
)

# Names that are also ordinary words even when capitalised (sentence starts): they need the
# same crypto evidence as an ambiguous ticker.
NAMES_NEEDING_CONTEXT = frozenset({"AVAX"})


# --- kind -------------------------------------------------------------------------------------

WIRE_DOMAINS = (
    "prnewswire.com",
    "globenewswire.com",
    "businesswire.com",
    "accesswire.com",
    "einpresswire.com",
)
PRESS_RELEASE_TAGS = frozenset({"press release", "press releases", "press-release", "pr"})
OPINION_TAGS = frozenset(
    {"opinion", "opinions", "op-ed", "op-eds", "oped", "column", "columns", "commentary", "columnists"}
)
# Exact tags only: CoinDesk's "Technical Analysis" sits on automated market news items
# that also carry "News", so it does not make an item Analysis.
ANALYSIS_TAGS = frozenset(
    {"analysis", "market analysis", "markets analysis", "explainer", "explainers", "news analysis"}
)


# --- language ---------------------------------------------------------------------------------

STOPWORDS: dict[str, str] = {
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
# Letters that only some of the candidates use.
DISTINCTIVE_LETTERS: dict[str, str] = {
    "cs": "řěů",
    "sk": "ľĺŕ",
    "es": "ñ¿¡",
    "pt": "ãõ",
    "de": "ß",
}

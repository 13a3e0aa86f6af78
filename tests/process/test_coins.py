"""Coin tags: names and tickers in order, and every ticker trap."""

from __future__ import annotations

import pytest

from newsroom.process.coins import coin_tags

# ------------------------------------------------------------------------------------------
# coin_tags
# ------------------------------------------------------------------------------------------


def test_names_and_tickers_in_order_of_first_appearance_title_first() -> None:
    title = "Solana and Ethereum ETFs See Inflows"
    text = "Bitcoin was flat while XRP, BNB and DOGE rose; Cardano lagged and $LINK jumped."
    assert coin_tags(title, text) == ("SOL", "ETH", "BTC", "XRP", "BNB", "DOGE", "ADA", "LINK")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bitcoin miners sold 2,000 bitcoins.", ("BTC",)),
        ("BTC reclaimed $90,000.", ("BTC",)),
        ("Ether led, and Ethereum fees fell.", ("ETH",)),
        ("ETH staking deposits rose.", ("ETH",)),
        ("Solana validators upgraded.", ("SOL",)),
        ("BNB Chain and Binance Coin holders", ("BNB",)),
        ("XRP and Ripple's token", ("XRP",)),
        ("Ripple won a bank charter.", ("XRP",)),
        ("Dogecoin rallied.", ("DOGE",)),
        ("Cardano (ADA), Tron (TRX) and Avalanche (AVAX) tokens rallied.", ("ADA", "TRX", "AVAX")),
        ("Polkadot, Chainlink, Litecoin and Toncoin rose.", ("DOT", "LINK", "LTC", "TON")),
        ("Tether minted more USDT while USD Coin supply fell and USDC rebounded.", ("USDT", "USDC")),
        ("TRON DAO said the network grew.", ("TRX",)),
        ("Crypto majors: LTC up 3%, TON down 2%, DOT flat.", ("LTC", "TON", "DOT")),
        ("Whales bought 1.2 million LINK.", ("LINK",)),
        ("$btc and $Sol cashtags trended.", ("BTC", "SOL")),
    ],
)
def test_each_coin_by_name_or_ticker(text: str, expected: tuple[str, ...]) -> None:
    assert coin_tags("", text) == expected


def test_names_are_case_insensitive_and_whole_word() -> None:
    assert coin_tags("BITCOIN HITS RECORD", "ethereum and SOLANA too") == ("BTC", "ETH", "SOL")
    # Longer words that contain a name are not the coin.
    assert coin_tags("Ethernet cables", "Etherscan, Bitcoiners' WBTC and stETH") == ()


# Trap: "sol". Lower-case "sol" never counts; words containing it fail the whole-word test.
@pytest.mark.parametrize(
    "text",
    [
        "The solution ships with a solar panel and a game console.",
        "o sol nasce para todos",
        "Hoy el sol brilla en Madrid.",
        "Btc: 81.6k | sol: 123",  # a lower-cased ticker list is not trusted either
    ],
)
def test_sol_trap_lower_case_and_substrings(text: str) -> None:
    assert "SOL" not in coin_tags("", text)


def test_sol_trap_upper_case_needs_crypto_evidence() -> None:
    # Shouted Portuguese/Spanish headlines, and Portugal's newspaper "SOL", are not Solana.
    assert coin_tags("O SOL NASCE PARA TODOS", "Previsão de calor no fim de semana.") == ()
    assert coin_tags("EL SOL DE MEDIANOCHE", "") == ()
    assert coin_tags("Entrevista ao SOL", "O primeiro-ministro falou ao jornal SOL.") == ()
    # ... but upper-case SOL with crypto around it, or local evidence, is.
    assert coin_tags("", "$SOL broke out") == ("SOL",)
    assert coin_tags("SOL token unlock looms", "") == ("SOL",)
    assert coin_tags("SOL price eyes $200", "") == ("SOL",)
    assert coin_tags("SOL jumps 8% on ETF hopes", "") == ("SOL",)
    assert coin_tags("Altcoins rally", "SOL and AVAX led crypto gains.") == ("SOL", "AVAX")


# Trap: "ETH Zurich" is the Swiss university.
@pytest.mark.parametrize(
    "text",
    [
        "Researchers at ETH Zurich published a new cryptography paper.",
        "Forscher der ETH Zürich zeigen einen neuen Angriff.",
        "ETH Zuerich and EPFL lead the ranking; ETH also tops engineering.",
    ],
)
def test_eth_zurich_trap(text: str) -> None:
    assert coin_tags("", text) == ()


def test_eth_zurich_does_not_hide_ether_named_outright() -> None:
    text = "A study from ETH Zurich looked at Ethereum; ETH price moved 3% on the news."
    assert coin_tags("", text) == ("ETH",)
    assert coin_tags("ETH Zurich study", "ETH staking yields were the topic.") == ("ETH",)


# Trap: "DOGE" is also the Department of Government Efficiency.
@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("DOGE Cuts Reach the IRS", "The Department of Government Efficiency said it saved $2 billion."),
        ("Elon Musk's DOGE Targets Federal Agency Contracts", "Agency heads were told to list contracts."),
        ("Musk-led DOGE Faces Lawsuit", "Unions sued over access to payroll systems."),
        ("DOGE staffers leave", "The team led by Musk shrank further."),
        ("Inside DOGE", "Government workers described the federal hiring freeze."),
    ],
)
def test_doge_department_trap(title: str, text: str) -> None:
    assert "DOGE" not in coin_tags(title, text)


def test_doge_department_context_still_counts_dogecoin_by_name() -> None:
    title = "Dogecoin Jumps as Musk's DOGE Department Makes Headlines"
    text = "The Department of Government Efficiency shares a name with the meme coin."
    assert coin_tags(title, text) == ("DOGE",)
    assert coin_tags("Elon Musk's DOGE cuts federal grants", "Traders bid up $DOGE anyway.") == ("DOGE",)


def test_doge_ticker_in_crypto_context_is_dogecoin() -> None:
    assert coin_tags("DOGE Rallies 12% as Memecoins Rebound", "") == ("DOGE",)
    assert coin_tags("Crypto majors", "BTC rose; DOGE led gains as the government shutdown ended.") == (
        "BTC",
        "DOGE",
    )
    assert coin_tags("Elon Musk tweets again", "DOGE price up 9% on the day.") == ("DOGE",)


# Trap: "ripple effect(s)" and the lower-case word "ripple" are not Ripple/XRP.
@pytest.mark.parametrize(
    "text",
    [
        "The rate cut had ripple effects across emerging markets.",
        "A ripple effect hit bond markets.",
        "The Ripple Effect of Higher Tariffs",
        "Selling rippled through stocks; a ripple of fear spread.",
    ],
)
def test_ripple_effect_trap(text: str) -> None:
    assert coin_tags("", text) == ()


def test_ripple_the_company_is_xrp() -> None:
    assert coin_tags("Ripple Wins Trust Charter", "RIPPLE shares rose in private markets.") == ("XRP",)


# Trap: lower-case "link" is a hyperlink; capital "LINK" needs crypto evidence.
def test_link_trap() -> None:
    assert coin_tags("Click the link below", "Follow this link to subscribe; links expire.") == ()
    assert coin_tags("CLICK THE LINK", "Weather alerts for your area.") == ()
    assert coin_tags("", "Oracle token LINK rose alongside other altcoins.") == ("LINK",)


def test_other_ambiguous_tickers_need_crypto_evidence() -> None:
    # ADA: Americans with Disabilities Act; DOT: Department of Transportation; TON: weight.
    assert coin_tags("ADA lawsuit filed against retailer", "The store lacked ramps.") == ()
    assert coin_tags("DOT announces highway funding", "States will receive grants.") == ()
    assert coin_tags("A 40 TON TRUCK", "The bridge closed.") == ()
    assert coin_tags("DOT Sinks 2% After Breaking Key Support", "") == ("DOT",)


def test_tether_and_avalanche_as_english_words() -> None:
    assert coin_tags("", "Climbers tether themselves before an avalanche warning.") == ()
    assert coin_tags("Avalanche Warning Issued for the Alps", "Skiers should stay on marked runs.") == ()
    assert coin_tags("Avalanche Network Upgrade Goes Live", "Validators on the blockchain upgraded.") == ("AVAX",)


def test_tickers_are_case_sensitive() -> None:
    assert coin_tags("", "Eth and Btc, written that way, and xrp") == ()

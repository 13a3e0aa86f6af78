"""Price providers against local servers standing in for CoinGecko, Coinbase and Kraken; the
rules that keep a wrong price off the ticker; 24 h history in moto."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from moto import mock_aws

from devtools.template import create_table
from newsroom.core.models import Price
from newsroom.fetch.http import FetchPolicy
from newsroom.prices.providers import (
    SYMBOL_TO_COINGECKO_ID,
    PriceError,
    choose_prices,
    fetch_coinbase,
    fetch_coingecko,
    fetch_kraken,
    parse_coinbase_stats,
)
from newsroom.prices.refresh import refresh_prices
from newsroom.store.dynamo import DynamoStore
from tests.httpserver import LocalHTTPServer, Reply, http_server_fixture  # noqa: F401

LOCAL = FetchPolicy(connect_timeout=2.0, read_timeout=2.0, allow_private=True)
NOW = datetime(2025, 12, 13, 12, 0, tzinfo=UTC)
ROUTE = "/api/v3/simple/price"

VALID = {
    "bitcoin": {"usd": 90412.5, "usd_24h_change": -1.234, "last_updated_at": 1765627200},
    "ethereum": {"usd": 3101.07, "usd_24h_change": 2.5, "last_updated_at": 1765627190},
    "solana": {"usd": 132.4, "usd_24h_change": 0.0, "last_updated_at": 1765627180},
    "binancecoin": {"usd": 880, "usd_24h_change": 0.31, "last_updated_at": 1765627170},
    "ripple": {"usd": 2.01, "usd_24h_change": -3.9, "last_updated_at": 1765627160},
    "dogecoin": {"usd": 0.1391, "usd_24h_change": 1.02, "last_updated_at": 1765627150},
}


def base_url(server: LocalHTTPServer) -> str:
    return server.url("/api/v3")


def json_reply(document: object, **kwargs: object) -> Reply:
    return Reply(
        body=json.dumps(document).encode(),
        headers={"Content-Type": "application/json"},
        **kwargs,  # type: ignore[arg-type]
    )


def test_valid_response_gives_every_price_in_symbol_order(http_server: LocalHTTPServer) -> None:
    http_server.route(ROUTE, json_reply(VALID, gzip=True))

    prices = fetch_coingecko(base_url(http_server), LOCAL, now=NOW)

    assert [price.symbol for price in prices] == ["BTC", "ETH", "SOL", "BNB", "XRP", "DOGE"]
    btc = prices[0]
    assert btc.pair == "BTC/USD"
    assert btc.price == 90412.5
    assert btc.change_24h_pct == -1.234
    assert btc.provider == "coingecko"
    assert btc.provider_updated_at == datetime(2025, 12, 13, 12, 0, tzinfo=UTC)
    assert btc.fetched_at == NOW
    assert prices[3].price == 880.0  # an integer price is still a price
    assert prices[2].change_24h_pct == 0.0

    (request,) = http_server.requests
    query = parse_qs(urlsplit(request.path).query)
    assert urlsplit(request.path).path == ROUTE
    assert query["ids"] == ["bitcoin,ethereum,solana,binancecoin,ripple,dogecoin"]
    assert query["vs_currencies"] == ["usd"]
    assert query["include_24hr_change"] == ["true"]
    assert query["include_last_updated_at"] == ["true"]
    assert request.headers["accept"] == "application/json"


def test_requested_symbols_only(http_server: LocalHTTPServer) -> None:
    http_server.route(ROUTE, json_reply(VALID))

    prices = fetch_coingecko(base_url(http_server) + "/", LOCAL, symbols=("ETH", "btc"), now=NOW)

    assert [price.symbol for price in prices] == ["ETH", "BTC"]
    assert "ids=ethereum,bitcoin&" in http_server.requests[0].path


def test_unknown_symbol_is_refused_before_any_request(http_server: LocalHTTPServer) -> None:
    with pytest.raises(ValueError, match="PEPE"):
        fetch_coingecko(base_url(http_server), LOCAL, symbols=("BTC", "PEPE"), now=NOW)
    assert http_server.requests == []


@pytest.mark.parametrize(
    "body",
    [b"<html>rate limited</html>", b'{"bitcoin": {"usd": 1', b"", b"\xff\xfe\x00garbage"],
    ids=["html", "truncated", "empty", "binary"],
)
def test_garbage_body_is_not_json(http_server: LocalHTTPServer, body: bytes) -> None:
    http_server.route(ROUTE, Reply(body=body))

    with pytest.raises(PriceError) as caught:
        fetch_coingecko(base_url(http_server), LOCAL, now=NOW)
    assert caught.value.reason == "not-json"


def test_json_that_is_not_an_object_is_bad_shape(http_server: LocalHTTPServer) -> None:
    http_server.route(ROUTE, json_reply([1, 2, 3]))

    with pytest.raises(PriceError) as caught:
        fetch_coingecko(base_url(http_server), LOCAL, now=NOW)
    assert caught.value.reason == "bad-shape"


def test_invalid_values_are_dropped_and_the_rest_kept(http_server: LocalHTTPServer) -> None:
    # json.dumps writes NaN and Infinity literals, which Python's json (like CoinGecko's
    # worst days) produces and accepts.
    document = {
        "bitcoin": {"usd": 0, "usd_24h_change": 1.0, "last_updated_at": 1765627200},
        "ethereum": {"usd": -5.0, "usd_24h_change": 1.0, "last_updated_at": 1765627200},
        "solana": {"usd": float("nan"), "usd_24h_change": 1.0, "last_updated_at": 1765627200},
        "binancecoin": {"usd": float("inf"), "usd_24h_change": 1.0},
        "ripple": {"usd": "2.01", "usd_24h_change": 1.0},
        "dogecoin": {"usd": 0.1391, "usd_24h_change": float("nan"), "last_updated_at": 1765627200000},
    }
    http_server.route(ROUTE, json_reply(document))

    prices = fetch_coingecko(base_url(http_server), LOCAL, now=NOW)

    (doge,) = prices
    assert doge.symbol == "DOGE"
    assert doge.price == 0.1391
    assert doge.change_24h_pct is None  # NaN change does not cost the price
    assert doge.provider_updated_at is None  # milliseconds are not an epoch in seconds


def test_boolean_and_missing_prices_are_dropped(http_server: LocalHTTPServer) -> None:
    document = {"bitcoin": {"usd": True}, "ethereum": {}, "solana": None, "ripple": {"usd": 2.0}}
    http_server.route(ROUTE, json_reply(document))

    prices = fetch_coingecko(base_url(http_server), LOCAL, now=NOW)

    assert [(price.symbol, price.price, price.change_24h_pct) for price in prices] == [("XRP", 2.0, None)]


def test_no_valid_price_at_all_is_an_error(http_server: LocalHTTPServer) -> None:
    http_server.route(ROUTE, json_reply({"bitcoin": {"usd": 0}, "ethereum": {"usd": float("nan")}}))

    with pytest.raises(PriceError) as caught:
        fetch_coingecko(base_url(http_server), LOCAL, now=NOW)
    assert caught.value.reason == "no-valid-price"


def test_empty_object_is_no_valid_price(http_server: LocalHTTPServer) -> None:
    http_server.route(ROUTE, json_reply({}))

    with pytest.raises(PriceError) as caught:
        fetch_coingecko(base_url(http_server), LOCAL, now=NOW)
    assert caught.value.reason == "no-valid-price"


def test_rate_limit_is_http_429_with_retry_after(http_server: LocalHTTPServer) -> None:
    rate_limited = {"status": {"error_code": 429, "error_message": "You've exceeded the Rate Limit"}}
    http_server.route(ROUTE, Reply(status=429, headers={"Retry-After": "60"}, body=json.dumps(rate_limited).encode()))

    with pytest.raises(PriceError) as caught:
        fetch_coingecko(base_url(http_server), LOCAL, now=NOW)

    assert caught.value.reason == "http-429"
    assert caught.value.retry_after == "60"
    assert "Retry-After: 60" in str(caught.value)


def test_slow_provider_times_out(http_server: LocalHTTPServer) -> None:
    http_server.route(ROUTE, json_reply(VALID, delay=5.0))
    policy = FetchPolicy(connect_timeout=1.0, read_timeout=0.3, allow_private=True)

    started = time.monotonic()
    with pytest.raises(PriceError) as caught:
        fetch_coingecko(base_url(http_server), policy, now=NOW)

    assert caught.value.reason == "timeout"
    assert time.monotonic() - started < 1.5


def test_private_provider_address_is_refused_by_default(http_server: LocalHTTPServer) -> None:
    http_server.route(ROUTE, json_reply(VALID))

    with pytest.raises(PriceError) as caught:
        fetch_coingecko(base_url(http_server), FetchPolicy(), now=NOW)

    assert caught.value.reason == "blocked-address"
    assert http_server.requests == []


def test_symbol_mapping_covers_the_defaults() -> None:
    assert dict(SYMBOL_TO_COINGECKO_ID) == {
        "BTC": "bitcoin",
        "ETH": "ethereum",
        "SOL": "solana",
        "BNB": "binancecoin",
        "XRP": "ripple",
        "DOGE": "dogecoin",
    }


# -- second provider, sanity rules and history ----------------------------------------------------

COINBASE_STATS = {
    "BTC": {"open": "88000.00", "high": "91000", "low": "87000", "last": "90420.10", "volume": "1234.5"},
    "ETH": {"open": "3200", "high": "3300", "low": "3000", "last": "3104.00", "volume": "9999"},
    "SOL": {"open": "130", "last": "132.50"},
    "XRP": {"open": "2.1", "last": "2.02"},
    "DOGE": {"open": "0.14", "last": "0.1390"},
}
KRAKEN_TICKER = {
    "error": [],
    "result": {
        # "o" is the open since UTC midnight: deliberately far from the 24 h value.
        "XXBTZUSD": {"a": ["90410.0", "1", "1.0"], "c": ["90400.0", "0.01"], "o": "10000.0"},
        "XETHZUSD": {"c": ["3100.5", "0.2"], "o": "3000"},
        "XDGUSD": {"c": ["0.1388", "100"], "o": "0.1"},
    },
}


def serve_coinbase(server: LocalHTTPServer, stats: dict[str, dict[str, str]] = COINBASE_STATS) -> str:
    for symbol, document in stats.items():
        server.route(f"/cb/products/{symbol}-USD/stats", json_reply(document))
    return server.url("/cb")


def test_coinbase_stats_give_price_and_24h_change_from_its_open(http_server: LocalHTTPServer) -> None:
    prices = fetch_coinbase(serve_coinbase(http_server), LOCAL, now=NOW)

    by_symbol = {p.symbol: p for p in prices}
    assert set(by_symbol) == {"BTC", "ETH", "SOL", "XRP", "DOGE"}  # Coinbase does not list BNB
    btc = by_symbol["BTC"]
    assert (btc.price, btc.provider, btc.fetched_at) == (90420.10, "coinbase", NOW)
    assert btc.change_24h_pct == pytest.approx((90420.10 / 88000 - 1) * 100)


@pytest.mark.parametrize(
    "stats",
    [{"last": "0", "open": "1"}, {"last": "-3", "open": "1"}, {"last": "NaN", "open": "1"}, {"last": "abc"}, []],
)
def test_coinbase_garbage_is_not_a_price(stats: object) -> None:
    assert parse_coinbase_stats(stats, symbol="BTC", fetched_at=NOW) is None


def test_kraken_ticker_ignores_the_midnight_open(http_server: LocalHTTPServer) -> None:
    http_server.route("/kr/0/public/Ticker", json_reply(KRAKEN_TICKER))

    prices = fetch_kraken(http_server.url("/kr"), LOCAL, now=NOW)

    assert [(p.symbol, p.price, p.provider, p.change_24h_pct) for p in prices] == [
        ("BTC", 90400.0, "kraken", None),
        ("ETH", 3100.5, "kraken", None),
        ("DOGE", 0.1388, "kraken", None),
    ]
    assert "pair=XBTUSD,ETHUSD,SOLUSD,BNBUSD,XRPUSD,XDGUSD" in http_server.requests[0].path


def price(
    symbol: str, value: float, provider: str = "coingecko", at: datetime = NOW, change: float | None = 1.0
) -> Price:
    return Price(symbol, "USD", value, change, provider, None, at)


def test_choose_prices_uses_the_primary_and_never_asks_the_fallback_when_it_is_sane() -> None:
    def unused() -> dict[str, Price]:
        raise AssertionError("the second provider must not be asked")

    choice = choose_prices(("BTC",), {"BTC": price("BTC", 90_000)}, unused, {}, now=NOW)

    assert [p.price for p in choice.prices] == [90_000]


def test_choose_prices_falls_back_per_symbol() -> None:
    choice = choose_prices(
        ("BTC", "ETH"),
        {"BTC": price("BTC", 90_000)},
        lambda: {"ETH": price("ETH", 3_100, "coinbase")},
        {},
        now=NOW,
    )

    assert [(p.symbol, p.provider) for p in choice.prices] == [("BTC", "coingecko"), ("ETH", "coinbase")]


def test_absurd_jump_needs_the_second_provider_to_agree() -> None:
    last = {"BTC": price("BTC", 90_000, at=NOW - timedelta(minutes=5))}
    crash = {"BTC": price("BTC", 9_000)}

    unconfirmed = choose_prices(("BTC",), crash, lambda: {}, last, now=NOW)
    confirmed = choose_prices(("BTC",), crash, lambda: {"BTC": price("BTC", 9_050, "coinbase")}, last, now=NOW)
    contradicted = choose_prices(("BTC",), crash, lambda: {"BTC": price("BTC", 90_100, "coinbase")}, last, now=NOW)
    # A jump from a value hours old is a market move, not a glitch: no confirmation needed.
    old = {"BTC": price("BTC", 90_000, at=NOW - timedelta(hours=3))}
    after_hours = choose_prices(("BTC",), crash, lambda: {}, old, now=NOW)

    assert unconfirmed.prices == ()
    assert "not confirmed" in unconfirmed.notes[0]
    assert [(p.price, p.provider) for p in confirmed.prices] == [(9_000, "coingecko")]
    assert [(p.price, p.provider) for p in contradicted.prices] == [(90_100, "coinbase")]
    assert [p.price for p in after_hours.prices] == [9_000]


def test_a_failing_fallback_does_not_cost_the_primary() -> None:
    def broken() -> dict[str, Price]:
        raise PriceError("timeout")

    choice = choose_prices(("BTC", "ETH"), {"BTC": price("BTC", 90_000)}, broken, {}, now=NOW)

    assert [p.symbol for p in choice.prices] == ["BTC"]


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_zero_negative_and_non_finite_prices_are_never_chosen(bad: float) -> None:
    choice = choose_prices(
        ("BTC",), {"BTC": price("BTC", bad)}, lambda: {"BTC": price("BTC", bad, "coinbase")}, {}, now=NOW
    )

    assert choice.prices == ()


@pytest.fixture
def price_store() -> Iterator[DynamoStore]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "t")
        yield DynamoStore(client, "t", b"secret")


@pytest.mark.parametrize(
    "failure",
    [
        Reply(status=500),
        Reply(status=429, headers={"Retry-After": "60"}),
        Reply(body=b"<html>maintenance</html>"),
        Reply(body=json.dumps({"bitcoin": {"usd": 0}}).encode()),
        Reply(body=json.dumps(VALID).encode(), delay=3.0),
    ],
    ids=["500", "429", "garbage", "zero", "timeout"],
)
def test_refresh_uses_the_second_provider_when_the_first_fails(
    http_server: LocalHTTPServer, price_store: DynamoStore, failure: Reply
) -> None:
    http_server.route(ROUTE, failure)
    policy = FetchPolicy(connect_timeout=1.0, read_timeout=0.5, allow_private=True)
    fallback_url = serve_coinbase(http_server)

    stored = refresh_prices(
        price_store,
        base_url(http_server),
        policy,
        symbols=("BTC", "ETH"),
        now=NOW,
        fallback=lambda: fetch_coinbase(fallback_url, policy, symbols=("BTC", "ETH"), now=NOW),
    )

    assert [(p.symbol, p.provider) for p in stored] == [("BTC", "coinbase"), ("ETH", "coinbase")]
    assert {p.pair: p.provider for p in price_store.get_prices()} == {"BTC/USD": "coinbase", "ETH/USD": "coinbase"}


def test_refresh_rejects_an_unconfirmed_jump_and_keeps_the_last_good_price(
    http_server: LocalHTTPServer, price_store: DynamoStore
) -> None:
    price_store.put_prices([price("BTC", 90_000, at=NOW - timedelta(minutes=5))])
    http_server.route(ROUTE, json_reply({"bitcoin": {"usd": 900.0, "usd_24h_change": -99.0}}))

    stored = refresh_prices(price_store, base_url(http_server), LOCAL, symbols=("BTC",), now=NOW, fallback=lambda: [])

    assert stored == []
    (kept,) = price_store.get_prices()
    assert (kept.price, kept.fetched_at) == (90_000, NOW - timedelta(minutes=5))


def test_24h_change_comes_from_history_when_the_provider_lacks_it(
    http_server: LocalHTTPServer, price_store: DynamoStore
) -> None:
    price_store.put_prices([price("BTC", 80_000, at=NOW - timedelta(hours=24, minutes=4))])
    price_store.put_prices([price("BTC", 89_000, at=NOW - timedelta(hours=1))])
    http_server.route(ROUTE, Reply(status=503))
    http_server.route("/kr/0/public/Ticker", json_reply(KRAKEN_TICKER))

    stored = refresh_prices(
        price_store,
        base_url(http_server),
        LOCAL,
        symbols=("BTC",),
        now=NOW,
        fallback=lambda: fetch_kraken(http_server.url("/kr"), LOCAL, symbols=("BTC",), now=NOW),
    )

    (btc,) = stored
    assert btc.provider == "kraken"
    assert btc.change_24h_pct == pytest.approx((90_400 / 80_000 - 1) * 100)  # not from Kraken's midnight open
    assert price_store.get_prices()[0].change_24h_pct == pytest.approx(13.0)


def test_history_without_a_price_near_24h_ago_leaves_the_change_unknown(
    http_server: LocalHTTPServer, price_store: DynamoStore
) -> None:
    price_store.put_prices([price("BTC", 89_000, at=NOW - timedelta(hours=3))])
    http_server.route(ROUTE, json_reply({"bitcoin": {"usd": 90_000.0}}))

    (btc,) = refresh_prices(price_store, base_url(http_server), LOCAL, symbols=("BTC",), now=NOW)

    assert btc.change_24h_pct is None


def test_each_provider_asked_has_its_health_stored_beside_the_prices(
    http_server: LocalHTTPServer, price_store: DynamoStore
) -> None:
    fallback_url = serve_coinbase(http_server)

    def refresh(at: datetime) -> None:
        refresh_prices(
            price_store,
            base_url(http_server),
            LOCAL,
            symbols=("BTC", "ETH"),
            now=at,
            fallback=lambda: fetch_coinbase(fallback_url, LOCAL, symbols=("BTC", "ETH"), now=at),
            fallback_name="coinbase",
        )

    http_server.route(ROUTE, Reply(status=503))
    refresh(NOW)
    refresh(NOW + timedelta(minutes=5))
    prices, health = price_store.get_price_board()
    assert {p.provider for p in prices} == {"coinbase"}
    down = health["coingecko"]
    assert (down.consecutive_failures, down.last_success, down.last_error_at) == (2, None, NOW + timedelta(minutes=5))
    assert down.last_error is not None and "503" in down.last_error
    assert health["coinbase"].consecutive_failures == 0 and health["coinbase"].last_success == NOW + timedelta(
        minutes=5
    )

    http_server.route(ROUTE, json_reply(VALID))
    refresh(NOW + timedelta(minutes=10))
    _, health = price_store.get_price_board()
    back = health["coingecko"]
    assert (back.consecutive_failures, back.last_success) == (0, NOW + timedelta(minutes=10))
    assert back.last_error_at == NOW + timedelta(minutes=5)  # the last failure is still told
    # The fallback was not needed this time, so it was not asked: its health is as it was.
    assert health["coinbase"].last_attempt == NOW + timedelta(minutes=5)

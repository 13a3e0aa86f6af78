"""fetch_coingecko against a local server standing in for api.coingecko.com."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from newsroom.http import FetchPolicy
from newsroom.prices import SYMBOL_TO_COINGECKO_ID, PriceError, fetch_coingecko
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

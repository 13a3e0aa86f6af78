"""Prices, changes, dates and reading times as the reference page shows them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from newsroom.core.models import Price
from newsroom.serve.display import format_change, format_date, format_reading_time, format_usd, price_display

FETCHED = datetime(2026, 5, 31, 8, 0, tzinfo=UTC)


def _price(symbol: str, price: float, change: float | None) -> Price:
    return Price(
        symbol=symbol,
        quote="USD",
        price=price,
        change_24h_pct=change,
        provider="test",
        provider_updated_at=FETCHED,
        fetched_at=FETCHED,
    )


# The six pairs of the reference page, from the kind of floats a price API returns.
REFERENCE_TICKER = [
    (_price("BTC", 68420.13, 2.8123), "BTC/USD", "$68,420 +2.8%"),
    (_price("ETH", 3540.4871, 1.3999), "ETH/USD", "$3,540 +1.4%"),
    (_price("SOL", 142.7961, -0.6234), "SOL/USD", "$142.80 -0.6%"),
    (_price("BNB", 605.2049, 0.8765), "BNB/USD", "$605.20 +0.9%"),
    (_price("XRP", 0.6189, -1.1501), "XRP/USD", "$0.62 -1.2%"),
    (_price("DOGE", 0.18044, 5.449), "DOGE/USD", "$0.18 +5.4%"),
]


@pytest.mark.parametrize(("price", "pair", "expected"), REFERENCE_TICKER, ids=[p for _, p, _ in REFERENCE_TICKER])
def test_reference_ticker_reads_as_on_the_page(price: Price, pair: str, expected: str) -> None:
    assert f"{price.pair} {price_display(price)}" == f"{pair} {expected}"


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        # whole dollars from $1,000 up, with separators
        (1000, "$1,000"),
        (1000.49, "$1,000"),
        (1000.5, "$1,001"),
        (1234567.5, "$1,234,568"),
        (1e40, "$10,000,000,000,000,000,000,000,000,000,000,000,000,000"),
        # rounding carries a sub-$1,000 price into the whole-dollar tier, never to "$1,000.00"
        (999.999, "$1,000"),
        (999.995, "$1,000"),
        (999.994, "$999.99"),
        (999.6, "$999.60"),
        # two decimals from $0.01 to below $1,000
        (142.8, "$142.80"),
        (0.01, "$0.01"),
        (5, "$5.00"),
        # half away from zero on the written decimal, not the binary float (142.805 is 142.80499...)
        (142.805, "$142.81"),
        (0.125, "$0.13"),
        (2.675, "$2.68"),
        # four significant digits below $0.01
        (0.0001234, "$0.0001234"),
        (0.00012345, "$0.0001235"),
        (0.009999, "$0.009999"),
        (0.005, "$0.005000"),
        (1e-12, "$0.000000000001000"),
        # ... unless rounding reaches a cent
        (0.0099999, "$0.01"),
        (0, "$0.00"),
        (-5.5, "-$5.50"),
        (-1500, "-$1,500"),
    ],
)
def test_format_usd(amount: float, expected: str) -> None:
    assert format_usd(amount) == expected


@pytest.mark.parametrize("amount", [float("nan"), float("inf"), float("-inf")])
def test_format_usd_refuses_non_finite_prices(amount: float) -> None:
    with pytest.raises(ValueError, match="not a displayable price"):
        format_usd(amount)


@pytest.mark.parametrize(
    ("pct", "expected"),
    [
        (2.8123, "+2.8%"),
        (-0.6234, "-0.6%"),
        (0.0, "+0.0%"),
        (-0.0, "+0.0%"),
        (-0.04, "+0.0%"),
        (0.04, "+0.0%"),
        (-0.05, "-0.1%"),
        (0.05, "+0.1%"),
        (1.25, "+1.3%"),
        (-1.25, "-1.3%"),
        (12.0, "+12.0%"),
        (-100, "-100.0%"),
        (1234.56, "+1234.6%"),
        (None, ""),
        (float("nan"), ""),
        (float("inf"), ""),
    ],
)
def test_format_change(pct: float | None, expected: str) -> None:
    assert format_change(pct) == expected


def test_price_without_a_change_shows_the_price_alone() -> None:
    assert price_display(_price("BTC", 68420.13, None)) == "$68,420"


def test_price_with_a_negative_zero_change_is_unsigned_positive() -> None:
    assert price_display(_price("ETH", 3540.0, -0.0)) == "$3,540 +0.0%"


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 5, 31, 8, 15, tzinfo=UTC), "May 31, 2026"),
        (datetime(2026, 1, 1, tzinfo=UTC), "January 1, 2026"),
        (datetime(2025, 12, 9, 23, 59, tzinfo=UTC), "December 9, 2025"),
        # the UTC date, whatever zone the value carries: 23:30 in New York on May 30 is May 31 UTC
        (datetime(2026, 5, 30, 23, 30, tzinfo=timezone(timedelta(hours=-4))), "May 31, 2026"),
        # naive values are UTC
        (datetime(2026, 9, 2, 12, 0), "September 2, 2026"),
    ],
)
def test_format_date(moment: datetime, expected: str) -> None:
    assert format_date(moment) == expected


@pytest.mark.parametrize(
    ("minutes", "expected"), [(4, "4 min read"), (1, "1 min read"), (0, "1 min read"), (27, "27 min read")]
)
def test_format_reading_time(minutes: int, expected: str) -> None:
    assert format_reading_time(minutes) == expected

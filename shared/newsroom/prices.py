"""Spot prices from CoinGecko's `/simple/price` endpoint.

Rules:

- One request for all symbols, through `http_get`, so the same size cap, timeouts and address
  rules apply as for feeds (`allow_private` comes from the policy: tests point it at 127.0.0.1).
- Every value is checked before it becomes a `Price`: the price must be a finite number above
  zero; a 24h change that is not a finite number becomes None rather than dropping the price; a
  `last_updated_at` that is not a plausible epoch becomes None. A symbol whose price fails is left
  out; the others are kept.
- `PriceError` is the only failure: its `reason` is the fetch reason ("timeout", "http-429", ...)
  when the request failed, else "not-json", "bad-shape" or "no-valid-price".
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType

import urllib3

from newsroom.http import FetchError, FetchPolicy, http_get
from newsroom.models import Price, utc

PROVIDER = "coingecko"
QUOTE = "USD"
DEFAULT_SYMBOLS: tuple[str, ...] = ("BTC", "ETH", "SOL", "BNB", "XRP", "DOGE")

SYMBOL_TO_COINGECKO_ID: Mapping[str, str] = MappingProxyType(
    {
        "BTC": "bitcoin",
        "ETH": "ethereum",
        "SOL": "solana",
        "BNB": "binancecoin",
        "XRP": "ripple",
        "DOGE": "dogecoin",
    }
)

# Price updates older than 2009 or timestamps in milliseconds are not epochs we believe.
_EARLIEST_EPOCH = 1_230_768_000  # 2009-01-01
_LATEST_EPOCH = 4_102_444_800  # 2100-01-01


class PriceError(Exception):
    """No usable prices; `reason` is short and stable for metrics and stored health."""

    def __init__(self, reason: str, message: str | None = None, *, retry_after: str | None = None) -> None:
        super().__init__(message or reason)
        self.reason = reason
        self.retry_after = retry_after


def coingecko_url(base_url: str, symbols: Sequence[str]) -> str:
    ids = ",".join(coingecko_id(symbol) for symbol in symbols)
    return (
        f"{base_url.rstrip('/')}/simple/price?ids={ids}&vs_currencies=usd"
        "&include_24hr_change=true&include_last_updated_at=true"
    )


def coingecko_id(symbol: str) -> str:
    try:
        return SYMBOL_TO_COINGECKO_ID[symbol.upper()]
    except KeyError:
        raise ValueError(f"no CoinGecko id known for symbol {symbol!r}") from None


def fetch_coingecko(
    base_url: str,
    policy: FetchPolicy,
    *,
    symbols: Sequence[str] = DEFAULT_SYMBOLS,
    now: datetime,
    pool: urllib3.PoolManager | None = None,
) -> tuple[Price, ...]:
    url = coingecko_url(base_url, symbols)  # unknown symbols fail here, before any request
    try:
        result = http_get(url, policy, accept="application/json", pool=pool)
    except FetchError as exc:
        raise PriceError(exc.reason, str(exc), retry_after=exc.retry_after) from exc
    try:
        document = json.loads(result.body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise PriceError("not-json", f"CoinGecko answered with something that is not JSON: {exc}") from exc
    return parse_coingecko(document, symbols=symbols, fetched_at=now)


def parse_coingecko(document: object, *, symbols: Sequence[str], fetched_at: datetime) -> tuple[Price, ...]:
    """Prices from a decoded `/simple/price` answer, in the order of `symbols`."""
    if not isinstance(document, Mapping):
        raise PriceError("bad-shape", f"expected a JSON object, got {type(document).__name__}")
    fetched = utc(fetched_at)
    prices: list[Price] = []
    for symbol in symbols:
        quote = document.get(coingecko_id(symbol))
        if not isinstance(quote, Mapping):
            continue
        price = _finite(quote.get("usd"))
        if price is None or price <= 0:
            continue
        prices.append(
            Price(
                symbol=symbol.upper(),
                quote=QUOTE,
                price=price,
                change_24h_pct=_finite(quote.get("usd_24h_change")),
                provider=PROVIDER,
                provider_updated_at=_epoch(quote.get("last_updated_at")),
                fetched_at=fetched,
            )
        )
    if not prices:
        raise PriceError("no-valid-price", "CoinGecko returned no valid price for " + ", ".join(symbols))
    return tuple(prices)


def _finite(value: object) -> float | None:
    # bool is an int in Python; true is not a price.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return number if math.isfinite(number) else None


def _epoch(value: object) -> datetime | None:
    seconds = _finite(value)
    if seconds is None or not _EARLIEST_EPOCH <= seconds < _LATEST_EPOCH:
        return None
    return datetime.fromtimestamp(seconds, tz=UTC)

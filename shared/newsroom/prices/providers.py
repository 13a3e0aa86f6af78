"""Spot prices: CoinGecko's `/simple/price` first, Coinbase Exchange or Kraken as the second
provider, and the rules that keep a wrong number off the ticker.

Rules:

- One request for all symbols, through `http_get`, so the same size cap, timeouts and address
  rules apply as for feeds (`allow_private` comes from the policy: tests point it at 127.0.0.1).
- Every value is checked before it becomes a `Price`: the price must be a finite number above
  zero; a 24h change that is not a finite number becomes None rather than dropping the price; a
  `last_updated_at` that is not a plausible epoch becomes None. A symbol whose price fails is left
  out; the others are kept.
- `PriceError` is the only failure: its `reason` is the fetch reason ("timeout", "http-429", ...)
  when the request failed, else "not-json", "bad-shape" or "no-valid-price".
- Second provider: Coinbase Exchange's `/products/<SYM>-USD/stats` (one request per symbol; its
  `open` is the price 24 h ago, so the 24 h change is computed from it) or Kraken's
  `/0/public/Ticker` (one request; its `o` is the open since **UTC midnight**, not 24 h ago, so
  Kraken prices carry no 24 h change of their own and it is computed from our history instead).
- `choose_prices` decides per symbol: the primary's price when it is sane; the second
  provider's when the primary failed, timed out, was rate-limited, returned garbage or lacks
  the symbol; and a price that jumped more than `max_jump_pct` from the last good value within
  `jump_window` is stored only when the other provider agrees (within `agree_pct`). Otherwise
  nothing is stored for that symbol and the last good price ages into `stale`.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import urllib3

from newsroom.core.models import Price, utc
from newsroom.fetch.http import FetchError, FetchPolicy, http_get

logger = logging.getLogger(__name__)

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


def _get_json(url: str, policy: FetchPolicy, *, pool: urllib3.PoolManager | None, provider: str) -> object:
    """One provider request, decoded: every failure, of the fetch or of the JSON, is a PriceError."""
    try:
        result = http_get(url, policy, accept="application/json", pool=pool)
    except FetchError as exc:
        raise PriceError(exc.reason, str(exc), retry_after=exc.retry_after) from exc
    try:
        return json.loads(result.body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise PriceError("not-json", f"{provider} answered with something that is not JSON: {exc}") from exc


def fetch_coingecko(
    base_url: str,
    policy: FetchPolicy,
    *,
    symbols: Sequence[str] = DEFAULT_SYMBOLS,
    now: datetime,
    pool: urllib3.PoolManager | None = None,
) -> tuple[Price, ...]:
    url = coingecko_url(base_url, symbols)  # unknown symbols fail here, before any request
    document = _get_json(url, policy, pool=pool, provider="CoinGecko")
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


# -- second providers -----------------------------------------------------------------------

COINBASE = "coinbase"
KRAKEN = "kraken"
# Kraken's historic names: XBT for bitcoin, XDG for dogecoin; results come back under "XXBTZUSD"-like keys.
SYMBOL_TO_KRAKEN_PAIR: Mapping[str, str] = MappingProxyType(
    {"BTC": "XBTUSD", "ETH": "ETHUSD", "SOL": "SOLUSD", "BNB": "BNBUSD", "XRP": "XRPUSD", "DOGE": "XDGUSD"}
)
_KRAKEN_RESULT_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "BTC": ("XXBTZUSD", "XBTUSD"),
        "ETH": ("XETHZUSD", "ETHUSD"),
        "SOL": ("SOLUSD",),
        "BNB": ("BNBUSD",),
        "XRP": ("XXRPZUSD", "XRPUSD"),
        "DOGE": ("XDGUSD", "XXDGZUSD"),
    }
)


def fetch_coinbase(
    base_url: str,
    policy: FetchPolicy,
    *,
    symbols: Sequence[str] = DEFAULT_SYMBOLS,
    now: datetime,
    pool: urllib3.PoolManager | None = None,
) -> tuple[Price, ...]:
    """Coinbase Exchange 24 h stats, one request per symbol (concurrently); a symbol Coinbase
    does not list (BNB) or answers badly for is left out."""

    def one(symbol: str) -> Price | None:
        url = f"{base_url.rstrip('/')}/products/{symbol.upper()}-USD/stats"
        try:
            document = _get_json(url, policy, pool=pool, provider="Coinbase")
        except PriceError as exc:
            logger.info("coinbase %s: %s", symbol, exc)
            return None
        return parse_coinbase_stats(document, symbol=symbol, fetched_at=now)

    with ThreadPoolExecutor(max_workers=max(1, min(len(symbols), 6))) as executor:
        found = [price for price in executor.map(one, symbols) if price is not None]
    if not found:
        raise PriceError("no-valid-price", "Coinbase returned no valid price for " + ", ".join(symbols))
    return tuple(found)


def parse_coinbase_stats(document: object, *, symbol: str, fetched_at: datetime) -> Price | None:
    """One `/products/<SYM>-USD/stats` answer: strings for numbers; `open` is 24 h ago."""
    if not isinstance(document, Mapping):
        return None
    last = _number(document.get("last"))
    if last is None or last <= 0:
        return None
    opened = _number(document.get("open"))
    change = (last / opened - 1) * 100 if opened is not None and opened > 0 else None
    return Price(
        symbol=symbol.upper(),
        quote=QUOTE,
        price=last,
        change_24h_pct=change,
        provider=COINBASE,
        provider_updated_at=None,
        fetched_at=utc(fetched_at),
    )


def fetch_kraken(
    base_url: str,
    policy: FetchPolicy,
    *,
    symbols: Sequence[str] = DEFAULT_SYMBOLS,
    now: datetime,
    pool: urllib3.PoolManager | None = None,
) -> tuple[Price, ...]:
    pairs = ",".join(SYMBOL_TO_KRAKEN_PAIR[s.upper()] for s in symbols if s.upper() in SYMBOL_TO_KRAKEN_PAIR)
    url = f"{base_url.rstrip('/')}/0/public/Ticker?pair={pairs}"
    document = _get_json(url, policy, pool=pool, provider="Kraken")
    return parse_kraken(document, symbols=symbols, fetched_at=now)


def parse_kraken(document: object, *, symbols: Sequence[str], fetched_at: datetime) -> tuple[Price, ...]:
    """Kraken `/0/public/Ticker`: `c[0]` is the last trade. `o` is today's open (since UTC
    midnight), which is *not* a 24 h change, so none is given here (history fills it in)."""
    if not isinstance(document, Mapping) or not isinstance(document.get("result"), Mapping):
        raise PriceError("bad-shape", "Kraken answer has no result object")
    results = document["result"]
    prices: list[Price] = []
    for symbol in symbols:
        ticker = next((results[k] for k in _KRAKEN_RESULT_KEYS.get(symbol.upper(), ()) if k in results), None)
        if not isinstance(ticker, Mapping) or not isinstance(ticker.get("c"), list) or not ticker["c"]:
            continue
        last = _number(ticker["c"][0])
        if last is None or last <= 0:
            continue
        prices.append(
            Price(
                symbol=symbol.upper(),
                quote=QUOTE,
                price=last,
                change_24h_pct=None,
                provider=KRAKEN,
                provider_updated_at=None,
                fetched_at=utc(fetched_at),
            )
        )
    if not prices:
        raise PriceError("no-valid-price", "Kraken returned no valid price for " + ", ".join(symbols))
    return tuple(prices)


def _number(value: object) -> float | None:
    """A finite number from a JSON number or a numeric string (Coinbase and Kraken send strings)."""
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return _finite(value)


# -- choosing what to store -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PriceRules:
    max_jump_pct: float = 50.0  # a move larger than this from the last good value is suspect...
    jump_window: timedelta = timedelta(minutes=30)  # ...when that value is this recent
    agree_pct: float = 2.0  # two providers agree when within this of each other


@dataclass(frozen=True, slots=True)
class Choice:
    prices: tuple[Price, ...]
    notes: tuple[str, ...]  # why a symbol was taken from the fallback or left out


def _jump_pct(price: float, reference: float) -> float:
    return abs(price / reference - 1) * 100


def choose_prices(
    symbols: Sequence[str],
    primary: Mapping[str, Price] | None,
    secondary: Callable[[], Mapping[str, Price]],
    last_good: Mapping[str, Price],
    *,
    now: datetime,
    rules: PriceRules = PriceRules(),
) -> Choice:
    """Per symbol, the price to store (see the module docstring); `secondary` is called at most
    once, and only when needed."""
    fetched: dict[str, Mapping[str, Price]] = {}

    def second() -> Mapping[str, Price]:
        if "s" not in fetched:
            try:
                fetched["s"] = secondary()
            except Exception as exc:  # the fallback failing must not cost the primary's prices
                logger.warning("second price provider failed: %s", exc)
                fetched["s"] = {}
        return fetched["s"]

    def suspicious(price: Price) -> bool:
        last = last_good.get(price.symbol)
        if last is None or utc(now) - utc(last.fetched_at) > rules.jump_window:
            return False
        return _jump_pct(price.price, last.price) > rules.max_jump_pct

    chosen: list[Price] = []
    notes: list[str] = []
    for symbol in (s.upper() for s in symbols):
        candidate = (primary or {}).get(symbol)
        if candidate is not None and not _sane(candidate):
            candidate = None
        if candidate is None:
            alternative = second().get(symbol)
            if alternative is None or not _sane(alternative):
                notes.append(f"{symbol}: no provider had a valid price; keeping the last good one")
            elif suspicious(alternative):
                notes.append(f"{symbol}: fallback price {alternative.price} jumped and could not be confirmed")
            else:
                notes.append(f"{symbol}: taken from {alternative.provider}")
                chosen.append(alternative)
            continue
        if suspicious(candidate):
            confirmation = second().get(symbol)
            if (
                confirmation is not None
                and _sane(confirmation)
                and _jump_pct(candidate.price, confirmation.price) <= rules.agree_pct
            ):
                notes.append(f"{symbol}: jump to {candidate.price} confirmed by {confirmation.provider}")
                chosen.append(candidate)
            elif confirmation is not None and _sane(confirmation) and not suspicious(confirmation):
                # The primary is the odd one out: the other provider still agrees with our history.
                notes.append(f"{symbol}: jump to {candidate.price} rejected; taken from {confirmation.provider}")
                chosen.append(confirmation)
            else:
                notes.append(f"{symbol}: jump to {candidate.price} not confirmed; keeping the last good price")
            continue
        chosen.append(candidate)
    return Choice(tuple(chosen), tuple(notes))


def _sane(price: Price) -> bool:
    return (
        math.isfinite(price.price)
        and price.price > 0
        and (price.change_24h_pct is None or math.isfinite(price.change_24h_pct))
    )


def with_change_from_history(price: Price, day_ago: Price | None) -> Price:
    """Fill a missing 24 h change from the stored price about 24 h earlier."""
    if price.change_24h_pct is not None or day_ago is None or day_ago.price <= 0:
        return price
    return replace(price, change_24h_pct=(price.price / day_ago.price - 1) * 100)


def fetch_fallback(
    provider: str,
    base_url: str,
    policy: FetchPolicy,
    *,
    symbols: Sequence[str],
    now: datetime,
    pool: urllib3.PoolManager | None = None,
) -> tuple[Price, ...]:
    if provider == COINBASE:
        return fetch_coinbase(base_url, policy, symbols=symbols, now=now, pool=pool)
    if provider == KRAKEN:
        return fetch_kraken(base_url, policy, symbols=symbols, now=now, pool=pool)
    raise ValueError(f"unknown price provider {provider!r} (use coinbase or kraken)")

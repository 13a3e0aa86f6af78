"""The price board's refresh: ask the providers (`providers.choose_prices` decides between
them), fill in 24-hour changes from stored history, store the prices and each provider's health.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from newsroom.core.models import Price, ProviderHealth
from newsroom.fetch.http import FetchError, FetchPolicy
from newsroom.prices.providers import PriceError, PriceRules, choose_prices, fetch_coingecko, with_change_from_history
from newsroom.store.roles import PricesStore

logger = logging.getLogger(__name__)

PRIMARY_PROVIDER = "coingecko"
# How far from exactly 24 h ago a stored price may be to stand in for "the price 24 h ago".
HISTORY_TOLERANCE = timedelta(minutes=30)


def refresh_prices(
    store: PricesStore,
    base_url: str,
    policy: FetchPolicy,
    *,
    symbols: Sequence[str],
    now: datetime | None = None,
    fallback: Callable[[], Sequence[Price]] | None = None,
    fallback_name: str = "fallback",
    rules: PriceRules | None = None,
) -> list[Price]:
    """Fetch, check and store prices; the second provider (`fallback`) is asked only when the
    first fails, lacks a symbol or reports a jump that needs confirming (`prices.choose_prices`).
    Nothing stored means the last good prices stay and age into `stale` on /prices. Each
    provider asked has its health stored beside the prices (`/prices` shows it)."""
    moment = now or datetime.now(UTC)
    # provider -> None when it answered usably, else the reason it did not
    answered: dict[str, str | None] = {}
    primary: dict[str, Price] | None
    try:
        primary = {p.symbol: p for p in fetch_coingecko(base_url, policy, symbols=symbols, now=moment)}
        answered[PRIMARY_PROVIDER] = None
    except (PriceError, FetchError) as exc:
        logger.warning("primary price provider failed: %s", exc)
        answered[PRIMARY_PROVIDER] = _price_failure(exc)
        primary = None

    def second() -> dict[str, Price]:
        if fallback is None:
            return {}
        try:
            got = {p.symbol: p for p in fallback()}
        except Exception as exc:  # choose_prices logs it and carries on with what it has
            answered[fallback_name] = _price_failure(exc)
            raise
        answered[fallback_name] = None
        return got

    last_good, health = store.get_price_board()
    choice = choose_prices(
        symbols, primary, second, {p.symbol: p for p in last_good}, now=moment, rules=rules or PriceRules()
    )
    for note in choice.notes:
        logger.info("prices: %s", note)
    prices = [
        with_change_from_history(p, store.price_near(p.pair, moment - timedelta(hours=24), HISTORY_TOLERANCE))
        if p.change_24h_pct is None
        else p
        for p in choice.prices
    ]
    if prices:
        store.put_prices(prices)
    store.put_provider_health([provider_health(health.get(n), n, why, moment) for n, why in answered.items()])
    return prices


def _price_failure(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or type(exc).__name__
    return f"{reason}: {exc}"[:300]


def provider_health(
    previous: ProviderHealth | None, provider: str, failure: str | None, now: datetime
) -> ProviderHealth:
    """A provider's health after it was asked at `now` and answered (failure None) or not."""
    if failure is None:
        return ProviderHealth(
            provider,
            last_attempt=now,
            last_success=now,
            last_error=previous.last_error if previous else None,
            last_error_at=previous.last_error_at if previous else None,
        )
    return ProviderHealth(
        provider,
        last_attempt=now,
        last_success=previous.last_success if previous else None,
        last_error=failure,
        last_error_at=now,
        consecutive_failures=(previous.consecutive_failures if previous else 0) + 1,
    )

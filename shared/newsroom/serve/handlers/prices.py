"""`/prices`: the price ticker, with each provider's health."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from newsroom.core.models import ProviderHealth, iso
from newsroom.serve.caching import Body
from newsroom.serve.display import price_display
from newsroom.serve.request import Request


def prices(request: Request) -> Body:
    cfg = request.config()
    now = datetime.now(UTC)
    prices, providers = request.store.get_price_board()
    by_symbol = {p.symbol: p for p in prices}
    items = []
    for symbol in cfg.price_symbols:
        price = by_symbol.get(symbol)
        if price is None:
            continue
        age = (now - price.fetched_at).total_seconds()
        stale = age > cfg.price_stale_seconds
        items.append(
            {
                "pair": price.pair,
                "symbol": price.symbol,
                "quote": price.quote,
                "price": price.price,
                "change_24h_pct": price.change_24h_pct,
                "display": price_display(price),
                "as_of": (price.provider_updated_at or price.fetched_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "fetched_at": price.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "provider": price.provider,
                "age_seconds": int(age),
                "stale": stale,
            }
        )
    body = {
        "items": items,
        "stale_after_seconds": cfg.price_stale_seconds,
        "providers": [_provider_json(h) for _, h in sorted(providers.items())],
    }
    return Body(json.dumps(body))


def _provider_json(health: ProviderHealth) -> dict[str, Any]:
    return {
        "provider": health.provider,
        "status": "failing" if health.consecutive_failures else "ok",
        "last_attempt": iso(health.last_attempt),
        "last_success": iso(health.last_success) if health.last_success else None,
        "last_error": health.last_error,
        "last_error_at": iso(health.last_error_at) if health.last_error_at else None,
        "consecutive_failures": health.consecutive_failures,
    }

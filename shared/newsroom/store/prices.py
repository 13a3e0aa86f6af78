"""Prices: the latest price of each pair and each provider's health (one `PRICES` partition,
read in one Query) and 24 hours of price history (see `keys` for the key design)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from newsroom.core.codec import price_from_doc, price_to_doc
from newsroom.core.models import Price, ProviderHealth, iso, parse_iso
from newsroom.store.keys import PROVIDER_PREFIX, string_attr
from newsroom.store.table import Table

PRICE_HISTORY_TTL = timedelta(hours=26)


class PriceItems(Table):
    def put_prices(self, prices: Sequence[Price]) -> None:
        requests: list[dict[str, Any]] = []
        for price in prices:
            doc = string_attr(json.dumps(price_to_doc(price), separators=(",", ":")))
            requests.append(
                {"PutRequest": {"Item": {"PK": string_attr("PRICES"), "SK": string_attr(price.pair), "doc": doc}}}
            )
            expires = int((price.fetched_at + PRICE_HISTORY_TTL).timestamp())
            requests.append(
                {
                    "PutRequest": {
                        "Item": {
                            "PK": string_attr(f"PRICEHIST#{price.pair}"),
                            "SK": string_attr(iso(price.fetched_at)),
                            "doc": doc,
                            "expires_at": {"N": str(expires)},
                        }
                    }
                }
            )
        self._batch_write(requests)

    def get_prices(self) -> list[Price]:
        return self.get_price_board()[0]

    def get_price_board(self) -> tuple[list[Price], dict[str, ProviderHealth]]:
        """The latest price of each pair and each provider's health: one Query of the `PRICES`
        partition (SK = pair, or `PROVIDER#<name>`)."""
        resp = self._db.query(
            TableName=self._table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": string_attr("PRICES")},
        )
        prices: list[Price] = []
        providers: dict[str, ProviderHealth] = {}
        for item in resp.get("Items", []):
            doc = json.loads(item["doc"]["S"])
            if item["SK"]["S"].startswith(PROVIDER_PREFIX):
                health = _provider_from_doc(doc)
                providers[health.provider] = health
            else:
                prices.append(price_from_doc(doc))
        return prices, providers

    def put_provider_health(self, health: Sequence[ProviderHealth]) -> None:
        self._batch_write(
            {
                "PutRequest": {
                    "Item": {
                        "PK": string_attr("PRICES"),
                        "SK": string_attr(f"{PROVIDER_PREFIX}{h.provider}"),
                        "doc": string_attr(json.dumps(_provider_to_doc(h), separators=(",", ":"))),
                    }
                }
            }
            for h in health
        )

    def price_near(self, pair: str, moment: datetime, tolerance: timedelta) -> Price | None:
        """The stored price of `pair` closest after `moment - tolerance` and no later than
        `moment + tolerance` (one Query, at most one item): "the price 24 h ago" for a provider
        that gives no 24 h change. History items expire after `PRICE_HISTORY_TTL`."""
        resp = self._db.query(
            TableName=self._table,
            KeyConditionExpression="PK = :pk AND SK BETWEEN :lo AND :hi",
            ExpressionAttributeValues={
                ":pk": string_attr(f"PRICEHIST#{pair}"),
                ":lo": string_attr(iso(moment - tolerance)),
                ":hi": string_attr(iso(moment + tolerance)),
            },
            Limit=1,
        )
        items = resp.get("Items", [])
        return price_from_doc(json.loads(items[0]["doc"]["S"])) if items else None


def _provider_to_doc(health: ProviderHealth) -> dict[str, Any]:
    def when(moment: datetime | None) -> str | None:
        return iso(moment) if moment else None

    return {
        "provider": health.provider,
        "last_attempt": iso(health.last_attempt),
        "last_success": when(health.last_success),
        "last_error": health.last_error,
        "last_error_at": when(health.last_error_at),
        "consecutive_failures": health.consecutive_failures,
    }


def _provider_from_doc(doc: dict[str, Any]) -> ProviderHealth:
    def when(key: str) -> datetime | None:
        value = doc.get(key)
        return parse_iso(value) if value else None

    return ProviderHealth(
        provider=str(doc["provider"]),
        last_attempt=parse_iso(doc["last_attempt"]),
        last_success=when("last_success"),
        last_error=doc.get("last_error"),
        last_error_at=when("last_error_at"),
        consecutive_failures=int(doc.get("consecutive_failures") or 0),
    )

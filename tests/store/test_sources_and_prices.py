"""Source state and the registry (`newsroom.store.sources`), prices and provider health
(`newsroom.store.prices`): DynamoStore against moto, on the table template.yaml defines."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import boto3
import pytest
from moto import mock_aws

from devtools.template import create_table
from newsroom.core.models import ProviderHealth, SourceState
from newsroom.store.dynamo import DynamoStore
from tests.store.test_stories import T0


class CountingClient:
    """The moto client, counting the keys each BatchGetItem names."""

    def __init__(self, client: object) -> None:
        self._client = client
        self.batch_keys: list[int] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self._client, name)

    def batch_get_item(self, **kwargs: dict[str, dict[str, list[object]]]) -> object:
        self.batch_keys.extend(len(request["Keys"]) for request in kwargs["RequestItems"].values())
        return self._client.batch_get_item(**kwargs)  # type: ignore[attr-defined]


@pytest.fixture
def store() -> Iterator[DynamoStore]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "t")
        yield DynamoStore(CountingClient(client), "t", b"secret")


def test_source_state_and_prices(store: DynamoStore) -> None:
    state = SourceState("defiliban", etag='"x"', last_success=T0, consecutive_failures=0, entries_per_week=42.5)
    store.put_source_state(state)
    assert store.get_source_states(["defiliban", "other"]) == {"defiliban": state}
    from newsroom.core.models import Price

    prices = [Price(s, "USD", 1.5, -0.5, "coingecko", T0, T0) for s in ("BTC", "ETH")]
    store.put_prices(prices)
    assert sorted(p.symbol for p in store.get_prices()) == ["BTC", "ETH"]


def test_a_source_named_twice_is_read_once(store: DynamoStore) -> None:
    # BatchGetItem refuses a request naming one key twice; a caller's duplicates are folded first.
    state = SourceState("defiliban", etag='"x"', seen=b"\x00" * 16)
    store.put_source_state(state)
    assert store.get_source_states(["defiliban", "defiliban", "other"]) == {"defiliban": state}
    assert store.source_story_counts(["defiliban", "defiliban"]) == {"defiliban": 0}
    # The states (two keys: "defiliban" in STATES, "other" not), the legacy item of the one with
    # no state in STATES (issue 18: states stored before are read until migrated), the counts.
    assert store._db.batch_keys == [2, 1, 1]


def test_the_price_board_holds_prices_and_provider_health_and_history_answers_near_a_moment(
    store: DynamoStore,
) -> None:
    from newsroom.core.models import Price

    earlier = Price("BTC", "USD", 1.0, None, "coingecko", T0, T0 - timedelta(hours=24))
    now = Price("BTC", "USD", 2.0, None, "coingecko", T0, T0)
    store.put_prices([earlier])
    store.put_prices([now])
    health = ProviderHealth("kraken", T0, None, "HTTP 503", T0, 2)
    store.put_provider_health([health])

    prices, providers = store.get_price_board()
    assert prices == [now] and providers == {"kraken": health}
    assert store.get_prices() == [now]  # provider health items are not prices
    assert store.price_near("BTC/USD", T0 - timedelta(hours=24), timedelta(minutes=30)) == earlier
    assert store.price_near("BTC/USD", T0 - timedelta(hours=12), timedelta(minutes=30)) is None


def test_states_and_subscriptions_share_one_batch_get_per_fifty_sources(store: DynamoStore) -> None:
    # Issue 19: /sources reads both families together; a hub secret is never among them.
    from newsroom.store.subscriptions import Subscription

    state = SourceState("defiliban", etag='"x"', seen=b"\x00" * 8)
    sub = Subscription("defiliban", "https://hub.example/", "https://a.example/feed", "t" * 43, "active", T0, 86400)
    store.put_source_state(state)
    store.put_subscription(sub)
    store.put_hub_secret("defiliban", "s" * 64)
    assert store.get_source_states_and_subscriptions(["defiliban", "defiliban", "other"]) == (
        {"defiliban": state},
        {"defiliban": sub},
    )
    assert store._db.batch_keys == [4, 1]  # and "other"'s legacy state item (issue 18)
    store._db.batch_keys.clear()
    assert store.get_source_states_and_subscriptions([f"s{i}" for i in range(51)]) == ({}, {})
    assert store._db.batch_keys == [100, 2, 51]

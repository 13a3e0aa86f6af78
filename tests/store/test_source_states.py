"""Source states in one partition (issue 18): the dispatcher reads every state with one paginated
Query, billed by the states' total size, where a BatchGetItem billed each as a whole 4 KB read;
states stored before, in their own partitions (`SOURCE#<id>` / `STATE`), are read until the
fetcher writes them again or `devtools.migrate_states` moves them. Both backends."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from devtools.migrate_states import migrate_states
from newsroom.core.models import SourceState
from newsroom.store.batches import StoreIncomplete
from newsroom.store.dynamo import DynamoStore
from newsroom.store.sources import _state_to_item
from newsroom.store.subscriptions import Subscription
from tests.store.backends import T0, Backend


class Calls:
    """The client, counting each operation called (the store calls the low-level client)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.counts: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name.startswith("_") or name == "exceptions" or not callable(attr):
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.counts[name] += 1
            return attr(*args, **kwargs)

        return counted


def counted_store(backend: Backend) -> tuple[DynamoStore, Calls]:
    calls = Calls(backend.client)
    return DynamoStore(calls, "t", b"secret", clock=lambda: backend.now[0]), calls


def put_legacy(backend: Backend, state: SourceState) -> None:
    """A state as the version before stored it: its own partition."""
    item = {**_state_to_item(state), "PK": {"S": f"SOURCE#{state.source_id}"}, "SK": {"S": "STATE"}}
    backend.client.put_item(TableName="t", Item=item)


def state(n: int, **changes: Any) -> SourceState:
    fields: dict[str, Any] = {"etag": f'"v{n}"', "next_poll": T0 + timedelta(minutes=n), "seen": bytes([n % 256]) * 8}
    fields.update(changes)
    return SourceState(f"s{n:04d}", **fields)


def test_the_dispatcher_reads_every_state_with_one_query_not_a_read_per_state(backend: Backend) -> None:
    store, calls = counted_store(backend)
    states = [state(n) for n in range(250)]
    for s in states:
        store.put_source_state(s)
    ids = [s.source_id for s in states]
    calls.counts.clear()

    got = store.all_source_states([*ids, "never-polled"])
    assert got == {s.source_id: s for s in states}
    # One Query (250 states of ~0.2 KB are one page), and one BatchGetItem: the source with no
    # state, looked for in the legacy layout.
    assert calls.counts == Counter({"query": 1, "batch_get_item": 1})
    calls.counts.clear()
    assert got == store.get_source_states([*ids, "never-polled"])  # the same answer, by key...
    assert calls.counts == Counter({"batch_get_item": 3 + 1})  # ...a BatchGetItem per 100 states
    # A state of a source no longer in the registry is not handed out.
    assert store.all_source_states(ids[:3]) == {s.source_id: s for s in states[:3]}


def test_a_throttled_states_query_raises_rather_than_reporting_no_states(backend: Backend) -> None:
    store = backend.store()
    store.put_source_state(state(1))
    backend.faults.throttle("Query")
    with pytest.raises(ClientError):
        store.all_source_states(["s0001"])


def test_a_legacy_state_is_read_until_the_fetcher_writes_it_again(backend: Backend) -> None:
    store = backend.store()
    old = state(1, disabled=True, disabled_reason="http-410", last_status=410)
    put_legacy(backend, old)
    sub = Subscription("s0001", "https://hub.example/", "https://a.example/feed", "t" * 43, "active", T0, 86400)
    store.put_subscription(sub)

    assert store.get_source_states(["s0001", "s0002"]) == {"s0001": old}
    assert store.all_source_states(["s0001", "s0002"]) == {"s0001": old}
    assert store.get_source_states_and_subscriptions(["s0001"]) == ({"s0001": old}, {"s0001": sub})

    polled = state(1, etag='"v2"')
    store.put_source_state(polled)  # written in STATES: the legacy item is shadowed
    assert store.get_source_states(["s0001"]) == {"s0001": polled}
    assert store.all_source_states(["s0001"]) == {"s0001": polled}
    assert store.get_source_states_and_subscriptions(["s0001"]) == ({"s0001": polled}, {"s0001": sub})


def test_a_hub_delivery_to_a_source_with_a_legacy_state_keeps_that_state(backend: Backend) -> None:
    store = backend.store()
    old = state(1, disabled=True, disabled_reason="http-410")
    put_legacy(backend, old)
    store.put_seen("s0001", b"\x07" * 16)
    assert store.get_source_states(["s0001"]) == {"s0001": SourceState(**{**_fields(old), "seen": b"\x07" * 16})}


def _fields(s: SourceState) -> dict[str, Any]:
    return {name: getattr(s, name) for name in s.__dataclass_fields__}


def test_a_legacy_state_left_unread_is_missing_not_absent(backend: Backend) -> None:
    store = backend.store()
    put_legacy(backend, state(2))
    store.put_source_state(state(1))
    backend.faults.leave_unprocessed("SOURCE#s0002|STATE")
    for read in (store.get_source_states, store.all_source_states):
        with pytest.raises(StoreIncomplete) as caught:
            read(["s0001", "s0002"])
        assert caught.value.missing == ("s0002",) and dict(caught.value.partial) == {"s0001": state(1)}
    backend.faults.clear()
    backend.faults.leave_unprocessed("STATES|s0001")
    with pytest.raises(StoreIncomplete) as both:
        store.get_source_states(["s0001", "s0002"])
    assert both.value.missing == ("s0001",) and dict(both.value.partial) == {"s0002": state(2)}


def test_migrating_moves_old_states_once_and_never_over_a_newer_one(backend: Backend) -> None:
    store = backend.store()
    put_legacy(backend, state(1))
    put_legacy(backend, state(2))
    store.put_source_state(state(2, etag='"newer"'))  # polled since the deploy

    assert migrate_states(backend.client, "t", ["s0001", "s0002", "s0003"]) == {"s0001": "moved", "s0002": "dropped"}
    assert migrate_states(backend.client, "t", ["s0001", "s0002", "s0003"]) == {}
    assert store.all_source_states(["s0001", "s0002"]) == {"s0001": state(1), "s0002": state(2, etag='"newer"')}
    for n in (1, 2):
        key = {"PK": {"S": f"SOURCE#s000{n}"}, "SK": {"S": "STATE"}}
        assert "Item" not in backend.client.get_item(TableName="t", Key=key)

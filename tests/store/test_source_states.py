"""Source states in one partition (issue 18): the dispatcher reads every state with one paginated
Query, billed by the states' total size, where a BatchGetItem billed each as a whole 4 KB read;
states stored before, in their own partitions (`SOURCE#<id>` / `STATE`), are read until the
fetcher writes them again or `devtools.migrate_states` moves them. Both backends."""

from __future__ import annotations

import io
from collections import Counter
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from devtools.migrate_states import copy_states, delete_legacy, legacy_states
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


def test_the_copy_moves_old_states_once_never_over_a_newer_one_and_deletes_nothing(backend: Backend) -> None:
    store = backend.store()
    put_legacy(backend, state(1))
    put_legacy(backend, state(2))
    store.put_source_state(state(2, etag='"newer"'))  # polled since the deploy

    assert copy_states(backend.client, "t") == {"s0001": "copied", "s0002": "newer in STATES"}
    assert copy_states(backend.client, "t") == {"s0001": "newer in STATES", "s0002": "newer in STATES"}
    assert store.all_source_states(["s0001", "s0002"]) == {"s0001": state(1), "s0002": state(2, etag='"newer"')}
    assert len(list(legacy_states(backend.client, "t"))) == 2  # the old items stay until the delete step


def test_the_delete_step_removes_only_copied_and_unchanged_old_items(backend: Backend) -> None:
    store = backend.store()
    put_legacy(backend, state(1))
    put_legacy(backend, state(2))
    copy_states(backend.client, "t")
    put_legacy(backend, state(3))  # not copied
    store.put_seen("s0002", b"\x09" * 8)  # shadows nothing: s0002 is in STATES, its old item unchanged

    assert delete_legacy(backend.client, "t") == {
        "s0001": "deleted",
        "s0002": "deleted",
        "s0003": "left: not in STATES (run the copy first)",
    }
    assert [i["PK"]["S"] for i in legacy_states(backend.client, "t")] == ["SOURCE#s0003"]
    assert store.all_source_states(["s0001", "s0002", "s0003"]) == {
        "s0001": state(1),
        "s0002": state(2, seen=b"\x09" * 8),
        "s0003": state(3),
    }
    assert main_exit(["--delete-legacy"], backend) == 1  # s0003 is still left
    assert main_exit([], backend) == 0 and main_exit(["--delete-legacy"], backend) == 0


def test_an_old_item_changed_since_the_delete_step_read_it_is_left(backend: Backend) -> None:
    put_legacy(backend, state(1))
    copy_states(backend.client, "t")
    real_get = backend.client.get_item

    def get_then_change(**params: Any) -> Any:
        put_legacy(backend, state(1, seen=b"\x05" * 8))  # an old-version writer, mid-deploy
        return real_get(**params)

    assert delete_legacy(_Patched(backend.client, get_item=get_then_change), "t") == {
        "s0001": "left: changed since read"
    }


def test_a_reader_racing_the_copy_never_sees_a_state_as_absent(backend: Backend) -> None:
    """Review finding: a copy that also deleted, landing between a reader's miss in STATES and
    its read of the old item, made a 410-disabled source read as a new one. The copy deletes
    nothing, so the old item is still there for that reader."""
    old = state(1, disabled=True, disabled_reason="http-410", last_status=410)
    put_legacy(backend, old)
    for read in ("all_source_states", "get_source_states"):
        copied: list[bool] = []

        def copy_after_first_read(original: Any, copied: list[bool] = copied, **params: Any) -> Any:
            answer = original(**params)
            if not copied:
                copied.append(True)
                copy_states(backend.client, "t")
            return answer

        client = _Patched(
            backend.client,
            query=lambda **p: copy_after_first_read(backend.client.query, **p),
            batch_get_item=lambda **p: copy_after_first_read(backend.client.batch_get_item, **p),
        )
        store = DynamoStore(client, "t", b"secret", clock=lambda: backend.now[0])
        assert getattr(store, read)(["s0001"]) == {"s0001": old}, read
        assert copied
        backend.client.delete_item(TableName="t", Key={"PK": {"S": "STATES"}, "SK": {"S": "s0001"}})


class _Patched:
    """The client with some operations replaced."""

    def __init__(self, client: Any, **operations: Any) -> None:
        self._client = client
        self._operations = operations

    def __getattr__(self, name: str) -> Any:
        return self._operations.get(name) or getattr(self._client, name)


def main_exit(argv: list[str], backend: Backend) -> int:
    from devtools import migrate_states
    from newsroom.wiring import clients as runtime

    original = runtime.dynamodb, runtime.settings
    runtime.dynamodb = lambda: backend.client  # type: ignore[assignment]
    runtime.settings = lambda: SimpleNamespace(table_name="t")  # type: ignore[assignment]
    try:
        return migrate_states.main(argv, out=io.StringIO())
    finally:
        runtime.dynamodb, runtime.settings = original


def test_states_past_one_query_page_are_all_read(backend: Backend) -> None:
    store, calls = counted_store(backend)
    states = [state(n, seen=bytes([n % 256]) * 2400) for n in range(500)]  # ~3 KB each: 1.5 MB
    for s in states:
        store.put_source_state(s)
    calls.counts.clear()
    assert store.all_source_states([s.source_id for s in states]) == {s.source_id: s for s in states}
    assert calls.counts["query"] == 2  # Query stops at 1 MB a page


def test_an_unread_legacy_state_fails_the_sources_page_and_the_hub_delivery(backend: Backend) -> None:
    store = backend.store()
    old = state(1, disabled=True, disabled_reason="http-410")
    put_legacy(backend, old)
    backend.faults.leave_unprocessed("SOURCE#s0001|STATE")
    with pytest.raises(StoreIncomplete) as caught:
        store.get_source_states_and_subscriptions(["s0001", "s0002"])
    assert caught.value.missing == ("s0001",)
    with pytest.raises(StoreIncomplete):  # never a fresh state over the unread one
        store.put_seen("s0001", b"\x07" * 8)
    backend.faults.clear()
    assert store.get_source_states(["s0001"]) == {"s0001": old}


# A state item as the version before wrote it: its own partition, JSON with ", "/": " and every
# field, unset ones as null (`_state_to_item` before issue 18's stop of 2026-12-03).
OLD_DOC = (
    '{"source_id": "s0042", "etag": "\\"v7\\"", "last_modified": null, "last_attempt": "2026-06-01T09:00:00Z", '
    '"last_success": null, "last_error": "http-410: HTTP 410 Gone", "consecutive_failures": 1, '
    '"next_poll": null, "last_error_at": "2026-06-01T09:00:00Z", "last_status": 410, "feed_url": null, '
    '"feed_url_for": null, "disabled": true, "disabled_reason": "http-410: HTTP 410 Gone", '
    '"poll_interval_s": null, "body_hash": null, "entries_per_week": null}'
)


def test_a_state_written_by_the_version_before_is_read_copied_and_rewritten_compactly(backend: Backend) -> None:
    store = backend.store()
    old_key = {"PK": {"S": "SOURCE#s0042"}, "SK": {"S": "STATE"}}
    backend.client.put_item(TableName="t", Item={**old_key, "doc": {"S": OLD_DOC}, "seen": {"B": b"\x01" * 16}})
    expected = SourceState(
        "s0042",
        etag='"v7"',
        last_attempt=T0.replace(year=2026, month=6, day=1, hour=9, minute=0, second=0, microsecond=0),
        last_error="http-410: HTTP 410 Gone",
        consecutive_failures=1,
        last_error_at=T0.replace(year=2026, month=6, day=1, hour=9, minute=0, second=0, microsecond=0),
        last_status=410,
        disabled=True,
        disabled_reason="http-410: HTTP 410 Gone",
        seen=b"\x01" * 16,
    )
    assert store.get_source_states(["s0042"]) == {"s0042": expected}
    assert copy_states(backend.client, "t") == {"s0042": "copied"}
    assert store.all_source_states(["s0042"]) == {"s0042": expected}  # the old document, as it was

    store.put_source_state(expected)  # the fetcher's next write: compact, without the unset fields
    doc = backend.client.get_item(TableName="t", Key={"PK": {"S": "STATES"}, "SK": {"S": "s0042"}})["Item"]["doc"]["S"]
    assert ", " not in doc and "null" not in doc and len(doc) < len(OLD_DOC) * 0.7
    assert store.get_source_states(["s0042"]) == {"s0042": expected}


def test_after_a_rollback_and_forward_again_the_copy_takes_the_newer_old_item(backend: Backend) -> None:
    """Review finding: rolled back (the version before writes the old items) and forward again
    before the delete step, STATES holds the older state; the copy used to keep it."""
    store = backend.store()
    store.put_source_state(state(1, last_attempt=T0, last_success=T0))  # before the rollback
    newer = state(1, etag='"after the rollback"', last_attempt=T0 + timedelta(hours=2), last_error="http-410")
    put_legacy(backend, newer)  # written by the version before, meanwhile
    put_legacy(backend, state(2, last_attempt=T0))
    store.put_source_state(state(2, etag='"fetched since"', last_attempt=T0 + timedelta(minutes=5)))

    assert copy_states(backend.client, "t") == {"s0001": "copied over an older one", "s0002": "newer in STATES"}
    assert store.all_source_states(["s0001"]) == {"s0001": newer}
    assert copy_states(backend.client, "t") == {"s0001": "newer in STATES", "s0002": "newer in STATES"}
    assert delete_legacy(backend.client, "t") == {"s0001": "deleted", "s0002": "deleted"}
    assert store.all_source_states(["s0001"]) == {"s0001": newer}

"""`newsroom.store.batches`: the one retry loop for BatchGetItem / BatchWriteItem partial results."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from newsroom.core import retry
from newsroom.store.batches import StoreIncomplete, batch_get, batch_write


def key(n: int) -> dict[str, Any]:
    return {"PK": {"S": f"ART#{n}"}, "SK": {"S": "ART"}}


class CuttingClient:
    """Answers `per_call` keys a call and returns the rest in UnprocessedKeys, as DynamoDB does
    at its 16 MB response cut (52 items of 300 KB a call, in AWS's own example)."""

    def __init__(self, per_call: int, *, stuck: frozenset[int] = frozenset(), throttle_when_only_stuck: bool = False):
        self.per_call = per_call
        self.stuck = stuck
        self.throttle_when_only_stuck = throttle_when_only_stuck
        self.calls: list[int] = []

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        keys = RequestItems["t"]["Keys"]
        assert len(keys) <= 100  # more is a ValidationException
        self.calls.append(len(keys))
        n = [int(k["PK"]["S"].removeprefix("ART#")) for k in keys]
        servable = [k for k, i in zip(keys, n, strict=True) if i not in self.stuck]
        if not servable and self.throttle_when_only_stuck:
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "BatchGetItem")
        answered = servable[: self.per_call]
        left = [k for k in keys if not any(k is a for a in answered)]
        return {"Responses": {"t": answered}, "UnprocessedKeys": {"t": {"Keys": left}} if left else {}}

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        requests = RequestItems["t"]
        assert len(requests) <= 25
        self.calls.append(len(requests))
        return {"UnprocessedItems": {"t": requests}}  # never writes anything


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "sleep", lambda _seconds: None)


def test_a_cut_response_is_followed_to_the_end_however_many_calls_it_takes() -> None:
    client = CuttingClient(per_call=7)
    items = batch_get(client, "t", [key(n) for n in range(250)])
    assert len(items) == 250
    assert client.calls[0] == 100 and len(client.calls) > 8  # progress never counts as a stall


def test_keys_that_stay_unprocessed_raise_with_what_was_read() -> None:
    client = CuttingClient(per_call=100, stuck=frozenset({3}))
    with pytest.raises(StoreIncomplete) as caught:
        batch_get(client, "t", [key(n) for n in range(5)])
    assert caught.value.missing == ("ART#3|ART",)
    assert sorted(caught.value.partial) == ["ART#0|ART", "ART#1|ART", "ART#2|ART", "ART#4|ART"]
    assert len(client.calls) == 1 + retry.DEFAULT_ATTEMPTS


def test_a_batch_refused_for_throughput_after_botocore_retries_raises_store_incomplete() -> None:
    client = CuttingClient(per_call=100, stuck=frozenset({1}), throttle_when_only_stuck=True)
    with pytest.raises(StoreIncomplete) as caught:
        batch_get(client, "t", [key(n) for n in range(3)])
    assert caught.value.missing == ("ART#1|ART",) and len(caught.value.partial) == 2


def test_writes_left_unprocessed_raise() -> None:
    client = CuttingClient(per_call=0)
    with pytest.raises(StoreIncomplete, match="BatchWriteItem"):
        batch_write(client, "t", [{"PutRequest": {"Item": key(n)}} for n in range(30)])
    assert client.calls[:2] == [25, 25]

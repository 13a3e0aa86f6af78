"""The processor step's CPU split: the client's calls are counted on the emulator's side, and
everything else on the processor's."""

from __future__ import annotations

import time
from typing import Any

import pytest

from benchmarks import processor_step
from benchmarks.processor_step import Split, TimedClient
from devtools.memory_dynamodb import memory_dynamodb_from_template
from newsroom.core.config import client_config
from newsroom.store.dynamo import DynamoStore


class _Ticks:
    """A clock that only moves when told: each cost below is known exactly."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _CostlyClient:
    """A client whose every call costs `cost` on the clock; `exceptions` is not a method."""

    exceptions = object()

    def __init__(self, clock: _Ticks, cost: float) -> None:
        self._clock = clock
        self._cost = cost

    def get_item(self, **params: Any) -> dict[str, Any]:
        self._clock.now += self._cost
        return {"Item": params["Key"]}


def test_the_split_puts_each_call_on_the_client_side_and_the_rest_on_the_processors() -> None:
    clock = _Ticks()

    def run(client: TimedClient) -> None:
        for n in range(10):
            clock.now += 2.0  # the processor's own work for a message
            assert client.get_item(Key={"n": n}) == {"Item": {"n": n}}
            assert client.get_item(Key={"n": n}) == {"Item": {"n": n}}
            clock.now += 1.0

    splits = processor_step.measure(run, lambda: _CostlyClient(clock, 5.0), rounds=3, clock=clock)

    assert splits == (Split(total=130.0, client=100.0, calls=20),) * 3
    assert splits[0].own == 30.0


def test_attributes_that_are_not_methods_pass_through_untimed() -> None:
    clock = _Ticks()
    inner = _CostlyClient(clock, 5.0)
    client = TimedClient(inner, clock)
    assert client.exceptions is inner.exceptions
    assert (client.calls, client.seconds) == (0, 0.0)


def test_a_call_that_raises_is_still_counted() -> None:
    clock = _Ticks()
    client = TimedClient(_CostlyClient(clock, 5.0), clock)
    with pytest.raises(KeyError):
        client.get_item()
    assert (client.calls, client.seconds) == (1, 5.0)


def test_on_the_cpu_clock_a_known_cost_inside_the_client_is_split_off() -> None:
    """With the real clock: a client burning 3 ms of CPU a call, a step burning 2 ms of its own."""

    def burn(seconds: float) -> None:
        until = time.process_time() + seconds
        while time.process_time() < until:
            pass

    class Burning:
        def put_item(self, **_: Any) -> dict[str, Any]:
            burn(0.003)
            return {}

    def run(client: TimedClient) -> None:
        for _ in range(5):
            burn(0.002)
            client.put_item()

    (split,) = processor_step.measure(run, Burning, rounds=1)
    assert split.calls == 5
    assert split.client == pytest.approx(0.015, rel=0.2)
    assert split.own == pytest.approx(0.010, rel=0.2)
    assert split.total == pytest.approx(split.client + split.own)


def test_the_store_runs_over_the_timed_memory_client_and_every_call_is_counted() -> None:
    """The bench's arrangement: the one store over the timed memory client, each call seen once."""
    inner, table = memory_dynamodb_from_template(table_name="t")
    client = TimedClient(inner)
    store = DynamoStore(client, table, b"secret")
    assert store.story_for_guid("src", "guid-1") is None
    assert store.get_article("no-such-story") is None
    assert client.calls == 2
    assert client.seconds > 0


def test_recorded_calls_replay_through_botocore_to_the_answers_the_emulator_gave() -> None:
    """The replay is a real round through botocore: each request is validated, serialised and
    signed, and the recorded answer comes back parsed as DynamoDB's JSON (binary values too)."""
    inner, table = memory_dynamodb_from_template(table_name="t")
    recording = processor_step.RecordingClient(inner)
    key = {"PK": {"S": "SRC#a"}, "SK": {"S": "STATE"}}
    recording.put_item(TableName=table, Item={**key, "seen": {"B": b"\x00\xffbits"}, "n": {"N": "3"}})
    recording.get_item(TableName=table, Key=key, ConsistentRead=True)
    assert [name for name, _, _ in recording.calls] == ["put_item", "get_item"]
    assert recording.has_table(table)  # not an operation: passed through, not recorded
    assert len(recording.calls) == 2

    client, set_body = processor_step.botocore_client()
    for name, params, answer in recording.calls:
        set_body(processor_step._answer_body(answer))
        replayed = getattr(client, name)(**params)
        replayed.pop("ResponseMetadata")
        assert replayed == {k: v for k, v in answer.items() if k != "ResponseMetadata"}
    assert processor_step.botocore_seconds(recording.calls, rounds=2) > 0


def test_the_replay_runs_the_functions_own_client_configuration() -> None:
    """botocore's work is measured as the functions do it: without its parameter validation and
    with the fixed User-Agent (`config.dynamodb_client_config`), so a parameter of the wrong type
    is sent, not refused (the in-memory DynamoDB refuses it: `tests/store/test_memory_dynamodb.py`)."""
    client, set_body = processor_step.botocore_client()
    set_body(b"{}")
    sent: list[Any] = []
    client.meta.events.register("before-send.dynamodb", lambda request, **_: sent.append(request))
    client.get_item(TableName="t", Key={"PK": {"S": "x"}}, ConsistentRead="not a boolean")
    assert len(sent) == 1  # a default client refuses it before sending (ParamValidationError)
    user_agent = sent[0].headers["User-Agent"].decode()
    assert user_agent.startswith(client_config().user_agent)
    assert "Botocore/" in user_agent and "ua/2" not in user_agent  # boto3's suffix; no User-Agent 2.x

"""The processor Lambda's step (decode to stored story) with its CPU split in two: the processor's
own code, and the in-memory DynamoDB that stands in for AWS.

In AWS, DynamoDB's work is not the function's CPU: the function waits for it, and `make cost`
(`devtools/cost.py`) prices that wait apart, per call. The in-memory DynamoDB is a strict
emulator (item sizes, expressions, conditions, transactions), and on the synthetic feeds it takes
about a third of the step's CPU here; counted in the processor's time it would be priced twice.
So every call the store makes to its client is timed (`TimedClient`), and the processor's own
time is the step's time less the time spent inside those calls. The timer itself (two clock
readings a call, about ten calls a message) stays on the processor's side of the split.

What the split cannot see: in AWS the store talks to botocore, which serialises each request
(validating it too, unless told not to: our DynamoDB client is, `config.client_config`), signs
it, and parses each answer, in the function; the emulator takes and returns plain dicts, so that
work is in neither part. `botocore_seconds` measures it apart: the calls one
pass made (`RecordingClient`) replayed through a real boto3 DynamoDB client whose HTTP send is
answered, in process, with each call's recorded answer as DynamoDB's JSON: a floor for the
function's client work, as no HTTP, TLS or check of the answer's CRC32 header takes place.
"""

from __future__ import annotations

import base64
import gc
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from newsroom.core.config import dynamodb_client_config

# This process's CPU time, as in `bench_processing`: the machine is shared, and waiting for a
# core is not the step's cost.
Clock = Callable[[], float]


class TimedClient:
    """A client whose every method call is timed: `seconds` inside the calls, `calls` made.
    Attributes that are not methods (`exceptions`) are passed through untimed."""

    def __init__(self, client: Any, clock: Clock = time.process_time) -> None:
        self._client = client
        self._clock = clock
        self.seconds = 0.0
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = self._clock()
            try:
                return attribute(*args, **kwargs)
            finally:
                self.seconds += self._clock() - started
                self.calls += 1

        return timed


@dataclass(frozen=True, slots=True)
class Split:
    """One pass of the step: its whole CPU time, the part inside the client, and the calls."""

    total: float
    client: float
    calls: int

    @property
    def own(self) -> float:
        """The processor's own time: the step less the emulator's."""
        return self.total - self.client


def measure(
    run: Callable[[TimedClient], object],
    new_client: Callable[[], Any],
    *,
    rounds: int,
    clock: Clock = time.process_time,
) -> tuple[Split, ...]:
    """`run` (the whole step, over a store on the client it is given) `rounds` times, each on a
    new client, so every pass stores new stories; each pass's split."""
    splits = []
    for _ in range(rounds):
        client = TimedClient(new_client(), clock)
        gc.collect()
        started = clock()
        run(client)
        splits.append(Split(total=clock() - started, client=client.seconds, calls=client.calls))
    return tuple(splits)


# (client method, its parameters, the answer the emulator gave)
Call = tuple[str, dict[str, Any], dict[str, Any]]


class RecordingClient:
    """A client recording every call of the DynamoDB operations the processor makes."""

    OPERATIONS = frozenset(
        {"get_item", "put_item", "update_item", "delete_item", "query", "batch_get_item"}
        | {"batch_write_item", "transact_write_items"}
    )

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[Call] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name not in self.OPERATIONS:
            return attribute

        def recorded(**params: Any) -> Any:
            answer = attribute(**params)
            self.calls.append((name, params, answer))
            return answer

        return recorded


def _wire(value: Any) -> Any:
    # DynamoDB's JSON carries binary attribute values ("B", "BS") as base64 text.
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _answer_body(answer: dict[str, Any]) -> bytes:
    return json.dumps({k: v for k, v in answer.items() if k != "ResponseMetadata"}, default=_wire).encode()


def botocore_client() -> tuple[Any, Callable[[bytes], None]]:
    """A boto3 DynamoDB client that sends nothing: each request, built and signed as for AWS
    with the functions' own DynamoDB client configuration (`config.dynamodb_client_config`), is
    answered with the body set by the returned function (HTTP 200)."""
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",  # noqa: S106 - signs nothing that leaves the process
        endpoint_url="http://127.0.0.1:9",
        config=dynamodb_client_config(),
    )
    body = [b"{}"]

    class _Raw:
        def stream(self, **_: Any) -> Any:
            yield body[0]

    def answer(request: Any, **_: Any) -> AWSResponse:
        headers = {"content-type": "application/x-amz-json-1.0", "content-length": str(len(body[0]))}
        return AWSResponse(request.url, 200, headers, _Raw())

    client.meta.events.register("before-send.dynamodb", answer)

    def set_body(data: bytes) -> None:
        body[0] = data

    return client, set_body


def botocore_seconds(calls: list[Call], *, rounds: int, clock: Clock = time.process_time) -> float:
    """botocore's own work for `calls` (best of `rounds` replays): what the function spends on
    its DynamoDB calls besides waiting for them."""
    client, set_body = botocore_client()
    bodies = [_answer_body(answer) for _, _, answer in calls]
    best = float("inf")
    for _ in range(rounds):
        gc.collect()
        started = clock()
        for (name, params, _), body in zip(calls, bodies, strict=True):
            set_body(body)
            getattr(client, name)(**params)
        best = min(best, clock() - started)
    return best

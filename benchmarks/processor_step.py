"""The processor Lambda's step (decode to stored story) with its CPU split in two: the processor's
own code, and the in-memory DynamoDB that stands in for AWS.

In AWS, DynamoDB's work is not the function's CPU: the function waits for it, and `make cost`
(`devtools/cost.py`) prices that wait apart, per call. The in-memory DynamoDB is a strict
emulator (item sizes, expressions, conditions, transactions), and on the synthetic feeds it takes
about a third of the step's CPU here; counted in the processor's time it would be priced twice.
So every call the store makes to its client is timed (`TimedClient`), and the processor's own
time is the step's time less the time spent inside those calls. The timer itself (two clock
readings a call, about ten calls a message) stays on the processor's side of the split.

What the split cannot see: in AWS the store talks to botocore, which serialises each request and
parses each answer in the function; the emulator takes and returns plain dicts, so that work is
in neither part.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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

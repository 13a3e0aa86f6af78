"""Bounded retries with capped exponential backoff and full jitter, for faults botocore does not retry.

botocore's own retry handler (configured in `runtime`) already retries throttled and transient
*calls*. What it cannot see are faults reported inside a successful response: a
`TransactWriteItems` cancelled because one of its items was throttled, or a batch call that
leaves `UnprocessedItems`. Those go through `backoff_delays` here, so every such loop in the
code has the same bounded shape: a fixed number of attempts, each wait drawn from
`[0, min(cap, base * 2**attempt)]` ("full jitter", which spreads out callers that failed
together instead of having them retry in lockstep).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator

DEFAULT_ATTEMPTS = 8
DEFAULT_BASE = 0.05  # seconds: DynamoDB throttling usually clears within a few hundred ms
DEFAULT_CAP = 2.0

# Tests replace this to run the schedule without waiting (the schedule itself stays the same).
sleep: Callable[[float], None] = time.sleep


def backoff_delays(
    attempts: int = DEFAULT_ATTEMPTS,
    *,
    base: float = DEFAULT_BASE,
    cap: float = DEFAULT_CAP,
    rand: Callable[[], float] = random.random,
) -> Iterator[int]:
    """Yield attempt numbers 0..attempts-1, sleeping a jittered backoff before each retry.

    Use as `for attempt in backoff_delays(): ...; if done: break` followed by an `else:` that
    gives up. The first attempt runs at once.
    """
    for attempt in range(attempts):
        if attempt:
            sleep(delay(attempt - 1, base=base, cap=cap, rand=rand))
        yield attempt


def delay(
    retry_number: int,
    *,
    base: float = DEFAULT_BASE,
    cap: float = DEFAULT_CAP,
    rand: Callable[[], float] = random.random,
) -> float:
    """The jittered wait before retry `retry_number` (0 for the first retry)."""
    return rand() * min(cap, base * 2**retry_number)

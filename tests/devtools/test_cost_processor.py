"""The cost model prices a new entry's processing from the processor time `make bench` measured,
not from the local run's wall time (mostly moto answering in the same process)."""

from __future__ import annotations

import pytest

from devtools import cost
from devtools.counting import Counts


def _counts(wall_ms: float, dynamodb_calls: int) -> Counts:
    counts = Counts()
    counts.invocations["process-new"] = 1
    counts.durations_ms["process-new"].append(wall_ms)
    counts.calls[("process-new", "dynamodb", "TransactWriteItems")] = dynamodb_calls
    counts.calls[("process-new", "sqs", "DeleteMessageBatch")] = 1
    counts.calls[("fetch-304", "dynamodb", "GetItem")] = 1000  # another phase's calls are not the processor's
    return counts


def test_a_new_entry_is_billed_the_measured_processor_time_plus_its_dynamodb_round_trips() -> None:
    memory_mb = 1024
    unit = cost._processor_unit(_counts(wall_ms=5_000.0, dynamodb_calls=40), 10, memory_mb)
    cpu_share = memory_mb / cost.FULL_VCPU_MB
    seconds = cost.PROCESSOR_MS_PER_MESSAGE / 1000 / cpu_share + 4 * cost.DYNAMODB_CALL_S
    assert unit.gb_seconds == pytest.approx(seconds * memory_mb / 1024)


def test_the_local_run_wall_time_does_not_change_the_processor_bill() -> None:
    slow = cost._processor_unit(_counts(wall_ms=50_000.0, dynamodb_calls=40), 10, 512)
    fast = cost._processor_unit(_counts(wall_ms=50.0, dynamodb_calls=40), 10, 512)
    assert slow.gb_seconds == fast.gb_seconds
    assert slow.invocations == fast.invocations == 0.1

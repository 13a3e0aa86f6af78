"""`devtools.capacity`: provisioned capacity sized to a fetch tick's burst, and its price."""

from __future__ import annotations

import pytest

from devtools.capacity import (
    HOURS_PER_MONTH,
    MIN_CAPACITY,
    TEMPLATE_MIN_CAPACITY,
    Provisioned,
    TickLoad,
    size_for_peak,
    size_with_burst_credit,
)


def test_peak_sizing_serves_the_dispatchers_second_and_the_minutes_writes_at_70_percent() -> None:
    tick = TickLoad(dispatch_read_units=700, dispatch_seconds=1, read_units=42, write_units=420, work_seconds=60)
    sized = size_for_peak(tick)
    assert sized.rcu == 1000  # 700 RCU in one second / 0.7 (the dispatcher's burst, not 42/60)
    assert sized.wcu == 10  # 420 / 60 s / 0.7


def test_burst_credit_sizing_fits_a_ticks_units_in_300_seconds_of_retained_capacity() -> None:
    tick = TickLoad(dispatch_read_units=2_900, dispatch_seconds=1, read_units=100, write_units=600, work_seconds=60)
    sized = size_with_burst_credit(tick)
    # 3,000 RRU a tick: 10 RCU retained for 300 s cover them, but 10 RCU would run at 100 %:
    # the target utilization (70 %) asks for 3,000 / 300 / 0.7 = 14.3 -> 15.
    assert sized.rcu == 15
    assert sized.wcu == 3  # 600 / 300 / 0.7 = 2.9


def test_a_quiet_table_is_sized_at_dynamodb_s_floor_of_one_unit_not_the_template_s_default() -> None:
    assert MIN_CAPACITY == 1
    assert size_with_burst_credit(TickLoad(1, 1, 0, 0, 60)) == Provisioned(1, 1)
    assert size_for_peak(TickLoad(0, 1, 0, 0, 60)) == Provisioned(1, 1)


def test_the_template_s_minimum_is_what_the_idle_stack_is_priced_at() -> None:
    from devtools.artifact import load_template
    from devtools.cost import ROOT

    parameters = load_template(ROOT / "template.yaml")["Parameters"]
    assert parameters["TableReadCapacityMin"]["Default"] == TEMPLATE_MIN_CAPACITY
    assert parameters["TableWriteCapacityMin"]["Default"] == TEMPLATE_MIN_CAPACITY


def test_provisioned_price_and_the_always_free_25_units() -> None:
    assert Provisioned(10, 10).monthly() == pytest.approx(HOURS_PER_MONTH * (10 * 0.00013 + 10 * 0.00065))
    assert Provisioned(25, 25).monthly(free_tier=True) == 0
    assert Provisioned(25, 25).within_free_tier and not Provisioned(26, 5).within_free_tier
    assert Provisioned(40, 30).monthly(free_tier=True) == pytest.approx(HOURS_PER_MONTH * (15 * 0.00013 + 5 * 0.00065))

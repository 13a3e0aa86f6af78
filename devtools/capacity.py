"""The table's capacity mode priced by its bursts (issue 18, point 3), for `make cost`.

On demand bills every request unit. Provisioned bills capacity units by the hour, whatever is
used, and the capacity must be there when a fetch tick's burst comes: the dispatcher reads
every source's state within about a second, then the tick's polls and the stories they bring
write within about a minute, then the table idles until the next tick. Auto scaling follows load
held for minutes (2 above target to scale out: https://repost.aws/knowledge-center/dynamodb-auto-scaling),
not a burst of seconds every 5 minutes, so its minimum must cover the burst. Two sizings:

  peak          capacity = the burst's units / its seconds / target utilization. What AWS
                advises: burst capacity is best effort, "don't consider the burst capacity when
                you configure a table's provisioned capacity" (same page).
  burst credit  DynamoDB keeps up to 300 s of unused capacity ("Burst capacity",
                https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/burst-adaptive-capacity.html):
                a tick's units fit when capacity × 300 s covers them. Cheaper, not guaranteed.

The always-free tier includes 25 provisioned WCU and 25 RCU per account and region (the AWS
Free Tier page, DynamoDB): a table whose sizing fits them costs nothing for its throughput.
Auto scaling's target tracking creates and manages CloudWatch alarms for each scaled dimension
(two pairs: the upper and lower bounds of consumed and of provisioned throughput; "Provisioned
capacity mode", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/provisioned-capacity-mode.html),
billed as any alarm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

HOURS_PER_MONTH = 730
PROVISIONED_PRICES = {  # us-east-1, per capacity unit-hour (dated with devtools.cost.PRICES)
    "rcu_hour": 0.00013,
    "wcu_hour": 0.00065,
}
FREE_RCU = 25
FREE_WCU = 25
BURST_CREDIT_SECONDS = 300
TARGET_UTILIZATION = 0.70  # template.yaml TableReadScalingPolicy / TableWriteScalingPolicy
# A sizing never goes below one unit, DynamoDB's own floor for a provisioned table; what it prints
# is what to set TableReadCapacityMin / TableWriteCapacityMin to at that scale. The template's
# defaults (TEMPLATE_MIN_CAPACITY) are for a stack deployed Provisioned without sizing it: they
# price the idle stack, not a sized one. (The sizing was floored at the template's defaults
# until issue 18's last stop, which priced 1,000 sources at 5 WCU where the burst needs 4.)
MIN_CAPACITY = 1
TEMPLATE_MIN_CAPACITY = 5  # template.yaml TableReadCapacityMin / TableWriteCapacityMin defaults
ALARMS_PER_DIMENSION = 4


@dataclass(frozen=True, slots=True)
class TickLoad:
    """One fetch tick's table work: the dispatcher's reads (every source's state, within
    `dispatch_seconds`), then the other reads and the writes within `work_seconds`."""

    dispatch_read_units: float
    dispatch_seconds: float
    read_units: float
    write_units: float
    work_seconds: float

    @property
    def all_read_units(self) -> float:
        return self.dispatch_read_units + self.read_units


@dataclass(frozen=True, slots=True)
class Provisioned:
    rcu: int
    wcu: int

    def monthly(self, *, free_tier: bool = False) -> float:
        rcu = max(0, self.rcu - FREE_RCU) if free_tier else self.rcu
        wcu = max(0, self.wcu - FREE_WCU) if free_tier else self.wcu
        return HOURS_PER_MONTH * (rcu * PROVISIONED_PRICES["rcu_hour"] + wcu * PROVISIONED_PRICES["wcu_hour"])

    @property
    def within_free_tier(self) -> bool:
        return self.rcu <= FREE_RCU and self.wcu <= FREE_WCU


def _units(value: float) -> int:
    return max(MIN_CAPACITY, math.ceil(value - 1e-9))


def size_for_peak(tick: TickLoad) -> Provisioned:
    """Capacity that serves each burst at its own rate, with auto scaling's headroom."""
    peak_reads = max(tick.dispatch_read_units / tick.dispatch_seconds, tick.read_units / tick.work_seconds)
    return Provisioned(
        rcu=_units(peak_reads / TARGET_UTILIZATION),
        wcu=_units(tick.write_units / tick.work_seconds / TARGET_UTILIZATION),
    )


def size_with_burst_credit(tick: TickLoad, tick_seconds: float = 300) -> Provisioned:
    """Capacity whose retained 300 s cover a tick's units, and whose average use stays at the
    target utilization."""
    window = min(BURST_CREDIT_SECONDS, tick_seconds)

    def units(total: float) -> int:
        return _units(max(total / window, total / tick_seconds / TARGET_UTILIZATION))

    return Provisioned(rcu=units(tick.all_read_units), wcu=units(tick.write_units))


def on_demand_monthly(read_units: float, write_units: float, read_price: float, write_price: float) -> float:
    return read_units * read_price + write_units * write_price

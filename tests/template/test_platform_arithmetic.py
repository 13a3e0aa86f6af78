"""The platform's arithmetic, read from template.yaml: every rule AWS documents for the queues,
their consumers and their alarms holds for the numbers the template actually uses.

- Redrive: a message is received `maxReceiveCount` times, a visibility timeout apart, before SQS
  moves it to the dead-letter queue; if retention ends first the message is deleted instead and
  the DLQ (and its alarm) never sees it. Standard queues keep a message's *original* enqueue
  timestamp when it moves to a DLQ, so a DLQ must keep messages longer than its source queue.
  ("Setting-up dead-letter queue retention in Amazon SQS", Amazon SQS Developer Guide:
  https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/setting-up-dead-letter-queue-retention.html)
- "Set the source queue's visibility timeout to at least six times the configuration timeout on
  your function" ("Creating and configuring an Amazon SQS event source mapping", AWS Lambda
  Developer Guide: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
- A batch of SQS messages is one synchronous invocation, whose payload is at most 6 MB ("Lambda
  quotas", AWS Lambda Developer Guide: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest

from devtools.template import load_template
from newsroom.core.claimcheck import MAX_MESSAGE_BYTES

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
PARAMETERS: dict[str, Any] = TEMPLATE["Parameters"]

LAMBDA_INVOCATION_PAYLOAD_BYTES = 6 * 1024 * 1024
# What Lambda adds around each record's body in an SQS event (message id, receipt handle, the
# attributes, md5, ARNs): ~1 KB measured on real events; 4 KB leaves room for message attributes.
SQS_RECORD_OVERHEAD_BYTES = 4096
# The queue and state writes after a batch's slowest source (botocore's standard retries spend
# ~15 s at most on average, shared/newsroom/wiring/clients.py).
FETCH_WRITES_SECONDS = 30

NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "once": 1,
    "twice": 2,
}


def _value(node: Any) -> Any:
    """A property's value with parameters at their defaults (what a plain deploy uses)."""
    if isinstance(node, dict) and set(node) == {"Ref"} and node["Ref"] in PARAMETERS:
        return PARAMETERS[node["Ref"]]["Default"]
    return node


def _queues() -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in RESOURCES.items() if r["Type"] == "AWS::SQS::Queue"}


def _consumers() -> dict[str, tuple[str, int]]:
    """Queue logical id -> (the function its event source mapping invokes, batch size)."""
    found: dict[str, tuple[str, int]] = {}
    for name, resource in RESOURCES.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in (resource["Properties"].get("Events") or {}).values():
            if event["Type"] == "SQS":
                queue = event["Properties"]["Queue"]["Fn::GetAtt"][0]
                found[queue] = (name, int(event["Properties"].get("BatchSize", 10)))
    return found


def _sources_per_fetch_invocation() -> int:
    """Sources one fetch worker invocation polls: its batch of messages, each holding the
    dispatcher's FETCH_SOURCES_PER_MESSAGE (the Settings default is the template's)."""
    from newsroom.core.config import Settings

    per_message = int(
        RESOURCES["DispatchSourcesFunction"]["Properties"]["Environment"]["Variables"]["FETCH_SOURCES_PER_MESSAGE"]
    )
    assert Settings.from_env({}).fetch_sources_per_message == per_message
    _, batch_size = _consumers()["FetchQueue"]
    return batch_size * per_message


def _timeout(function: str) -> int:
    own = RESOURCES[function]["Properties"].get("Timeout")
    return int(own if own is not None else TEMPLATE["Globals"]["Function"]["Timeout"])


def _redrives() -> dict[str, tuple[str, int]]:
    """Source queue -> (its dead-letter queue, maxReceiveCount)."""
    return {
        name: (
            props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0],
            int(props["RedrivePolicy"]["maxReceiveCount"]),
        )
        for name, props in _queues().items()
        if "RedrivePolicy" in props
    }


def test_every_consumed_queue_has_a_dead_letter_queue() -> None:
    assert set(_consumers()) == {"ArticleQueue", "FetchQueue"}
    assert set(_redrives()) == set(_consumers())


@pytest.mark.parametrize("queue", sorted(_redrives()))
def test_every_redrive_policy_can_deliver_before_retention_deletes_the_message(queue: str) -> None:
    props = _queues()[queue]
    _, receives = _redrives()[queue]
    visibility = int(props["VisibilityTimeout"])
    retention = int(props["MessageRetentionPeriod"])
    # The last receive's visibility timeout ends at receives × visibility after the first
    # receive; one more visibility timeout of room covers the wait before that first receive
    # (a backlog, the batching window) so the move to the DLQ is never a race with retention.
    assert retention >= visibility * (receives + 1), (
        f"{queue}: {receives} receives {visibility} s apart need more than its {retention} s retention"
    )


@pytest.mark.parametrize("queue", sorted(_redrives()))
def test_every_dead_letter_queue_keeps_messages_longer_than_its_source(queue: str) -> None:
    dlq, _ = _redrives()[queue]
    source_retention = int(_queues()[queue]["MessageRetentionPeriod"])
    dlq_retention = int(_queues()[dlq]["MessageRetentionPeriod"])
    # The enqueue timestamp is kept on the move, so the DLQ must also hold the source's time.
    assert dlq_retention > source_retention, (queue, dlq)
    assert int(_queues()[dlq]["MaximumMessageSize"]) >= int(_queues()[queue]["MaximumMessageSize"])


@pytest.mark.parametrize("queue", sorted(_consumers()))
def test_visibility_timeout_is_at_least_six_times_the_consumers_timeout(queue: str) -> None:
    function, _ = _consumers()[queue]
    assert int(_queues()[queue]["VisibilityTimeout"]) >= 6 * _timeout(function), (queue, function)


def test_every_queue_states_its_maximum_message_size() -> None:
    for name, props in _queues().items():
        assert "MaximumMessageSize" in props, f"{name} leaves MaximumMessageSize to SQS's default"
    # Entries over the claim-check threshold travel as a pointer, so every entry message fits.
    assert int(_queues()["ArticleQueue"]["MaximumMessageSize"]) >= MAX_MESSAGE_BYTES


@pytest.mark.parametrize("queue", sorted(_consumers()))
def test_a_full_batch_of_largest_messages_fits_one_lambda_invocation(queue: str) -> None:
    _, batch_size = _consumers()[queue]
    largest = int(_queues()[queue]["MaximumMessageSize"])
    assert batch_size * (largest + SQS_RECORD_OVERHEAD_BYTES) <= LAMBDA_INVOCATION_PAYLOAD_BYTES, queue


def test_a_batch_over_ten_messages_has_a_batching_window() -> None:
    """ "For streams and Amazon SQS event sources, when you set BatchSize to a value greater than
    10, you must set MaximumBatchingWindowInSeconds to at least 1" (AWS Lambda API Reference,
    CreateEventSourceMapping); moto and the local runs accept either."""
    for name, resource in RESOURCES.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in (resource["Properties"].get("Events") or {}).values():
            props = event["Properties"]
            if event["Type"] == "SQS" and int(props.get("BatchSize", 10)) > 10:
                assert int(props.get("MaximumBatchingWindowInSeconds", 0)) >= 1, name


def test_the_fetch_workers_batch_is_all_in_flight_at_once() -> None:
    """The worker's concurrency is never under its batch (the timeout below rests on it), and
    the cost model bills a poll the batch's one wait shared by its sources."""
    assert int(PARAMETERS["FetchConcurrency"]["MinValue"]) >= _sources_per_fetch_invocation()


# CPU a fetch worker spends on its heaviest steps, measured on this machine's one core
# (2026-12-03): a feed parsed by feedparser (0.58 s for 5 MB; the fast path takes 0.16 s) and an
# article page's extraction (1.6 s for 1 MB); at 512 MB Lambda gives 512/1769 of a vCPU.
FEEDPARSER_MB_CPU_SECONDS = 0.12
EXTRACTION_MB_CPU_SECONDS = 1.6
FETCH_VCPU_SHARE = 512 / 1769


def test_the_fetch_workers_slowest_batch_fits_its_timeout_for_every_allowed_parameter() -> None:
    """A batch's sources are polled at once (concurrency ≥ batch size), so its network waits
    last as long as its slowest source: the feed (connect + 2 reads, `service.fetch_policy`) at
    the largest timeouts the Parameters allow. Its CPU does not overlap so: every feed parsed by
    feedparser at the largest size allowed, one after another at the function's vCPU share,
    then the writes. Full text stops at `FULLTEXT_DEADLINE_SECONDS` (no page starts that would
    end past it, no extraction begins after it): then at most `FETCH_PARSES_AT_ONCE`
    extractions of pages at their cap are in flight, sharing the CPU, then the writes. Each
    bound is checked alone; parses queued behind extractions until the deadline are not
    (README, Fetching politely: such an invocation times out and its sources are polled again)."""
    from newsroom.core.config import FETCH_PARSES_AT_ONCE, FULLTEXT_DEADLINE_SECONDS, FULLTEXT_MAX_PAGE_BYTES

    props = RESOURCES["FetchFeedsFunction"]["Properties"]
    assert int(props.get("MemorySize", TEMPLATE["Globals"]["Function"]["MemorySize"])) == 512
    batch_size = _sources_per_fetch_invocation()
    rounds = math.ceil(batch_size / int(PARAMETERS["FetchConcurrency"]["MinValue"]))
    feed = int(PARAMETERS["FetchConnectTimeout"]["MaxValue"]) + 2 * int(PARAMETERS["FetchReadTimeout"]["MaxValue"])
    largest_feed_mb = int(PARAMETERS["FetchMaxBytes"]["MaxValue"]) / 2**20
    parses = batch_size * FEEDPARSER_MB_CPU_SECONDS * largest_feed_mb / FETCH_VCPU_SHARE
    assert rounds * feed + parses + FETCH_WRITES_SECONDS <= _timeout("FetchFeedsFunction")
    in_flight = FETCH_PARSES_AT_ONCE * EXTRACTION_MB_CPU_SECONDS * FULLTEXT_MAX_PAGE_BYTES / 2**20 / FETCH_VCPU_SHARE
    assert FULLTEXT_DEADLINE_SECONDS + in_flight + FETCH_WRITES_SECONDS <= _timeout("FetchFeedsFunction")
    # A source's own full-text budget fits inside the deadline, after its feed.
    fulltext = float(props["Environment"]["Variables"]["FULLTEXT_BUDGET_SECONDS"])
    assert rounds * feed + fulltext <= FULLTEXT_DEADLINE_SECONDS


def test_the_fetch_queue_fits_the_hour_its_messages_are_worth() -> None:
    """What went wrong before: 1,800 s × 3 receives against 3,600 s of retention."""
    props = _queues()["FetchQueue"]
    _, receives = _redrives()["FetchQueue"]
    assert int(props["MessageRetentionPeriod"]) == 3600
    assert int(props["VisibilityTimeout"]) * receives < 3600


# -- every alarm's text states the numbers the template uses --------------------------------------


def _text(node: Any) -> str:
    """An AlarmDescription with ${Parameter} at its default and ${Resource} by its name."""
    if isinstance(node, str):
        return node
    template = node["Fn::Sub"]

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(PARAMETERS[name]["Default"]) if name in PARAMETERS else name

    return re.sub(r"\$\{([^}]+)\}", substitute, template)


UNITS = {
    "times": "times",
    "receives": "times",
    "tries": "times",
    "minutes": "minutes",
    "minute": "minutes",
    "hours": "hours",
    "hour": "hours",
    "periods": "periods",
    "s": "seconds",
    "seconds": "seconds",
    "%": "percent",
}


def _numbers(text: str) -> set[tuple[str, float]]:
    """Every (unit, number) a text states: "5 minutes", "three times", "25%"; a number with no
    unit is ("", n). A number word counts only before a unit ("not one bad feed" states none)."""
    found: set[tuple[str, float]] = set()
    token = r"(\d[\d,]*(?:\.\d+)?|[a-z]+)"
    for number, unit in re.findall(token + r"(?=\s*(%|[a-z]+)?)", text.lower()):
        if number[0].isdigit():
            value = float(number.replace(",", ""))
        elif number in NUMBER_WORDS and unit in UNITS:
            value = float(NUMBER_WORDS[number])
        else:
            continue
        found.add((UNITS.get(unit, ""), value))
    return found


def _dlq_receives(queue_logical_id: str) -> int | None:
    for _source, (dlq, receives) in _redrives().items():
        if dlq == queue_logical_id:
            return receives
    return None


def _template_numbers(props: dict[str, Any]) -> tuple[dict[str, set[float]], set[tuple[str, float]]]:
    """(per unit, the numbers the alarm's text may state; the (unit, number) pairs it must state)."""
    periods = [props.get("Period")] + [m["MetricStat"]["Period"] for m in props.get("Metrics", []) if "MetricStat" in m]
    seconds = [int(_value(p)) for p in periods if p is not None]
    evaluations = int(_value(props["EvaluationPeriods"]))
    datapoints = int(_value(props.get("DatapointsToAlarm", evaluations)))
    threshold = float(_value(props["Threshold"]))
    allowed: dict[str, set[float]] = {
        "minutes": {p / 60 for p in seconds} | {p * evaluations / 60 for p in seconds},
        "hours": {p / 3600 for p in seconds} | {p * evaluations / 3600 for p in seconds},
        "periods": {float(evaluations), float(datapoints)},
        "seconds": {float(p) for p in seconds} | {threshold},
        "percent": {threshold},
        "times": set(),
    }
    required: set[tuple[str, float]] = set()
    if props.get("Namespace") == "AWS/Lambda":
        required.add(("minutes", int(_value(props["Period"])) / 60))  # "in the last 5 minutes"
    if props.get("Namespace") == "AWS/SQS":
        receives = _dlq_receives(props["Dimensions"][0]["Value"]["Fn::GetAtt"][0])
        if receives is not None:
            allowed["times"].add(float(receives))
            required.add(("times", float(receives)))  # "failed processing five times"
    allowed[""] = set().union(*allowed.values())
    return allowed, required


ALARMS = {name: r["Properties"] for name, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"}


def _wrong(stated: set[tuple[str, float]], allowed: dict[str, set[float]]) -> set[tuple[str, float]]:
    return {(unit, n) for unit, n in stated if n not in allowed[unit]}


@pytest.mark.parametrize("alarm", sorted(ALARMS))
def test_every_alarm_description_states_the_numbers_the_template_uses(alarm: str) -> None:
    props = ALARMS[alarm]
    text = _text(props["AlarmDescription"])
    allowed, required = _template_numbers(props)
    stated = _numbers(text)
    assert not _wrong(stated, allowed), f"{alarm} says {sorted(_wrong(stated, allowed))}, the template uses {allowed}"
    assert required <= stated, f"{alarm} should state {sorted(required - stated)}: {text}"


def test_the_dead_letter_queue_outputs_state_the_receive_count() -> None:
    for output in TEMPLATE["Outputs"].values():
        ref = output["Value"].get("Ref") if isinstance(output["Value"], dict) else None
        receives = _dlq_receives(ref) if ref else None
        if receives is not None:
            assert _numbers(output["Description"]) == {("times", float(receives))}, output["Description"]


def test_the_alarm_text_check_catches_a_wrong_count() -> None:
    """The check above, on the fetch DLQ alarm as it read before: "five times" against 3."""
    props = dict(ALARMS["FetchDeadLetterQueueAlarm"])
    allowed, required = _template_numbers(props)
    stated = _numbers("Source batches the fetch worker could not read five times wait in the fetch dead-letter queue.")
    assert _wrong(stated, allowed) == {("times", 5.0)}
    assert not required <= stated


def test_a_join_in_progress_outlives_the_processors_invocation() -> None:
    """A story's lookup entries are a join in progress for `EventLimits.pending_seconds`, and a
    join writes them and its transaction within one processor invocation: a window shorter than
    the processor's timeout would let a racing join pass over entries whose transaction is still
    to come (`newsroom.process.grouping.pending`)."""
    from newsroom.core.config import DEFAULT_EVENT_LIMITS

    assert DEFAULT_EVENT_LIMITS.pending_seconds >= 2 * _timeout("ProcessArticlesFunction")


def test_a_story_write_in_progress_outlives_the_processors_invocation() -> None:
    """A fingerprint claim whose story is not stored is a write in progress for
    `CLAIM_PENDING_SECONDS`; the claims and the story's transaction come from one processor
    invocation, so a window shorter than its timeout would let a copy take over the claims of a
    story about to be written (`newsroom.store.fingerprints`)."""
    from newsroom.core.config import CLAIM_PENDING_SECONDS

    assert 2 * _timeout("ProcessArticlesFunction") <= CLAIM_PENDING_SECONDS


def test_a_message_that_waited_for_a_crashed_write_finds_it_passed_over_when_received_again() -> None:
    """A story that finds a write in progress (a join's lookup entries, a story's fingerprint
    claims) waits within its invocation, then fails its record; SQS hands it over again a
    visibility timeout later. Were either window longer than that, a write that crashed would
    still read as in progress at the next receive, and the waiting message could spend its
    `maxReceiveCount` receives on it and be dead-lettered; shorter, the second receive passes
    over it (SQS, "Amazon SQS visibility timeout": a message not deleted becomes visible again
    when the timeout expires)."""
    from newsroom.core.config import CLAIM_PENDING_SECONDS, DEFAULT_EVENT_LIMITS

    queue = next(q for q, (function, _) in _consumers().items() if function == "ProcessArticlesFunction")
    visibility = int(_value(_queues()[queue]["VisibilityTimeout"]))
    assert max(CLAIM_PENDING_SECONDS, DEFAULT_EVENT_LIMITS.pending_seconds) < visibility

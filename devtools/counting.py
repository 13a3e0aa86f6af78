"""Count what a run of the pipeline would be billed for: DynamoDB capacity units, SQS requests,
Lambda invocations with their durations and log bytes.

`install(counts)` hooks botocore's event system on boto3's default session, so every client the
handlers create afterwards reports each call (no handler code changes); `invoke(...)` wraps a
handler invocation. Capacity units follow DynamoDB's published rules:

- item size: attribute names plus values (strings and binaries by their bytes, numbers by about
  one byte per two significant digits plus one, maps and lists with 3 bytes of overhead plus 1
  per element: "DynamoDB item sizes and formats",
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html);
- a write costs ceil(size / 1 KB) write units, a read ceil(size / 4 KB) read units, halved when
  eventually consistent; a Query sums the sizes of all items returned and rounds once; items
  in a transaction cost twice; a read that finds nothing still costs its minimum.

SQS bills a request per 64 KB chunk of payload, so a SendMessageBatch of ten 10 KB messages is
two requests. Every ReceiveMessage and DeleteMessageBatch counts (Lambda's SQS poller makes them
on the account's bill too).
"""

from __future__ import annotations

import io
import json
import math
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

KB = 1024


def attribute_size(value: dict[str, Any]) -> int:
    """Bytes DynamoDB counts for one typed attribute value ({"S": ...}, {"N": ...}, ...)."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(str(inner).encode())
    if kind == "B":
        return len(inner) if isinstance(inner, bytes | bytearray) else len(str(inner).encode())
    if kind == "N":
        # "Leading and trailing zeroes are trimmed" before the significant digits are counted.
        digits = str(inner).lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(s).encode()) for s in inner)
    if kind == "NS":
        return sum(attribute_size({"N": n}) for n in inner)
    if kind == "BS":
        return sum(len(b) for b in inner)
    if kind == "M":
        return 3 + sum(len(name.encode()) + 1 + attribute_size(v) for name, v in inner.items())
    if kind == "L":
        return 3 + sum(1 + attribute_size(v) for v in inner)
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def write_units(item: dict[str, Any] | None) -> int:
    return max(1, math.ceil(item_size(item or {}) / KB))


# Item families by partition key prefix (see newsroom.store.keys), longest prefix first; a story's
# partition holds two families, told apart by the sort key.
_FAMILIES = (
    ("EVLIST#", "event listing"),
    ("EVKEY#", "event lookup"),
    ("EVENT#", "event"),
    ("LIST#", "story listing"),
    ("COUNT#", "story count"),
    ("GUID#", "GUID claim"),
    ("FP#", "fingerprint claim"),
)


def item_family(key: dict[str, Any]) -> str:
    """The item family a key (or whole item) belongs to, named as the cost breakdown shows it."""
    pk = str(key.get("PK", {}).get("S", ""))
    if pk.startswith("ART#"):
        return "story's event" if key.get("SK", {}).get("S") == "EVENT" else "story"
    return next((name for prefix, name in _FAMILIES if pk.startswith(prefix)), pk.split("#", 1)[0] or "other")


def read_units(total_bytes: int, *, consistent: bool) -> float:
    units = max(1, math.ceil(total_bytes / (4 * KB)))
    return float(units) if consistent else units / 2


@dataclass
class Counts:
    """Everything counted in one run; `phase` attributes counts to the step that caused them."""

    phase: str = "setup"
    calls: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (phase, service, operation)
    read_units: Counter[str] = field(default_factory=Counter)
    write_units: Counter[str] = field(default_factory=Counter)
    items_written: Counter[str] = field(default_factory=Counter)
    bytes_written: Counter[str] = field(default_factory=Counter)
    sqs_requests: Counter[str] = field(default_factory=Counter)  # billed requests (64 KB chunks)
    invocations: Counter[str] = field(default_factory=Counter)  # per phase
    durations_ms: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    log_bytes: Counter[str] = field(default_factory=Counter)
    # (namespace, metric name, dimension names) seen in embedded-metric-format lines
    metric_names: set[tuple[str, str, tuple[str, ...]]] = field(default_factory=set)
    # Write units by (phase, item family, action): what each family of item costs (`item_family`;
    # action "put", "update" or "delete", "txn " before it inside a transaction), and the sizes of
    # the items put, for `python -m devtools.story_writes`.
    family_units: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    family_actions: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    family_sizes: defaultdict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @contextmanager
    def during(self, phase: str) -> Iterator[None]:
        previous, self.phase = self.phase, phase
        try:
            yield
        finally:
            self.phase = previous

    # -- DynamoDB -------------------------------------------------------------------------------

    def _dynamodb(self, operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        phase = self.phase
        reads = 0.0
        writes = 0
        written: list[dict[str, Any]] = []

        def family(key: dict[str, Any], action: str, units: int, size: int | None = None) -> None:
            name = item_family(key)
            with self._lock:
                self.family_units[(phase, name, action)] += units
                self.family_actions[(phase, name, action)] += 1
                if size is not None:
                    self.family_sizes[(phase, name)].append(size)

        if operation == "PutItem":
            written.append(params.get("Item", {}))
        elif operation in ("DeleteItem", "UpdateItem"):
            writes += 1
            family(params.get("Key", {}), "update" if operation == "UpdateItem" else "delete", 1)
        elif operation == "BatchWriteItem":
            unprocessed = sum(len(v) for v in (parsed.get("UnprocessedItems") or {}).values())
            requests = [r for reqs in params.get("RequestItems", {}).values() for r in reqs]
            for request in requests[: len(requests) - unprocessed]:
                if "PutRequest" in request:
                    written.append(request["PutRequest"]["Item"])
                else:
                    writes += 1
                    family(request.get("DeleteRequest", {}).get("Key", {}), "delete", 1)
        elif operation == "TransactWriteItems":
            for entry in params.get("TransactItems", []):
                if "Put" in entry:
                    size_units = write_units(entry["Put"]["Item"])
                    writes += 2 * size_units
                    self.items_written[phase] += 1
                    size = item_size(entry["Put"]["Item"])
                    self.bytes_written[phase] += size
                    family(entry["Put"]["Item"], "txn put", 2 * size_units, size)
                else:
                    writes += 2
                    ((action, body),) = entry.items()
                    family(body.get("Key", {}), f"txn {action.lower()}", 2)
        elif operation == "GetItem":
            reads += read_units(item_size(parsed.get("Item") or {}), consistent=bool(params.get("ConsistentRead")))
        elif operation == "BatchGetItem":
            for table, request in params.get("RequestItems", {}).items():
                found = parsed.get("Responses", {}).get(table, [])
                consistent = bool(request.get("ConsistentRead"))
                unprocessed = len((parsed.get("UnprocessedKeys") or {}).get(table, {}).get("Keys", []))
                missing = max(0, len(request.get("Keys", [])) - len(found) - unprocessed)
                reads += sum(read_units(item_size(i), consistent=consistent) for i in found)
                reads += missing * read_units(0, consistent=consistent)
        elif operation in ("Query", "Scan"):
            total = sum(item_size(i) for i in parsed.get("Items", []))
            reads += read_units(total, consistent=bool(params.get("ConsistentRead")))
        elif operation == "TransactGetItems":
            for response in parsed.get("Responses", []):
                reads += 2 * read_units(item_size(response.get("Item") or {}), consistent=True)
        for item in written:
            writes += write_units(item)
            family(item, "put", write_units(item), item_size(item))
            self.items_written[phase] += 1
            self.bytes_written[phase] += item_size(item)
        with self._lock:
            self.read_units[phase] += reads  # type: ignore[assignment]
            self.write_units[phase] += writes

    # -- SQS --------------------------------------------------------------------------------------

    def _sqs(self, operation: str, params: dict[str, Any]) -> None:
        payload = 0
        if operation == "SendMessageBatch":
            payload = sum(len(e.get("MessageBody", "").encode()) for e in params.get("Entries", []))
        elif operation == "SendMessage":
            payload = len(params.get("MessageBody", "").encode())
        billed = max(1, math.ceil(payload / (64 * KB)))
        with self._lock:
            self.sqs_requests[self.phase] += billed

    def record(self, service: str, operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        with self._lock:
            self.calls[(self.phase, service, operation)] += 1
        if service == "dynamodb":
            self._dynamodb(operation, params, parsed)
        elif service == "sqs":
            self._sqs(operation, params)

    # -- Lambda -----------------------------------------------------------------------------------

    def invoke(self, handler: Callable[[Any, Any], Any], event: Any, context: Any) -> Any:
        """Run one handler invocation, counting it and its duration (logs: see `log_stream`)."""
        started = time.perf_counter()
        result = handler(event, context)
        elapsed = (time.perf_counter() - started) * 1000
        with self._lock:
            self.invocations[self.phase] += 1
            self.durations_ms[self.phase].append(elapsed)
        return result

    def log_stream(self, echo: TextIO | None = None) -> TextIO:
        """A stdout stand-in that counts what is written to it (Lambda ships stdout to CloudWatch
        Logs, billed per byte). Install it before the handlers are imported: Powertools' Logger
        keeps the stream it finds at creation."""
        counts = self

        class _Stream(io.TextIOBase):
            def write(self, text: str) -> int:
                with counts._lock:
                    counts.log_bytes[counts.phase] += len(text.encode())
                for line in text.splitlines():
                    if line.startswith('{"_aws"'):
                        counts.note_metrics(line)
                if echo is not None:
                    echo.write(text)
                return len(text)

            def flush(self) -> None:
                if echo is not None:
                    echo.flush()

        return _Stream()  # type: ignore[return-value]

    def note_metrics(self, line: str) -> None:
        try:
            blob = json.loads(line)["_aws"]
        except (ValueError, KeyError):
            return
        for directive in blob.get("CloudWatchMetrics", []):
            for dimensions in directive.get("Dimensions", [[]]):
                for metric in directive.get("Metrics", []):
                    with self._lock:
                        self.metric_names.add((directive.get("Namespace", ""), metric["Name"], tuple(dimensions)))

    def summary(self, phase: str) -> dict[str, float]:
        return {
            "invocations": self.invocations[phase],
            "duration_ms": sum(self.durations_ms[phase]),
            "read_units": self.read_units[phase],
            "write_units": self.write_units[phase],
            "items_written": self.items_written[phase],
            "bytes_written": self.bytes_written[phase],
            "sqs_requests": self.sqs_requests[phase],
            "log_bytes": self.log_bytes[phase],
        }


def install(counts: Counts) -> Callable[[], None]:
    """Count every call of every boto3 client created from the default session from now on.

    Returns a function that removes the hooks.
    """
    import boto3

    session = boto3._get_default_session()  # the session that boto3.client() uses
    events = session.events

    def before(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["counting_params"] = params

    def after(parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        service = model.service_model.endpoint_prefix
        counts.record(service, model.name, context.get("counting_params") or {}, parsed or {})

    for service in ("dynamodb", "sqs"):
        events.register(f"before-parameter-build.{service}", before, unique_id=f"counting-before-{service}")
        events.register(f"after-call.{service}", after, unique_id=f"counting-after-{service}")

    def uninstall() -> None:
        for service in ("dynamodb", "sqs"):
            events.unregister(f"before-parameter-build.{service}", unique_id=f"counting-before-{service}")
            events.unregister(f"after-call.{service}", unique_id=f"counting-after-{service}")

    return uninstall

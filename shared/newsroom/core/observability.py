"""Observability the handlers share: a lazy X-Ray tracer, cost-aware metrics, correlation keys.

- **Tracer.** A Powertools `Tracer` imports the X-Ray SDK and patches botocore: 100-200 ms of cold
  start. `capture_lambda_handler` creates it on the first invocation, and only when tracing is on
  (`POWERTOOLS_TRACE_DISABLED` not true), so it costs nothing when off. Responses are never put
  in traces (they hold article bodies); errors are.
- **Metrics.** Every custom CloudWatch metric (name × dimensions) costs $0.30 a month, so the
  metrics that alarms need are always metrics (`core`), and the rest (`detailed`) become plain
  fields of the same embedded-metric-format log line unless `DETAILED_METRICS` is true: still
  queryable with Logs Insights, free as metrics.
- **Correlation.** `entry_key` is derived from the entry itself (source id + GUID or link), so
  the fetcher and the processor name the same entry the same way without carrying anything;
  every per-entry log line has `source_id` and `entry_id`.
- **No secrets in logs.** `redact` drops query strings (feed URLs may carry tokens) from any
  text that goes into a log line; bodies are never logged.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from functools import cache, wraps
from typing import Any, TypeVar

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

F = TypeVar("F", bound=Callable[..., Any])

_TRUE = {"1", "true", "yes", "on"}
_URL_QUERY = re.compile(r"(https?://[^\s?#\"'<>]+)[?#][^\s\"'<>]*", re.IGNORECASE)


def tracing_enabled() -> bool:
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() not in _TRUE


@cache
def tracer() -> Any | None:
    """The process's Powertools Tracer, created on first use; None when tracing is off."""
    if not tracing_enabled():
        return None
    from aws_lambda_powertools import Tracer  # imports aws_xray_sdk: only now, only when on

    return Tracer()


def capture_lambda_handler(handler: F) -> F:
    """`Tracer.capture_lambda_handler`, decided on the first call instead of at import."""
    chosen: list[Callable[..., Any]] = []

    @wraps(handler)
    def wrapper(event: Any, context: Any) -> Any:
        if not chosen:
            t = tracer()
            chosen.append(
                handler if t is None else t.capture_lambda_handler(handler, capture_response=False, capture_error=True)
            )
        return chosen[0](event, context)

    return wrapper  # type: ignore[return-value]


def detailed_metrics() -> bool:
    return os.environ.get("DETAILED_METRICS", "").strip().lower() in _TRUE


def count(metrics: Metrics, name: str, value: float, *, detailed: bool = False) -> None:
    """A Count metric; a `detailed` one is a log field instead unless DETAILED_METRICS is on."""
    if detailed and not detailed_metrics():
        metrics.add_metadata(key=name, value=value)
    else:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def measure(metrics: Metrics, name: str, unit: MetricUnit, value: float, *, detailed: bool = False) -> None:
    if detailed and not detailed_metrics():
        metrics.add_metadata(key=name, value=value)
    else:
        metrics.add_metric(name=name, unit=unit, value=value)


def entry_key(source_id: str, guid: str | None, link: str) -> str:
    """A short, stable id for one feed entry: the same at fetch and at processing."""
    basis = f"{source_id}\n{guid or link}"
    return hashlib.sha256(basis.encode()).hexdigest()[:16]


def redact(text: str, limit: int = 300) -> str:
    """Text safe for a log line: URLs keep scheme, host and path only; length capped."""
    cleaned = _URL_QUERY.sub(lambda m: m.group(1) + "?…", text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"

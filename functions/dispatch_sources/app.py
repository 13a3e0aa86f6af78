"""Scheduled: enqueue the sources that are due (interval, backoff, disabled skipped), one per message."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from newsroom.wiring import handlers as service

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    report = service.dispatch_due_sources()
    metrics.add_metric("SourcesDue", MetricUnit.Count, report.due)
    metrics.add_metric("SourcesDisabled", MetricUnit.Count, report.disabled)
    logger.info("dispatch done", extra=asdict(report))
    return asdict(report)

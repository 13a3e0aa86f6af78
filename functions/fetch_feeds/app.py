"""Scheduled: poll every source (conditional GET) and queue new entries, one per message."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from newsroom import service

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    reports = service.fetch_feeds()
    for report in reports:
        if report.error:
            logger.warning("source failed", extra={"source_id": report.source_id, "reason": report.error})
    summary = service.summarize(reports)
    metrics.add_metric("EntriesFetched", MetricUnit.Count, summary["entries"])
    metrics.add_metric("SourcesFailed", MetricUnit.Count, summary["failed"])
    metrics.add_metric("SourcesNotModified", MetricUnit.Count, summary["not_modified"])
    logger.info("fetch round done", extra=summary)
    return summary

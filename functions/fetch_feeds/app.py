"""Fetch worker: polls the sources the dispatcher queued (an SQS batch of N, polled concurrently)
and queues their new entries, one per message. A schedule event (the local run, or a stack
without the dispatcher) polls every enabled source instead.

Logs: one summary line per invocation, plus one warning per failing source (`source_id`,
redacted reason); a healthy source writes no line, because at 1,000 sources every 5 minutes a
line per source is ~2.6 GB of CloudWatch Logs a month. The correlation id is the schedule
event's id, or the first SQS message's id.
"""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from newsroom.core import observability
from newsroom.wiring import handlers as service

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context(correlation_id_path="id || Records[0].messageId", clear_state=True)
@metrics.log_metrics
@observability.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records")
    if records is None:
        reports = service.fetch_feeds()
        failures: list[dict[str, str]] = []
    else:
        result = service.fetch_dispatched(
            [
                service.FetchMessage(
                    record["body"], int(record.get("attributes", {}).get("ApproximateReceiveCount", 1))
                )
                for record in records
            ]
        )
        reports = list(result.reports)
        # An unreadable message fails (and is retried, then dead-lettered), and so does a
        # one-source message whose state DynamoDB left unread (polled later, never as a new
        # source); a message of several received again is sent back in halves, its unreadable
        # or unread sources alone (`fanout.split_message`); a source's own failure is recorded
        # in its state and scheduled with backoff, not retried by SQS.
        failed = sorted({*result.bad_messages, *result.retry_messages})
        failures = [{"itemIdentifier": records[i]["messageId"]} for i in failed]
        if result.resent_sources:
            logger.info("fetch message split", extra={"sources_sent_back": result.resent_sources})
    for report in reports:
        if report.error:
            logger.warning(
                "source failed",
                extra={"source_id": report.source_id, "reason": observability.redact(report.error)},
            )
    summary = service.summarize(reports)
    polled = summary["sources"]
    # One always-on metric for SourcesFailingAlarm: a value per source reported, 100 if it failed
    # (status "error", what `summarize` counts as failed; a gone or not-due source is "skipped")
    # and 0 if not, so its Average over a period is the share failing and its SampleCount the
    # sources (EMF keeps repeated values of one key as an array, each a value of the metric: the
    # awslabs aws-embedded-metrics README, `put_metric`). Powertools writes a record at 100 values
    # (a schedule round of 100+ sources; a worker's SQS batch is 10), without this line's fields.
    # One custom metric and one alarm metric where polled and failed were two of each ($0.40 a
    # month; issue 18). The counts are log fields unless DetailedMetrics.
    for report in reports:
        score = 100 if report.status == "error" else 0
        observability.measure(metrics, "PollFailurePercent", MetricUnit.Percent, score)
    observability.count(metrics, "SourcesPolled", polled, detailed=True)
    observability.count(metrics, "SourcesFailed", summary["failed"], detailed=True)
    observability.count(metrics, "SourcesNotModified", summary["not_modified"], detailed=True)
    observability.count(metrics, "EntriesFetched", summary["entries"], detailed=True)
    if polled:
        observability.count(
            metrics, "NotModifiedPercent", round(100 * summary["not_modified"] / polled, 1), detailed=True
        )
    logger.info("fetch round done", extra=summary)
    if records is None:
        return summary
    return {**summary, "batchItemFailures": failures}

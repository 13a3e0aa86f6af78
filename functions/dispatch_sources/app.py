"""Scheduled: enqueue the sources that are due (interval, backoff, disabled skipped), one per message.

Metrics: `SourcesDue` and `SourcesDisabled` are metrics only with DetailedMetrics (no always-on
alarm reads them, and each custom metric is $0.30 a month; issue 18); otherwise they are the
`due` and `disabled` fields of the "dispatch done" line (with no metric in the set, Powertools
writes no metrics record to carry them as metadata). A tick that fails raises
DispatchSourcesErrorsAlarm; ticks that stop altogether raise NoArticleStoredAlarm.
"""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from newsroom.core import observability
from newsroom.wiring import handlers as service

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    report = service.dispatch_due_sources()
    observability.count(metrics, "SourcesDue", report.due, detailed=True)
    observability.count(metrics, "SourcesDisabled", report.disabled, detailed=True)
    logger.info("dispatch done", extra=asdict(report))
    return asdict(report)

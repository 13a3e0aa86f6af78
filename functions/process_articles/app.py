"""SQS consumer: each message is one feed entry; a poison message fails alone (partial batch response)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from newsroom import service

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> str:
    receive_count = int(record.attributes.approximate_receive_count or 1)
    try:
        decision = service.process_message(record.body)
    except Exception as exc:
        # SQS cannot carry the reason to the dead-letter queue: keep it under the message id,
        # then fail this record alone (it is reported in batchItemFailures and retried).
        service.record_reject(record.message_id, record.body, exc, receive_count)
        metrics.add_metric("Articles-rejected", MetricUnit.Count, 1)
        logger.warning(
            "entry rejected",
            extra={"message_id": record.message_id, "receive_count": receive_count, "error": str(exc)[:500]},
        )
        raise
    service.clear_reject(record.message_id, receive_count)
    metrics.add_metric(f"Articles-{decision.outcome.value}", MetricUnit.Count, 1)
    logger.info(
        "entry processed",
        extra={
            "message_id": record.message_id,
            "article_id": decision.article.id,
            "outcome": decision.outcome.value,
        },
    )
    return decision.outcome.value


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

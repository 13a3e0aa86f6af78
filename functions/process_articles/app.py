"""SQS consumer: each message is one feed entry; a poison message fails alone (partial batch response)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from newsroom.core import observability
from newsroom.process.build import EntryRejected, Outcome
from newsroom.wiring import handlers as service

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)
OUTCOME_METRICS = {
    Outcome.CREATED: "ArticlesCreated",
    Outcome.UPDATED: "ArticlesUpdated",
    Outcome.UNCHANGED: "ExactDuplicates",
    Outcome.COPY_ATTACHED: "CopiesAttributed",
    Outcome.ORIGINAL_PROMOTED: "OriginalsPromoted",
}


def record_handler(record: SQSRecord) -> str:
    receive_count = int(record.attributes.approximate_receive_count or 1)
    try:
        decision = service.process_message(record.body)
    except EntryRejected as exc:
        # Too large to store even after the input limits: every retry would fail the same way, so
        # the reason is kept (REJECT#<message id>, permanent) and the message is not retried.
        service.record_reject(record.message_id, record.body, exc, receive_count)
        observability.count(metrics, "EntriesRejected", 1, detailed=True)
        logger.warning(
            "entry rejected permanently",
            extra={"message_id": record.message_id, "reason": exc.reason, "error": str(exc)[:500]},
        )
        return "rejected"
    except Exception as exc:
        # SQS cannot carry the reason to the dead-letter queue: keep it under the message id,
        # then fail this record alone (it is reported in batchItemFailures and retried).
        service.record_reject(record.message_id, record.body, exc, receive_count)
        observability.count(metrics, "EntriesRejected", 1, detailed=True)
        logger.warning(
            "entry rejected",
            extra={"message_id": record.message_id, "receive_count": receive_count, "error": str(exc)[:500]},
        )
        raise
    service.clear_reject(record.message_id, receive_count)
    outcome = decision.outcome.value
    if decision.outcome is not Outcome.UNCHANGED:
        # Feeds the "no article stored for N hours" alarm.
        observability.count(metrics, "ArticlesStored", 1)
    observability.count(metrics, OUTCOME_METRICS[decision.outcome], 1, detailed=True)
    logger.info(
        "entry processed",
        extra={
            "message_id": record.message_id,
            "article_id": decision.article.id,
            "source_id": decision.article.source_id,
            "outcome": outcome,
        },
    )
    return outcome


@observability.capture_lambda_handler
@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

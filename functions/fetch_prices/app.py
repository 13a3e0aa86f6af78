"""Scheduled: refresh the price ticker from the configured provider."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from newsroom import service

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    prices = service.fetch_prices()
    metrics.add_metric("PricesStored", MetricUnit.Count, len(prices))
    logger.info("prices refreshed", extra={"pairs": [p.pair for p in prices]})
    return {"stored": len(prices), "pairs": [p.pair for p in prices]}

"""API Gateway proxy: JSON, JSON Feed, RSS, Atom and prices over the news table."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from newsroom import runtime
from newsroom.api import build_resolver

logger = Logger()
metrics = Metrics()
app = build_resolver(runtime.store)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

"""API Gateway proxy: JSON, JSON Feed, RSS, Atom, prices, sources and the OpenAPI document.

Only what every request needs is built at import (Logger, Metrics, the resolver): no Tracer
(X-Ray tracing is on in the template; creating a Powertools `Tracer` costs 100-200 ms of cold
start) and no pydantic. The OpenAPI document is generated offline and shipped beside this file.
"""

from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from newsroom.serve.api import build_resolver
from newsroom.wiring import clients as runtime

logger = Logger()
metrics = Metrics()
app = build_resolver(runtime.store, openapi_path=Path(__file__).with_name("openapi.json"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

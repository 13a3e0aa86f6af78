"""WebSub callback: a hub verifies our subscription intent (GET) and delivers new entries (POST).

Its own function and role, so the API function stays read-only: this one reads subscriptions,
their secrets and source states, writes subscriptions and seen digests, and sends to the article
queue. Logs one line per request (method, source, what happened), never a secret or a body.
"""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from newsroom.wiring.websub import websub_callback

logger = Logger()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return websub_callback(event)

"""The WebSub callback function's work, wired to the process-wide clients."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from newsroom.core.config import settings
from newsroom.store.subscriptions import Subscription
from newsroom.websub.callback import handle_event
from newsroom.websub.delivery import accept
from newsroom.wiring import clients as runtime
from newsroom.wiring.handlers import fetch_policy

logger = logging.getLogger(__name__)


def websub_callback(event: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """One hub request to `/websub/{source}/{token}` -> the API Gateway proxy response."""
    cfg = settings()
    store = runtime.store()
    moment = now or datetime.now(UTC)

    def deliver(sub: Subscription, body: bytes, content_type: str) -> str:
        return accept(
            sub,
            body,
            content_type,
            store=store,
            sqs=runtime.sqs(),
            queue_url=cfg.queue_url,
            policy=fetch_policy(cfg),
            now=moment,
            bucket=runtime.entry_bucket(),
        )

    answer = handle_event(event, store, deliver, now=moment)
    source = (event.get("pathParameters") or {}).get("source", "")
    logger.info("websub %s %s: %s", event.get("httpMethod"), source[:100], answer.note)
    return {
        "statusCode": answer.status,
        "headers": {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"},
        "body": answer.body,
        "isBase64Encoded": False,
    }

"""Run the real handlers in-process with real event shapes (what `sam local` would do with Docker)."""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
EVENTS = ROOT / "events"

FUNCTION_DIRS = {
    "FetchFeedsFunction": "fetch_feeds",
    "FetchPricesFunction": "fetch_prices",
    "ProcessArticlesFunction": "process_articles",
    "ApiFunction": "api",
}


def load_event(name: str) -> dict[str, Any]:
    """One sample event from `events/`, the same file `sam local invoke -e` takes."""
    path = EVENTS / (name if name.endswith(".json") else f"{name}.json")
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass
class FakeLambdaContext:
    function_name: str = "local"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def load_handler_module(function_dir: str) -> ModuleType:
    """Import `functions/<dir>/app.py` under a unique name, with the layer code on sys.path."""
    shared = str(ROOT / "shared")
    if shared not in sys.path:
        sys.path.insert(0, shared)
    path = FUNCTIONS / function_dir / "app.py"
    spec = importlib.util.spec_from_file_location(f"lambda_{function_dir}_app", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def invoke(module: ModuleType, event: dict[str, Any], function_name: str = "local") -> Any:
    return module.lambda_handler(event, FakeLambdaContext(function_name=function_name))


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """An SQS event source batch built from ReceiveMessage results, as Lambda's poller builds it."""
    records = []
    for message in messages:
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {
                    "ApproximateReceiveCount": message.get("Attributes", {}).get("ApproximateReceiveCount", "1"),
                    "SentTimestamp": message.get("Attributes", {}).get("SentTimestamp", str(int(time.time() * 1000))),
                    "SenderId": "local",
                    "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000)),
                },
                "messageAttributes": {},
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def api_event(method: str, raw_path: str, headers: dict[str, str], body: bytes | None = None) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event for one HTTP request, as `sam local start-api` makes."""
    path, _, query = raw_path.partition("?")
    pairs = parse_qsl(query, keep_blank_values=True)
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        single[key] = value
        multi.setdefault(key, []).append(value)
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": single or None,
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": {"proxy": path.lstrip("/")} if path != "/" else None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": path,
            "stage": "local",
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": headers.get("User-Agent", "")},
            "requestTimeEpoch": int(time.time() * 1000),
            "accountId": "123456789012",
            "apiId": "local",
            "protocol": "HTTP/1.1",
        },
        "body": base64.b64encode(body).decode() if body else None,
        "isBase64Encoded": bool(body),
    }


@dataclass
class DrainReport:
    batches: int = 0
    processed: int = 0
    failed: int = 0
    results: list[Any] = field(default_factory=list)  # what each invocation returned


def drain_queue(
    sqs: Any,
    queue_url: str,
    queue_arn: str,
    process_module: ModuleType,
    *,
    max_rounds: int = 1000,
    function_name: str = "ProcessArticlesFunction",
) -> DrainReport:
    """Feed queued messages to a handler (the processor by default) in batches of the size its
    SQS event source has in template.yaml (`BatchSize`: ten for the article queue, one message of
    20 sources for the fetch queue), one ReceiveMessage of at most ten a batch.

    Messages the handler reports in `batchItemFailures` stay on the queue (and, after the queue's
    maxReceiveCount, move to the dead-letter queue); the rest are deleted.
    """
    report = DrainReport()
    from devtools.template import sqs_batch_size

    batch = min(10, sqs_batch_size(function_name))
    for _ in range(max_rounds):
        resp = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=batch,
            WaitTimeSeconds=0,
            VisibilityTimeout=30,
            AttributeNames=["All"],
        )
        messages = resp.get("Messages", [])
        if not messages:
            break
        result = invoke(process_module, sqs_event(messages, queue_arn), function_name)
        report.results.append(result)
        failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start : start + 10])
                ],
            )
        report.batches += 1
        report.processed += len(done)
        report.failed += len(failed)
    return report

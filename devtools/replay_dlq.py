"""List the dead-letter queue with the reason each message failed, and re-drive chosen ones.

SQS moves a message that failed `maxReceiveCount` times to the dead-letter queue, keeping its
message id but not why it failed; the processor writes that reason to the table as
`REJECT#<message id>` first. This command joins the two:

    python -m devtools.replay_dlq --stack-name newsroom              # list: id, tries, reason
    python -m devtools.replay_dlq --stack-name newsroom --replay      # re-drive the retryable ones
    python -m devtools.replay_dlq --stack-name newsroom --replay --match "unknown source"
    python -m devtools.replay_dlq --stack-name newsroom --replay --all

Without `--match`, `--replay` re-drives messages whose failure may pass on a retry (throttling,
lost races, bugs since fixed) and those with no record, and keeps the ones recorded as
permanent (malformed, or from a source that is not configured): fix the cause first (add the
source), then replay them with `--match` or `--all`. A replayed message is sent to the main
queue, then deleted from the dead-letter queue, then its rejects record is deleted; a crash in
between can only send it twice, and processing is idempotent. Queue and table come from the
stack's outputs (`--stack-name`), from `--queue-url/--dlq-url/--table`, or from QUEUE_URL,
DEAD_LETTER_QUEUE_URL and TABLE_NAME; AWS_ENDPOINT_URL points it at the local moto.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "shared") not in sys.path:
    sys.path.insert(0, str(ROOT / "shared"))

from newsroom.store.dynamo import DynamoStore  # noqa: E402
from newsroom.store.rejects import Reject  # noqa: E402

RECEIVE_VISIBILITY = 120  # seconds a listed message stays hidden while this command runs


@dataclass(frozen=True)
class Targets:
    queue_url: str
    dlq_url: str
    table: str


def stack_targets(stack_name: str) -> Targets:
    import boto3

    stack = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return Targets(outputs["ArticleQueueUrl"], outputs["ArticleDeadLetterQueueUrl"], outputs["NewsTableName"])


def resolve_targets(args: argparse.Namespace) -> Targets:
    found = stack_targets(args.stack_name) if args.stack_name else None
    queue = args.queue_url or (found and found.queue_url) or os.environ.get("QUEUE_URL", "")
    dlq = args.dlq_url or (found and found.dlq_url) or os.environ.get("DEAD_LETTER_QUEUE_URL", "")
    table = args.table or (found and found.table) or os.environ.get("TABLE_NAME", "")
    missing = [n for n, v in (("queue URL", queue), ("dead-letter queue URL", dlq), ("table", table)) if not v]
    if missing:
        raise SystemExit(f"replay_dlq: no {', '.join(missing)}: pass --stack-name or the explicit options")
    return Targets(queue, dlq, table)


def read_dead_letters(sqs: Any, dlq_url: str, limit: int) -> list[dict[str, Any]]:
    """Receive up to `limit` messages, each once (they stay hidden while we decide)."""
    messages: dict[str, dict[str, Any]] = {}
    while len(messages) < limit:
        batch = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=min(10, limit - len(messages)),
            VisibilityTimeout=RECEIVE_VISIBILITY,
            WaitTimeSeconds=1,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            break  # a long poll asks every SQS server: empty means nothing left to see
        for message in batch:
            messages.setdefault(message["MessageId"], message)
    return list(messages.values())


def chosen(reject: Reject | None, match: str | None, replay_all: bool) -> bool:
    if match is not None:
        return reject is not None and match.lower() in reject.reason.lower()
    return replay_all or reject is None or not reject.permanent


def describe(message: dict[str, Any], reject: Reject | None) -> str:
    tries = message.get("Attributes", {}).get("ApproximateReceiveCount", "?")
    if reject is None:
        return f"{message['MessageId']}  tries={tries}  (no rejects record)"
    kind = "permanent" if reject.permanent else "retryable"
    where = f"  source={reject.source_id}" if reject.source_id else ""
    return f"{message['MessageId']}  tries={tries}  {kind}{where}  {reject.reason[:160]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.replay_dlq", description=__doc__.split("\n")[0])
    parser.add_argument("--stack-name", help="read the queue URLs and table name from this stack's outputs")
    parser.add_argument("--queue-url", help="the main (article) queue")
    parser.add_argument("--dlq-url", help="its dead-letter queue")
    parser.add_argument("--table", help="the news table holding the REJECT# records")
    parser.add_argument("--replay", action="store_true", help="re-drive the chosen messages (default: only list)")
    parser.add_argument("--match", help="choose only messages whose recorded reason contains this text")
    parser.add_argument("--all", action="store_true", help="choose every message, permanent failures included")
    parser.add_argument("--limit", type=int, default=1000, help="look at most at this many messages")
    args = parser.parse_args(argv)

    import boto3

    targets = resolve_targets(args)
    sqs = boto3.client("sqs")
    rejects = DynamoStore(boto3.client("dynamodb"), targets.table, b"unused")
    messages = read_dead_letters(sqs, targets.dlq_url, args.limit)
    replayed = kept = 0
    for message in messages:
        reject = rejects.get_reject(message["MessageId"])
        take = args.replay and chosen(reject, args.match, args.all)
        print(("replay  " if take else "keep    ") + describe(message, reject), flush=True)
        if not take:
            # Visible again at once, for the next run of this command or the console.
            sqs.change_message_visibility(
                QueueUrl=targets.dlq_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
            kept += 1
            continue
        attributes = {
            "replay-of": {"DataType": "String", "StringValue": message["MessageId"]},
        }
        sqs.send_message(QueueUrl=targets.queue_url, MessageBody=message["Body"], MessageAttributes=attributes)
        sqs.delete_message(QueueUrl=targets.dlq_url, ReceiptHandle=message["ReceiptHandle"])
        if reject is not None:
            rejects.delete_reject(message["MessageId"])
        replayed += 1
    print(f"{len(messages)} dead-letter messages: {replayed} replayed, {kept} kept", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

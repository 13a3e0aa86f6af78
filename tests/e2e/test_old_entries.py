"""Old entries kept honestly: an entry published before the retention window is stored once,
counted once and shown, kept `retention` from when we first saw it.

Guards: `DynamoStore._expires_at` (expiry from max(published, first seen)), `_creation_expiry`
(never stored already expired), and `list_articles` skipping expired entries wherever they sort.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from devtools.faults import dump_table, story_items
from devtools.lambda_local import invoke, sqs_event
from newsroom.core.codec import entry_from_message, entry_to_message
from newsroom.wiring import clients as runtime

from .conftest import Stack
from .reliability import sample_messages


def test_a_two_year_old_entry_delivered_three_times_is_stored_once_counted_once_and_shown(stack: Stack) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    sample = next(m for m in sample_messages() if json.loads(m)["source_id"] == "blockledger")
    two_years_ago = now - timedelta(days=730)
    entry = replace(entry_from_message(sample), published=two_years_ago, updated=two_years_ago, fetched_at=now)
    body = entry_to_message(entry)

    for delivery in range(3):
        event = sqs_event(
            [{"MessageId": f"m{delivery}", "ReceiptHandle": "r", "Body": body}], stack.resources.queue_arn
        )
        assert invoke(stack.process, event, "ProcessArticlesFunction") == {"batchItemFailures": []}

    stories = story_items(dump_table(stack.dynamodb, stack.resources.table_name))
    assert len(stories) == 1
    assert runtime.store().source_story_counts(["blockledger"]) == {"blockledger": 1}
    retention = timedelta(days=runtime.settings().article_retention_days)
    # Kept `retention` from when we first saw it, not from its publication two years ago.
    assert int(stories[0]["expires_at"]["N"]) == int((now + retention).timestamp())

    items = json.loads(stack.get("/articles")["body"])["items"]
    assert [i["title"] for i in items] == [entry.title]
    assert items[0]["published"].startswith(two_years_ago.strftime("%Y-%m-%d"))
    assert stack.get(f"/articles/{items[0]['id']}")["statusCode"] == 200
    sources = {s["id"]: s for s in json.loads(stack.get("/sources")["body"])["items"]}
    assert sources["blockledger"]["articles"] == 1

"""Move story counts from `SOURCE#<id>/STORIES` (before the IAM key-prefix split) to `COUNT#<id>/STORIES`.

Run once per stack after deploying the version that reads `COUNT#`, with the operator's
credentials (no function may do this: the processor cannot touch `SOURCE#`, by design):

    TABLE_NAME=<table> python -m devtools.migrate_counts

Each source's old count is added to the new item and the old item deleted in one transaction,
conditional on the old item still holding that count. Stories processed since the deploy have
already counted on `COUNT#`, and ADD is commutative, so the sum is right whenever this runs, and
running it again moves nothing twice.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from newsroom.store.keys import SOURCE_COUNT_PREFIX, SOURCE_STATE_PREFIX

STORIES = "STORIES"


def migrate_counts(client: Any, table: str, source_ids: list[str]) -> dict[str, int]:
    """The count moved per source (sources with no old item are left out)."""
    moved: dict[str, int] = {}
    for source_id in source_ids:
        old_key = {"PK": {"S": f"{SOURCE_STATE_PREFIX}{source_id}"}, "SK": {"S": STORIES}}
        old = client.get_item(TableName=table, Key=old_key, ConsistentRead=True).get("Item")
        if old is None:
            continue
        count = old.get("stories", {"N": "0"})
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": table,
                            "Key": {"PK": {"S": f"{SOURCE_COUNT_PREFIX}{source_id}"}, "SK": {"S": STORIES}},
                            "UpdateExpression": "ADD stories :n",
                            "ExpressionAttributeValues": {":n": count},
                        }
                    },
                    {
                        "Delete": {
                            "TableName": table,
                            "Key": old_key,
                            "ConditionExpression": "stories = :n",
                            "ExpressionAttributeValues": {":n": count},
                        }
                    },
                ]
            )
        except client.exceptions.TransactionCanceledException:
            continue  # another run moved it first
        moved[source_id] = int(count["N"])
    return moved


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    from newsroom.sources.registry import known_sources
    from newsroom.wiring import clients as runtime

    store = runtime.store()
    ids = [s.id for s in known_sources(store)]
    moved = migrate_counts(runtime.dynamodb(), runtime.settings().table_name, ids)
    for source_id, count in sorted(moved.items()):
        print(f"{source_id}: {count} stories moved to {SOURCE_COUNT_PREFIX}{source_id}", file=out)
    print(f"{len(moved)} of {len(ids)} sources had an old count", file=out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

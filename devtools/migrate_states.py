"""Move source states from their own partitions (`SOURCE#<id>` / `STATE`) to the `STATES` partition.

The version that reads and writes states in `STATES` (issue 18: the dispatcher reads them all with
one Query) still reads a source's old item while it has none in `STATES`, so nothing is lost
between the deploy and this run; the fetcher's next write of a state puts it in `STATES`. Run once
per stack after deploying it, with the operator's credentials (no function deletes states):

    TABLE_NAME=<table> python -m devtools.migrate_states

Each old state is copied to `STATES` unless the source already has a state there (written by the
fetcher since the deploy, so newer), and the old item is deleted, conditional on being unchanged
since it was read. Running it again moves nothing twice.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from newsroom.store.keys import SOURCE_STATE_PREFIX
from newsroom.store.sources import state_key


def migrate_states(client: Any, table: str, source_ids: list[str]) -> dict[str, str]:
    """What happened to each source's old state: "moved", or "dropped" (its state in `STATES`
    is newer). Sources with no old item are left out."""
    done: dict[str, str] = {}
    for source_id in source_ids:
        old_key = {"PK": {"S": f"{SOURCE_STATE_PREFIX}{source_id}"}, "SK": {"S": "STATE"}}
        old = client.get_item(TableName=table, Key=old_key, ConsistentRead=True).get("Item")
        if old is None:
            continue
        unchanged = {
            "TableName": table,
            "Key": old_key,
            "ConditionExpression": "doc = :doc",
            "ExpressionAttributeValues": {":doc": old["doc"]},
        }
        moved = {**old, **state_key(source_id)}
        try:
            client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": table, "Item": moved, "ConditionExpression": "attribute_not_exists(PK)"}},
                    {"Delete": unchanged},
                ]
            )
            done[source_id] = "moved"
        except client.exceptions.TransactionCanceledException as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed" and reasons[1:] in ([], ["None"]):
                try:  # a newer state is in STATES: the old one only goes
                    client.delete_item(**unchanged)
                    done[source_id] = "dropped"
                except client.exceptions.ConditionalCheckFailedException:
                    continue  # changed or gone meanwhile (another run): left for the next run
            # otherwise the old item changed since it was read: left for the next run
    return done


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    from newsroom.sources.registry import known_sources
    from newsroom.wiring import clients as runtime

    ids = [s.id for s in known_sources(runtime.store())]
    done = migrate_states(runtime.dynamodb(), runtime.settings().table_name, ids)
    for source_id, what in sorted(done.items()):
        print(f"{source_id}: {what}", file=out)
    moved = sum(1 for what in done.values() if what == "moved")
    print(f"{len(done)} of {len(ids)} sources had an old state: {moved} moved to STATES", file=out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

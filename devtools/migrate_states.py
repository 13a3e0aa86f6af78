"""Move source states from their own partitions (`SOURCE#<id>` / `STATE`) to the `STATES` partition.

The version that reads and writes states in `STATES` (issue 18: the dispatcher reads them all with
one Query) still reads a source's old item while it has none in `STATES`, so nothing is lost
between the deploy and this run; the fetcher's next write of a state puts it in `STATES`. Run it
with the operator's credentials (no function deletes states), in two steps:

    TABLE_NAME=<table> python -m devtools.migrate_states                  # copy
    TABLE_NAME=<table> python -m devtools.migrate_states --delete-legacy  # then delete the old items

The copy puts each old state in `STATES` unless the source already has one there that is as
recent (written by the fetcher since the deploy), and deletes nothing: a reader that missed a state in
`STATES` a moment before it was copied still finds the old item, so no state ever reads as
absent (a new source). The delete step, run after the copy, removes an old item only when its
source's state is in `STATES` (read strongly consistent) and the old item is unchanged since it
was read. Each run finds the old items with a Scan (an operator's tool, never the request path),
prints what it left and exits 1 when anything was left; running either again does nothing twice.

After the delete step the move is one-way: the version before reads only the old items.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TextIO

from botocore.exceptions import ClientError

from newsroom.core.models import parse_iso
from newsroom.store.keys import SOURCE_STATE_PREFIX
from newsroom.store.sources import state_key


def legacy_states(client: Any, table: str) -> Iterator[dict[str, Any]]:
    """Every old state item, whatever the registry holds now (a removed source's too). A whole
    Scan, filtered here: a FilterExpression would bill the same reads."""
    scan: dict[str, Any] = {"TableName": table}
    while True:
        resp = client.scan(**scan)
        for item in resp.get("Items", []):
            if item["SK"]["S"] == "STATE" and item["PK"]["S"].startswith(SOURCE_STATE_PREFIX):
                yield item
        last = resp.get("LastEvaluatedKey")
        if not last:
            return
        scan["ExclusiveStartKey"] = last


def _source_id(item: dict[str, Any]) -> str:
    return str(item["PK"]["S"]).removeprefix(SOURCE_STATE_PREFIX)


def _each_old_state(
    client: Any, table: str, act: Callable[[dict[str, Any], str], str], *, refused: str
) -> dict[str, str]:
    """source id -> what `act(item, source id)` did to each old state item; `refused` when its
    condition failed, "left: <error code>" on any other error (to run again)."""
    done: dict[str, str] = {}
    for item in legacy_states(client, table):
        source_id = _source_id(item)
        try:
            done[source_id] = act(item, source_id)
        except client.exceptions.ConditionalCheckFailedException:
            done[source_id] = refused
        except ClientError as exc:
            done[source_id] = f"left: {exc.response.get('Error', {}).get('Code')}"
    return done


def _last_written(doc: dict[str, Any]) -> datetime | None:
    """The latest time a state's document records (its last attempt, success or error)."""
    times = [parse_iso(doc[key]) for key in ("last_attempt", "last_success", "last_error_at") if doc.get(key)]
    return max(times, default=None)


def copy_states(client: Any, table: str) -> dict[str, str]:
    """source id -> "copied", "copied over an older one", "newer in STATES" or "left: <error code>".

    A state already in `STATES` is kept unless the old item records a later attempt, success or
    error: a stack rolled back (the version before writes the old items) and forward again
    before the delete step holds the older state in `STATES`."""

    def copy(item: dict[str, Any], source_id: str) -> str:
        moved = client.get_item(TableName=table, Key=state_key(source_id), ConsistentRead=True).get("Item")
        if moved is None:
            client.put_item(
                TableName=table, Item={**item, **state_key(source_id)}, ConditionExpression="attribute_not_exists(PK)"
            )
            return "copied"
        old, new = _last_written(json.loads(item["doc"]["S"])), _last_written(json.loads(moved["doc"]["S"]))
        if old is None or (new is not None and old <= new):
            return "newer in STATES"
        client.put_item(  # conditional on the state in STATES unchanged since read
            TableName=table,
            Item={**item, **state_key(source_id)},
            ConditionExpression="doc = :doc",
            ExpressionAttributeValues={":doc": moved["doc"]},
        )
        return "copied over an older one"

    return _each_old_state(client, table, copy, refused="newer in STATES")


def delete_legacy(client: Any, table: str) -> dict[str, str]:
    """source id -> "deleted", or "left: ..." (not in STATES yet, changed since read, an error)."""

    def delete(item: dict[str, Any], source_id: str) -> str:
        if client.get_item(TableName=table, Key=state_key(source_id), ConsistentRead=True).get("Item") is None:
            return "left: not in STATES (run the copy first)"
        unchanged = "doc = :doc AND " + ("seen = :seen" if "seen" in item else "attribute_not_exists(seen)")
        client.delete_item(
            TableName=table,
            Key={"PK": item["PK"], "SK": item["SK"]},
            ConditionExpression=unchanged,
            ExpressionAttributeValues={":doc": item["doc"], **({":seen": item["seen"]} if "seen" in item else {})},
        )
        return "deleted"

    return _each_old_state(client, table, delete, refused="left: changed since read")


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delete-legacy", action="store_true", help="delete the old items already copied")
    args = parser.parse_args(argv)
    from newsroom.wiring import clients as runtime

    step = delete_legacy if args.delete_legacy else copy_states
    done = step(runtime.dynamodb(), runtime.settings().table_name)
    for source_id, what in sorted(done.items()):
        print(f"{source_id}: {what}", file=out)
    left = sum(1 for what in done.values() if what.startswith("left"))
    print(f"{len(done)} old state items: {len(done) - left} done, {left} left", file=out)
    return 1 if left else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""At-least-once delivery with processors running at once: threads against moto in server mode.

Each thread is one Lambda execution environment: its own copy of the handler module (its own
Powertools BatchProcessor) sharing nothing but the AWS endpoint, as concurrent invocations of
one function share nothing but DynamoDB and SQS. A fixed number of rounds, each starting all
threads together on a barrier, makes the races happen on every run rather than by luck.

Guards: the conditional writes under one transaction (`attribute_not_exists` on create, the
`version` check on replace) and ingest's re-read-and-decide loop on `ConflictError`; without
them two processors both "create" a story or one overwrites the copy the other attached.
"""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

from devtools.faults import clear_table, diff_dumps, story_items
from devtools.faults import dump_table as dump
from devtools.lambda_local import invoke, load_handler_module, sqs_event
from devtools.moto_local import moto_server
from devtools.sample_server import SAMPLES
from devtools.stack import DynamoDBFactory, moto_dynamodb
from devtools.template import LocalResources, create_resources
from newsroom.store.documents import load_doc
from newsroom.wiring import clients as runtime

from .reliability import deliver, pinned_clock, sample_messages, send_all  # noqa: F401


@pytest.fixture
def stack_dynamodb() -> DynamoDBFactory:
    """moto itself, not the memory client:
    the races run on moto as well as on the memory client (tests/e2e/test_cluster_race.py)."""
    return moto_dynamodb


pytestmark = pytest.mark.usefixtures("pinned_clock")

THREADS = 4
ROUNDS = 5


class ServerStack:
    def __init__(self, endpoint: str, resources: LocalResources) -> None:
        self.endpoint = endpoint
        self.resources = resources
        self.dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
        self.sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture
def server_stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ServerStack]:
    # One request at a time: DynamoDB applies each request atomically, moto under concurrent
    # requests does not; the races under test, between one processor's read and its
    # conditional write, are untouched.
    server = moto_server(serialized=True)
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        _reset_moto(endpoint)  # moto's backends are process-wide: start from nothing
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        resources = create_resources(dynamodb, sqs)
        sources = tmp_path / "sources.json"
        sources.write_text((SAMPLES / "sources.json").read_text().replace("{base}", "http://127.0.0.1:9"))
        for key, value in {
            "TABLE_NAME": resources.table_name,
            "QUEUE_URL": resources.queue_url,
            "SOURCES_FILE": str(sources),
            "POWERTOOLS_METRICS_DISABLED": "true",
            "CURSOR_SECRET": "test-cursor-secret-0123456789",
        }.items():
            monkeypatch.setenv(key, value)
        runtime.reset()
        # Create the shared clients before any thread does (boto3's default session is not
        # thread-safe while it creates clients; created clients are).
        runtime.dynamodb()
        runtime.sqs()
        yield ServerStack(endpoint, resources)
    finally:
        runtime.reset()
        _reset_moto(endpoint)
        server.stop()


def _reset_moto(endpoint: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10).close()


def run_together(workers: list[Any]) -> None:
    """Start every worker at the same instant; re-raise the first error any of them hit."""
    barrier = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def run(work: Any) -> None:
        try:
            barrier.wait()
            work()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]


def handlers() -> list[ModuleType]:
    return [load_handler_module("process_articles") for _ in range(THREADS)]


def drain_together(s: ServerStack, modules: list[ModuleType], bodies: list[str]) -> list[int]:
    """Queue the bodies, then let every processor drain the queue at once; failures per processor."""
    send_all(s.sqs, s.resources.queue_url, bodies)
    failures: list[int] = []

    def drain(module: ModuleType) -> Any:
        def work() -> None:
            report = deliver(s.sqs, s.resources.queue_url, s.resources.queue_arn, module, batch_size=2)
            failures.append(sum(report.failed.values()) + report.died)

        return work

    run_together([drain(m) for m in modules])
    return failures


def test_concurrent_processors_store_each_entry_once(server_stack: ServerStack) -> None:
    s = server_stack
    # Entries of independent stories: the final table cannot depend on who processed what first.
    bodies = [b for b in sample_messages() if '"source_id":"cryptowire"' not in b]
    modules = handlers()
    drain_together(s, modules[:1], bodies)  # one processor, each entry once: the reference
    clean = dump(s.dynamodb, s.resources.table_name)

    for round_no in range(ROUNDS):
        clear_table(s.dynamodb, s.resources.table_name)
        # Every entry three times over (redeliveries, a fetcher retry), all processors at once.
        failures = drain_together(s, modules, bodies * 3)
        state = dump(s.dynamodb, s.resources.table_name)
        assert state == clean, f"round {round_no}:\n{diff_dumps(clean, state)}"
        assert sum(failures) == 0, f"round {round_no}: {failures}"


def test_concurrent_processors_with_copies_keep_one_story_per_story(server_stack: ServerStack) -> None:
    """Originals and their syndicated copies racing: which arrives first may decide details
    (that order belongs to the dedupe rules), never how many stories, listings or copies exist."""
    s = server_stack
    bodies = sample_messages()
    modules = handlers()
    drain_together(s, modules[:1], bodies)
    clean = shape(dump(s.dynamodb, s.resources.table_name))

    for round_no in range(ROUNDS):
        clear_table(s.dynamodb, s.resources.table_name)
        failures = drain_together(s, modules, bodies * 3)
        assert shape(dump(s.dynamodb, s.resources.table_name)) == clean, f"round {round_no}"
        assert sum(failures) == 0, f"round {round_no}: {failures}"


def shape(items: list[dict[str, Any]]) -> dict[str, Any]:
    """What must not depend on arrival order: the stories, each one's copies, and listings that
    hold each story exactly once, each entry pointing at a story that is where it says it is."""
    stories = {i["PK"]["S"][4:]: load_doc(i["doc"]) for i in story_items(items)}
    listings: dict[str, list[str]] = {}
    for item in items:
        # A tombstone (`gone`: where a replace removed an entry, `store.stories`) is no entry.
        if item["PK"]["S"].startswith("LIST#") and "gone" not in item:
            story_id = item["id"]["S"]
            assert story_id in stories, f"listing entry for a story that does not exist: {item['SK']['S']}"
            assert item["SK"]["S"] == f"{stories[story_id]['published']}#{story_id}", "stale listing entry"
            listings.setdefault(item["PK"]["S"], []).append(story_id)
    claims = {i["article_id"]["S"] for i in items if i["PK"]["S"].startswith("GUID#")}
    assert claims <= set(stories), "a GUID claims a story that does not exist"
    return {
        "stories": sorted(stories),
        "events": _events(items),
        "copies": {k: sorted((c["source_id"], c["url"]) for c in v.get("copies", [])) for k, v in stories.items()},
        "listings": {k: sorted(v) for k, v in listings.items()},
        "guid_claims": len([i for i in items if i["PK"]["S"].startswith("GUID#")]),
    }


def _events(items: list[dict[str, Any]]) -> list[list[str]]:
    """The stories grouped by event (merges followed): whichever processor wrote first, racing
    reports of one event end in one event, and every story joined exactly one (issue 17)."""
    merged_into = {
        i["PK"]["S"][6:]: load_doc(i["doc"]).get("merged_into") for i in items if i["PK"]["S"].startswith("EVENT#")
    }

    def final(event_id: str) -> str:
        seen = set()
        while merged_into.get(event_id) and event_id not in seen:
            seen.add(event_id)
            event_id = merged_into[event_id]
        return event_id

    stories = {i["PK"]["S"][4:] for i in story_items(items)}
    joined = {i["PK"]["S"][4:]: i["event_id"]["S"] for i in items if i["SK"]["S"] == "EVENT" and "event_id" in i}
    assert set(joined) == stories, "every story joined exactly one event"
    groups: dict[str, list[str]] = {}
    for story, event_id in joined.items():
        assert event_id in merged_into, "a story names an event that does not exist"
        groups.setdefault(final(event_id), []).append(story)
    return sorted(sorted(g) for g in groups.values())


def test_same_batch_in_two_processors_at_once_is_stored_once(server_stack: ServerStack) -> None:
    s = server_stack
    bodies = sample_messages()
    modules = handlers()
    invoke(modules[0], sqs_event(_records(bodies, "clean"), s.resources.queue_arn), "ProcessArticlesFunction")
    clean = dump(s.dynamodb, s.resources.table_name)

    for round_no in range(ROUNDS):
        clear_table(s.dynamodb, s.resources.table_name)
        results: list[Any] = []

        def same_batch(module: ModuleType, tag: str, results: list[Any] = results) -> Any:
            def work() -> None:
                event = sqs_event(_records(bodies, tag), s.resources.queue_arn)
                results.append(invoke(module, event, "ProcessArticlesFunction"))

            return work

        run_together([same_batch(m, f"r{round_no}-t{n}") for n, m in enumerate(modules)])
        assert results == [{"batchItemFailures": []}] * THREADS
        state = dump(s.dynamodb, s.resources.table_name)
        assert state == clean, f"round {round_no}:\n{diff_dumps(clean, state)}"


def _records(bodies: list[str], tag: str) -> list[dict[str, Any]]:
    return [{"MessageId": f"{tag}-{i}", "ReceiptHandle": f"rh-{tag}-{i}", "Body": b} for i, b in enumerate(bodies)]

"""GET /sources: every known source (file and registry), paged by a signed cursor, with the
stories it contributed (counted from its listing) and its polling health, next poll included.

"Contributed" means the stories listed under the source (`/articles?source=<id>`): a story is
listed under the source it is credited to, so an aggregator's copy merged into a publisher's
story counts for the publisher, and a replayed entry (SQS redelivery, a re-fetch) rewrites the
same listing entry instead of adding one.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devtools.lambda_local import invoke, sqs_event
from newsroom.core.config import load_sources
from newsroom.core.models import Source, SourceRole, SourceState, parse_iso
from newsroom.sources.schedule import on_grid
from newsroom.wiring import clients as runtime

from .conftest import Stack
from .test_api_contract import conforms, problem

SAMPLE_IDS = {"blockledger", "cryptowire", "defiliban", "gone-gazette"}


def sources(stack: Stack, query: str = "") -> dict[str, dict[str, Any]]:
    doc = conforms(stack.get(f"/sources{query}"), "/sources")
    return {item["id"]: item for item in doc["items"]}


def counts(stack: Stack) -> dict[str, int]:
    return {sid: item["articles"] for sid, item in sources(stack).items()}


def stories(stack: Stack, query: str = "") -> list[dict[str, Any]]:
    doc = conforms(stack.get(f"/articles?limit=100{query}"), "/articles")
    assert doc["next_cursor"] is None
    return list(doc["items"])


def add_registry_source(source_id: str, **changes: Any) -> Source:
    """A source only the registry knows (as the admin command adds one)."""
    source = Source(
        id=source_id,
        name=source_id.title(),
        feed_url=f"http://127.0.0.1:9/{source_id}.xml",
        homepage=f"https://{source_id}.example",
        role=SourceRole.AGGREGATOR,
        **changes,
    )
    runtime.store().put_source(source)
    runtime.reset()  # a new store: the API's one-minute cache of known sources starts over
    return source


# --- articles contributed --------------------------------------------------------------------


def test_each_source_counts_the_stories_listed_under_it(loaded: Stack) -> None:
    found = counts(loaded)
    assert set(found) == SAMPLE_IDS
    everything = stories(loaded)
    for source_id, count in found.items():
        assert count == len(stories(loaded, f"&source={source_id}"))
        assert count == sum(1 for s in everything if s["source"]["id"] == source_id)
    assert sum(found.values()) == len(everything)
    assert found["blockledger"] > 0 and found["defiliban"] > 0  # two sources contributed
    assert found["gone-gazette"] == 0  # its feed is a 404


def test_a_copy_counts_for_the_story_it_joined(loaded: Stack) -> None:
    # The aggregator's copies of two publishers' stories join those stories: they are listed,
    # and counted, under the publishers; the aggregator counts only the story it carried alone.
    joined = []
    for summary in stories(loaded):
        article = json.loads(loaded.get(f"/articles/{summary['id']}")["body"])
        if any(copy["source_id"] == "cryptowire" for copy in article["copies"]):
            assert article["source"]["id"] != "cryptowire"
            joined.append(article["id"])
    assert joined
    listed = {s["id"] for s in stories(loaded, "&source=cryptowire")}
    assert not listed & set(joined)
    assert counts(loaded)["cryptowire"] == len(listed) == 1


def test_replayed_entries_do_not_change_the_counts(stack: Stack) -> None:
    assert stack.run_fetch()["entries"] > 0
    messages: list[dict[str, Any]] = []
    while True:  # every queued entry, kept on the queue's side of things so it can be sent twice
        batch = stack.sqs.receive_message(
            QueueUrl=stack.resources.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=600
        ).get("Messages", [])
        if not batch:
            break
        messages.extend(batch)
    assert len(messages) >= 5

    def deliver() -> None:
        for start in range(0, len(messages), 10):
            event = sqs_event(messages[start : start + 10], stack.resources.queue_arn)
            result = invoke(stack.process, event, "ProcessArticlesFunction")
            assert not (result or {}).get("batchItemFailures")

    deliver()
    first = counts(stack)
    assert sum(first.values()) > 0
    deliver()  # SQS redelivers the whole batch (at-least-once), or the DLQ is redriven
    deliver()
    assert counts(stack) == first
    assert sum(first.values()) == len(stories(stack))


# --- health and the next poll ----------------------------------------------------------------


def test_next_poll_follows_the_dispatchers_grid(stack: Stack) -> None:
    store = runtime.store()
    base = datetime.now(UTC).replace(microsecond=0)
    healthy = SourceState(
        "blockledger",
        last_attempt=base - timedelta(seconds=1000),
        last_success=base - timedelta(seconds=1000),
        last_status=200,
        next_poll=base - timedelta(seconds=1000),  # an unchanged poll since did not move it
        poll_interval_s=900,
    )
    scheduled = SourceState(
        "defiliban",
        last_success=base,
        last_status=200,
        next_poll=base + timedelta(seconds=300),
        poll_interval_s=900,
        entries_per_week=70.0,
    )
    failing = SourceState(
        "cryptowire",
        last_attempt=base - timedelta(minutes=30),
        last_error="http-503: HTTP 503",
        last_error_at=base - timedelta(minutes=30),
        last_status=503,
        consecutive_failures=2,
        next_poll=base - timedelta(seconds=60),  # its backoff is over: due at the next tick
        poll_interval_s=900,
    )
    gone = SourceState(
        "gone-gazette",
        last_error="http-410: Gone",
        last_error_at=base,
        last_status=410,
        consecutive_failures=1,
        disabled=True,
        disabled_reason="410 Gone",
        next_poll=base + timedelta(days=1),
    )
    for state in (healthy, scheduled, failing, gone):
        store.put_source_state(state)
    before = datetime.now(UTC).replace(microsecond=0)
    found = sources(stack)
    after = datetime.now(UTC)

    grid_point = parse_iso(found["blockledger"]["health"]["next_poll"])
    assert grid_point == base + timedelta(seconds=800)  # next_poll + 2 * 900 s, the first not past
    # The dispatcher's own rule agrees: that grid point is due in the tick window ending there,
    # and none was due between the response and it.
    no_slack = timedelta(0)
    assert on_grid(healthy, grid_point, grid_point - timedelta(seconds=1), slack=no_slack)
    assert not on_grid(healthy, grid_point - timedelta(seconds=1), before, slack=no_slack)
    assert found["blockledger"]["health"]["status"] == "ok"

    assert found["defiliban"]["health"]["next_poll"] == (base + timedelta(seconds=300)).strftime("%Y-%m-%dT%H:%M:%SZ")
    # The feed's rhythm (issue 18) is shown: why its interval is what it is; unknown before a parse.
    assert found["defiliban"]["health"]["entries_per_week"] == 70.0
    assert found["blockledger"]["health"]["entries_per_week"] is None

    wire = found["cryptowire"]["health"]
    assert before <= parse_iso(wire["next_poll"]) <= after
    assert wire["status"] == "failing" and wire["consecutive_failures"] == 2
    assert wire["last_error"] == "http-503: HTTP 503" and wire["last_status"] == 503 and wire["last_error_at"]

    dead = found["gone-gazette"]["health"]
    assert dead["next_poll"] is None and dead["status"] == "disabled" and dead["disabled_reason"] == "410 Gone"


def test_a_source_gone_for_an_old_url_is_polled_again(stack: Stack) -> None:
    store = runtime.store()
    store.put_source_state(
        SourceState("defiliban", disabled=True, disabled_reason="410 Gone", feed_url_for="http://old.example/feed")
    )
    before = datetime.now(UTC).replace(microsecond=0)
    health = sources(stack)["defiliban"]["health"]
    assert health["next_poll"] is not None and parse_iso(health["next_poll"]) >= before
    assert health["disabled_reason"] is None


def test_a_source_disabled_in_its_settings_is_never_polled(stack: Stack) -> None:
    (defiliban,) = (s for s in load_sources() if s.id == "defiliban")
    runtime.store().put_source(replace(defiliban, enabled=False))  # the registry wins over the file
    runtime.reset()
    item = sources(stack)["defiliban"]
    assert item["enabled"] is False
    assert item["health"]["status"] == "disabled" and item["health"]["next_poll"] is None
    assert item["health"]["disabled_reason"]


def test_sources_describe_kind_and_rights(stack: Stack) -> None:
    found = sources(stack)
    assert found["cryptowire"]["kind"] == found["cryptowire"]["role"] == "aggregator"
    assert found["cryptowire"]["rights"] == "excerpt" and found["blockledger"]["rights"] == "full"
    assert all(item["articles"] == 0 for item in found.values())
    never = found["blockledger"]["health"]
    assert never["status"] == "unknown" and never["next_poll"] is not None  # due at the first tick


# --- the registry ----------------------------------------------------------------------------


def test_registry_sources_are_listed_and_filterable(loaded: Stack) -> None:
    problem(loaded.get("/articles?source=newcomer"), 400)
    add_registry_source("newcomer")
    item = sources(loaded)["newcomer"]
    assert item["kind"] == "aggregator" and item["articles"] == 0 and item["health"]["status"] == "unknown"
    for path in ("/articles", "/feed.json"):
        resp = loaded.get(f"{path}?source=newcomer")
        assert resp["statusCode"] == 200, resp["body"]
    assert stories(loaded, "&source=newcomer") == []
    problem(loaded.get("/articles?source=nobody"), 400)


# --- paging ----------------------------------------------------------------------------------


def test_limit_one_walks_every_source_exactly_once(loaded: Stack) -> None:
    add_registry_source("zz-registry-only")
    add_registry_source("aa-registry-only")
    expected = sorted([*SAMPLE_IDS, "zz-registry-only", "aa-registry-only"])
    seen: list[str] = []
    path: str | None = "/sources?limit=1"
    while path:
        resp = loaded.get(path)
        doc = conforms(resp, "/sources")
        assert len(doc["items"]) == 1
        seen.extend(item["id"] for item in doc["items"])
        link = resp["headers"].get("Link")
        if doc["next_cursor"]:
            assert link == f'<{doc["next_url"]}>; rel="next"'
            assert "limit=1" in doc["next_url"] and doc["next_cursor"] in doc["next_url"]
            path = doc["next_url"].removeprefix("http://127.0.0.1:3000")
        else:
            assert link is None and doc["next_url"] is None
            path = None
    assert seen == expected
    whole = conforms(loaded.get("/sources"), "/sources")  # default 50: one page
    assert [item["id"] for item in whole["items"]] == expected and whole["next_cursor"] is None


def test_a_page_ends_where_the_sources_end(loaded: Stack) -> None:
    doc = conforms(loaded.get("/sources?limit=4"), "/sources")
    assert [item["id"] for item in doc["items"]] == sorted(SAMPLE_IDS)
    assert doc["next_cursor"] is None  # no empty last page


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "limit=", "cursor="])
def test_bad_paging_parameters_are_400(stack: Stack, query: str) -> None:
    problem(stack.get(f"/sources?{query}"), 400)


def test_a_bad_cursor_is_400(loaded: Stack) -> None:
    cursor = json.loads(loaded.get("/sources?limit=1")["body"])["next_cursor"]
    assert cursor
    tampered = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    articles_cursor = json.loads(loaded.get("/articles?limit=1")["body"])["next_cursor"]
    for bad in (tampered, "not-a-cursor", "é", articles_cursor):
        doc = problem(loaded.get(f"/sources?cursor={bad}"), 400)
        assert "cursor" in doc["detail"]
    # and the other way round: a /sources cursor is not an /articles cursor
    problem(loaded.get(f"/articles?cursor={cursor}"), 400)


def test_the_counts_agree_with_an_audit_of_the_listings(loaded: Stack) -> None:
    # The counts are kept by the story transactions; the audit counts each listing partition.
    store = runtime.store()
    found = counts(loaded)
    assert found == {source_id: store.count_source_articles(source_id) for source_id in found}


def test_a_story_from_a_registry_source_names_its_feed_in_rss_and_atom(loaded: Stack) -> None:
    """A source added by the admin command or an OPML import is credited in <source> like one
    from the sources file (RSS 2.0: the source's feed URL; RFC 4287 §4.2.11: its id and self link)."""
    source = add_registry_source("newcomer")
    store = runtime.store()
    article = store.get_articles([store.list_articles("all", limit=1, cursor=None).items[0].id])[0]
    newest = datetime.now(UTC).replace(microsecond=0)
    store.create_article(
        replace(
            article,
            id="f" * 20,
            canonical_url="https://newcomer.example/a-story",
            url="https://newcomer.example/a-story",
            source_id=source.id,
            source_name=source.name,
            attribution=None,
            copies=(),
            published=newest,
            updated=newest,
        ),
        guid=None,
    )
    rss = loaded.get("/feed.rss?source=newcomer")["body"]
    assert f'<source url="{source.feed_url}">{source.name}</source>' in rss
    atom = loaded.get("/feed.atom?source=newcomer")["body"]
    assert f"<id>{source.feed_url}</id>" in atom and f'rel="self" href="{source.feed_url}"' in atom


# --- WebSub push (issue 19) ------------------------------------------------------------------


def test_sources_show_each_sources_push_subscription(stack: Stack) -> None:
    from newsroom.store.subscriptions import Subscription

    now = datetime.now(UTC).replace(microsecond=0)
    sub = Subscription(
        "defiliban",
        "https://hub.example/",
        "https://defiliban.example/feed",
        "secret-token-never-shown",
        "active",
        now - timedelta(hours=1),
        864000,
        lease_expires=now + timedelta(days=9),
        verified_at=now - timedelta(hours=1),
        last_delivery=now - timedelta(minutes=5),
        deliveries=3,
        ignored_deliveries=1,
    )
    runtime.store().put_subscription(sub)
    runtime.store().put_hub_secret("defiliban", "the-hub-secret")
    response = stack.get("/sources")
    found = sources(stack)
    push = found["defiliban"]["push"]
    assert push["hub"] == "https://hub.example/" and push["state"] == "active" and push["pushed"] is True
    assert parse_iso(push["lease_expires"]) == sub.lease_expires
    assert parse_iso(push["last_delivery"]) == sub.last_delivery
    assert parse_iso(push["last_verification"]) == sub.verified_at
    assert (push["deliveries"], push["ignored_deliveries"]) == (3, 1)
    assert found["cryptowire"]["push"]["state"] == "none" and found["cryptowire"]["push"]["pushed"] is False
    text = json.dumps(response)
    assert "secret-token-never-shown" not in text and "the-hub-secret" not in text

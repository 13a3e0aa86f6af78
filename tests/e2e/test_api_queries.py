"""DynamoDB calls per request, counted at the storage layer: one Query per page (+ one BatchGetItem
for a feed's bodies), never a Scan or a FilterExpression; and pages that DynamoDB cuts short (its
1 MB limit) continue correctly."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import pytest

from newsroom.wiring import clients as runtime

from .conftest import Stack
from .test_api_contract import body_of


class CountingClient:
    """A boto3 DynamoDB client that counts its calls and can make Query stop early.

    `query_page` caps each Query's Limit, which makes DynamoDB return fewer items than asked
    plus a LastEvaluatedKey: exactly what it does when a page reaches 1 MB.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: Counter[str] = Counter()
        self.queries: list[dict[str, Any]] = []
        self.query_page: int | None = None
        self._lock = threading.Lock()  # /sources counts from a few threads at once

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name.startswith("_") or name in ("exceptions", "meta") or not callable(attr):
            return attr

        def call(**kwargs: Any) -> Any:
            with self._lock:
                self.calls[name] += 1
                if name == "query":
                    self.queries.append(kwargs)
                if self.query_page is not None and kwargs.get("Limit", 0) > self.query_page:
                    kwargs = {**kwargs, "Limit": self.query_page}
            return attr(**kwargs)

        return call


@pytest.fixture
def counted(loaded: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingClient]:
    client = CountingClient(runtime.dynamodb())

    # `runtime.reset()` (in the stack's teardown) calls cache_clear on what it finds here.
    @cache
    def counting_dynamodb() -> Any:
        return client

    monkeypatch.setattr(runtime, "dynamodb", counting_dynamodb)
    runtime.store.cache_clear()
    yield client
    runtime.store.cache_clear()


def _calls(client: CountingClient, request: Callable[[], Any]) -> dict[str, int]:
    client.calls.clear()
    client.queries.clear()
    request()
    return dict(client.calls)


@pytest.mark.parametrize(
    "query",
    ["", "?category=policy", "?coin=BTC", "?source=blockledger", "?since=2026-05-01", "?limit=2&category=markets"],
)
def test_a_list_page_is_one_query(loaded: Stack, counted: CountingClient, query: str) -> None:
    calls = _calls(counted, lambda: loaded.get(f"/articles{query}"))
    assert calls == {"query": 1}
    (sent,) = counted.queries
    assert "FilterExpression" not in sent and "IndexName" not in sent
    assert sent["KeyConditionExpression"].startswith("PK = :pk")
    if "since" in query:
        assert sent["KeyConditionExpression"] == "PK = :pk AND SK >= :since"


@pytest.mark.parametrize("path", ["/feed.json", "/feed.rss?coin=SOL", "/feed.atom?since=2026-05-01"])
def test_a_feed_page_is_one_query_and_one_batch_get(loaded: Stack, counted: CountingClient, path: str) -> None:
    assert _calls(counted, lambda: loaded.get(path)) == {"query": 1, "batch_get_item": 1}
    assert "FilterExpression" not in counted.queries[0]


def test_an_empty_feed_page_skips_the_batch_get(loaded: Stack, counted: CountingClient) -> None:
    assert _calls(counted, lambda: loaded.get("/feed.json?since=2999-01-01")) == {"query": 1}


@pytest.mark.parametrize("query", ["", "?order=top", "?order=latest&limit=3", "?limit=100"])
def test_an_event_page_is_one_query(loaded: Stack, counted: CountingClient, query: str) -> None:
    """The listing entries hold what a page shows (the first members, whole counts): one Query."""
    assert _calls(counted, lambda: loaded.get(f"/events{query}")) == {"query": 1}
    (sent,) = counted.queries
    assert "FilterExpression" not in sent and "IndexName" not in sent
    assert sent["ExpressionAttributeValues"][":pk"]["S"] in ("EVLIST#top", "EVLIST#latest")


def test_an_event_and_an_article_with_its_event_cost_a_fixed_number_of_calls(
    loaded: Stack, counted: CountingClient
) -> None:
    article_id = json.loads(loaded.get("/articles?limit=1")["body"])["items"][0]["id"]
    event_id = json.loads(loaded.get(f"/articles/{article_id}")["body"])["event"]["id"]
    assert _calls(counted, lambda: loaded.get(f"/events/{event_id}")) == {"batch_get_item": 1}
    assert _calls(counted, lambda: loaded.get("/events/ffffffffffffffffffff")) == {"batch_get_item": 1}
    # The story and its event item (one Query of the story's partition), then its event (one
    # BatchGetItem; merges would add a hop each).
    assert _calls(counted, lambda: loaded.get(f"/articles/{article_id}")) == {"query": 1, "batch_get_item": 1}


@pytest.mark.parametrize("path", ["/feed.json?collapse=event", "/feed.atom?collapse=event&limit=100"])
def test_a_collapsed_feed_page_adds_two_batch_gets(loaded: Stack, counted: CountingClient, path: str) -> None:
    """The stories' event ids and their events: two more calls, whatever the page holds."""
    assert _calls(counted, lambda: loaded.get(path)) == {"query": 1, "batch_get_item": 3}


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/articles/ffffffffffffffffffff", {"query": 1}), ("/prices", {"query": 1}), ("/health", {})],
)
def test_other_routes_cost_one_call_or_none(
    loaded: Stack, counted: CountingClient, path: str, expected: dict[str, int]
) -> None:
    assert _calls(counted, lambda: loaded.get(path)) == expected


@pytest.mark.parametrize(("query", "page"), [("", 4), ("?limit=3", 3), ("?limit=1", 1)])
def test_sources_is_two_batch_gets_whatever_the_story_counts(
    loaded: Stack, counted: CountingClient, query: str, page: int
) -> None:
    # The first request also reads the registry (one Query), cached for a minute after that.
    first = _calls(counted, lambda: loaded.get(f"/sources{query}"))
    assert first == {"batch_get_item": 2, "query": 1}
    assert _calls(counted, lambda: loaded.get(f"/sources{query}")) == {"batch_get_item": 2}
    ids = [s["id"] for s in json.loads(loaded.get(f"/sources{query}")["body"])["items"]]
    assert len(ids) == page


def test_nothing_scans(loaded: Stack, counted: CountingClient) -> None:
    article_id = json.loads(loaded.get("/articles?limit=1")["body"])["items"][0]["id"]
    event_id = json.loads(loaded.get("/events?limit=1")["body"])["items"][0]["id"]
    paths = (
        "/",
        "/articles",
        f"/articles/{article_id}",
        "/events",
        "/events?order=latest",
        f"/events/{event_id}",
        "/feed.json?collapse=event",
        "/feed.json",
        "/feed.rss",
        "/feed.atom",
        "/prices",
        "/sources",
    )
    for path in paths:
        loaded.get(path)
    loaded.get("/sources")
    assert "scan" not in counted.calls


@pytest.mark.parametrize("path", ["/articles", "/feed.json"])
def test_pages_cut_short_by_dynamodb_continue_where_they_stopped(
    loaded: Stack, counted: CountingClient, path: str
) -> None:
    expected = [a["id"] for a in json.loads(loaded.get("/articles?limit=100")["body"])["items"]]
    counted.query_page = 2  # every Query stops after 2 items, as at 1 MB, though 4 were asked
    seen: list[str] = []
    url = f"{path}?limit=4"
    pages = 0
    while url:
        counted.calls.clear()
        doc = json.loads(body_of(loaded.get(url)))
        assert counted.calls["query"] == 1  # a short page is served as it is, not topped up
        pages += 1
        assert len(doc["items"]) <= 2
        seen.extend(item["id"] for item in doc["items"])
        next_url = doc.get("next_url")
        url = next_url.removeprefix("http://127.0.0.1:3000") if next_url else ""
        if next_url:
            assert "limit=4" in next_url  # the client's page size is kept, not DynamoDB's cut
    assert seen == expected
    # Each Query reads 2 items of `LIST#all`, tombstones included (a replace that moved a story
    # leaves one, `store.stories`; whether this run's arrival order made one varies), so a page
    # shows 2 or fewer; real DynamoDB may end with an empty page, moto does not.
    raw = loaded.dynamodb.query(
        TableName=loaded.resources.table_name,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "LIST#all"}},
        Select="COUNT",
    )["Count"]
    assert len(expected) >= 5 and raw >= len(expected)
    assert pages in (-(-raw // 2), -(-raw // 2) + 1)

"""Fetch → queue → process → store → serve, through the four real handlers against moto."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest

from devtools.lambda_local import invoke, load_event, sqs_event
from devtools.stack import DynamoDBFactory, moto_dynamodb
from newsroom.core.codec import entry_from_message, entry_to_message
from newsroom.core.config import load_sources
from newsroom.wiring import clients as runtime

from .conftest import Stack


@pytest.fixture
def stack_dynamodb() -> DynamoDBFactory:
    """moto itself, not the memory client:
    the whole pipeline from template.yaml runs once on moto as deployed code would meet it."""
    return moto_dynamodb


SEED_STANDFIRST = (
    "Hong Kong is accelerating its push to become a regulated digital asset hub, expanding across "
    "tokenization, crypto investment products, and blockchain infrastructure in a coordinated effort to"
)
SEED_TITLE = "Hong Kong Expands Digital Asset Ecosystem With Tokenization and Crypto Infrastructure"


def body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def all_articles(stack: Stack) -> list[dict[str, Any]]:
    resp = stack.get("/articles?limit=100")
    assert resp["statusCode"] == 200
    return body(resp)["items"]


def by_title(stack: Stack, title: str) -> dict[str, Any]:
    matches = [a for a in all_articles(stack) if a["title"] == title]
    assert len(matches) == 1, f"expected one story titled {title!r}, got {len(matches)}"
    return body(stack.get(f"/articles/{matches[0]['id']}"))


def test_one_story_per_story_with_originals_credited(loaded: Stack) -> None:
    titles = [a["title"] for a in all_articles(loaded)]
    # 8 entries in the samples: two are syndicated copies, so six stories.
    assert sorted(titles) == sorted(
        [
            SEED_TITLE,
            "Aave Governance Approves New Risk Parameters for Stablecoin Markets",
            "Solana Validators Ship Firedancer Client to Mainnet",
            "Exchange Hot Wallet Drained of $40 Million in Suspected Exploit",
            "BNB Chain Developer Fund Backs 12 Startups in New Funding Round",
            "Dogecoin Jumps 5% as Meme Coins Lead Weekend Rebound",
        ]
    )
    solana = by_title(loaded, "Solana Validators Ship Firedancer Client to Mainnet")
    assert solana["source"]["id"] == "blockledger"
    assert solana["credit"]["line"] == "Read original article on blockledger.example"
    assert [c["source_id"] for c in solana["copies"]] == ["cryptowire"]
    assert "appeared first on" not in solana["content_html"]


def test_seed_story_carries_every_field_of_the_reference_page(loaded: Stack) -> None:
    seed = by_title(loaded, SEED_TITLE)
    assert seed["category"] == "Policy"
    assert seed["word_count"] == 566
    assert seed["reading_minutes"] == 4
    assert seed["reading_time"] == "4 min read"
    assert seed["standfirst"] == SEED_STANDFIRST
    assert seed["author"] == "Anonymous"
    assert seed["desk"] == "CryptoCompass newsroom"
    assert seed["published"] == "2026-05-31T08:30:00Z"
    assert seed["published_display"] == "May 31, 2026"
    assert seed["kind_label"] == "NEWS"
    assert seed["image"]["is_default"] is True
    assert seed["image"]["caption"] == "CryptoCompass editorial visual for policy coverage."
    assert seed["image"]["url"].startswith("https://")
    assert seed["credit"]["line"] == "Read original article on defiliban.io"
    assert seed["credit"]["url"] == "https://defiliban.io/hong-kong-expands-digital-asset-ecosystem-tokenization/"
    assert seed["source"]["id"] == "defiliban"
    assert [c["source_id"] for c in seed["copies"]] == ["cryptowire"]
    assert "Read original article" not in seed["content_html"]
    assert "<h2>Tokenization as the Foundation of Hong Kong" in seed["content_html"]


def test_failing_source_is_recorded_and_others_still_fetched(stack: Stack) -> None:
    summary = stack.run_fetch()
    assert summary == {"sources": 4, "ok": 3, "not_modified": 0, "failed": 1, "entries": 8}
    states = runtime.store().get_source_states([s.id for s in load_sources()])
    assert states["gone-gazette"].consecutive_failures == 1
    assert "http-404" in (states["gone-gazette"].last_error or "")
    assert states["defiliban"].etag and states["defiliban"].last_error is None
    assert stack.queued() == 8


def test_second_round_is_conditional_and_costs_nothing(loaded: Stack) -> None:
    before = all_articles(loaded)
    again = loaded.run_fetch()
    assert again["not_modified"] == 3
    assert again["entries"] == 0
    assert loaded.queued() == 0
    assert all_articles(loaded) == before


def test_same_entry_twice_leaves_one_unchanged_story(loaded: Stack) -> None:
    before = all_articles(loaded)
    # Re-queue every entry again, as an at-least-once delivery would.
    summary = loaded.run_fetch()
    assert summary["entries"] == 0  # 304s: re-send the entries by hand instead
    loaded.samples.stop()
    seed_entry = _sample_entry(loaded, "defiliban", SEED_TITLE)
    event = sqs_event(
        [
            {"MessageId": "m1", "ReceiptHandle": "r1", "Body": seed_entry},
            {"MessageId": "m2", "ReceiptHandle": "r2", "Body": seed_entry},
        ],
        loaded.resources.queue_arn,
    )
    result = invoke(loaded.process, event, "ProcessArticlesFunction")
    assert result == {"batchItemFailures": []}
    assert all_articles(loaded) == before


def test_correction_updates_in_place_without_moving_the_story(loaded: Stack) -> None:
    original = entry_from_message(
        _sample_entry(loaded, "blockledger", "BNB Chain Developer Fund Backs 12 Startups in New Funding Round")
    )
    from dataclasses import replace

    corrected = replace(
        original,
        content_html=original.content_html.replace("12 early-stage", "14 early-stage"),
        title="BNB Chain Developer Fund Backs 14 Startups in New Funding Round",
    )
    order_before = [a["id"] for a in all_articles(loaded)]
    event = sqs_event(
        [{"MessageId": "c1", "ReceiptHandle": "r", "Body": entry_to_message(corrected)}],
        loaded.resources.queue_arn,
    )
    assert invoke(loaded.process, event, "ProcessArticlesFunction") == {"batchItemFailures": []}
    after = all_articles(loaded)
    assert [a["id"] for a in after] == order_before
    story = body(loaded.get(f"/articles/{order_before[[a['title'] for a in after].index(corrected.title)]}"))
    assert "14 early-stage" in story["content_text"]
    assert story["updated"] > story["published"] or story["updated"] >= "2026"
    assert len(after) == len(order_before)


def test_poison_message_fails_alone(stack: Stack) -> None:
    good = _sample_entry(stack, "cryptowire", "Dogecoin Jumps 5% as Meme Coins Lead Weekend Rebound")
    event = sqs_event(
        [
            {"MessageId": "good", "ReceiptHandle": "r1", "Body": good},
            {"MessageId": "poison", "ReceiptHandle": "r2", "Body": "{not json"},
            {
                "MessageId": "unknown-source",
                "ReceiptHandle": "r3",
                "Body": good.replace('"cryptowire"', '"nobody"'),
            },
        ],
        stack.resources.queue_arn,
    )
    result = invoke(stack.process, event, "ProcessArticlesFunction")
    assert sorted(f["itemIdentifier"] for f in result["batchItemFailures"]) == ["poison", "unknown-source"]
    assert [a["title"] for a in all_articles(stack)] == ["Dogecoin Jumps 5% as Meme Coins Lead Weekend Rebound"]


def _sample_entry(stack: Stack, source_id: str, title: str) -> str:
    """The queue message the fetcher produces for one sample entry."""
    from datetime import UTC, datetime

    from newsroom.fetch.feeds import parse_feed

    source = next(s for s in load_sources() if s.id == source_id)
    name = source.feed_url.rsplit("/", 1)[1]
    from devtools.sample_server import SAMPLES

    parsed = parse_feed(
        (SAMPLES / "feeds" / name).read_bytes(),
        source_id=source_id,
        base_url=source.feed_url,
        fetched_at=datetime(2026, 5, 31, 10, tzinfo=UTC),
    )
    entry = next(e for e in parsed.entries if e.title == title)
    return entry_to_message(entry)


@pytest.mark.parametrize("path", ["/articles", "/feed.json", "/feed.rss", "/feed.atom", "/prices"])
def test_every_route_answers_with_etag_and_cache_headers(loaded: Stack, path: str) -> None:
    resp = loaded.get(path)
    assert resp["statusCode"] == 200
    headers = resp["headers"]
    assert headers["ETag"].startswith('"')
    assert "max-age" in headers["Cache-Control"]
    again = loaded.get(path, {"If-None-Match": headers["ETag"]})
    assert again["statusCode"] == 304
    assert again["body"] in ("", None)


def test_sample_sqs_event_stores_the_seed_story_once_crediting_its_original(stack: Stack) -> None:
    result = invoke(stack.process, load_event("process_articles_sqs"), "ProcessArticlesFunction")
    assert result == {"batchItemFailures": []}
    items = all_articles(stack)
    assert [a["title"] for a in items] == [SEED_TITLE]
    story = body(stack.get(f"/articles/{items[0]['id']}"))
    assert story["credit"]["line"] == "Read original article on defiliban.io"
    assert [c["source_name"] for c in story["copies"]] == ["Crypto Wire Daily"]


def test_excerpt_only_sources_are_shown_as_standfirst_and_link_everywhere(loaded: Stack) -> None:
    # Crypto Wire Daily grants `excerpt` rights in the samples; its own story's second paragraph
    # ("Bitcoin also edged higher…") must not be republished by any output.
    story = by_title(loaded, "Dogecoin Jumps 5% as Meme Coins Lead Weekend Rebound")
    assert story["excerpt_only"] is True
    assert story["content_html"] == f"<p>{story['standfirst']}</p>"
    assert "Bitcoin also edged higher" not in story["content_text"]
    for path in ("/feed.json", "/feed.rss", "/feed.atom", f"/articles/{story['id']}"):
        resp = loaded.get(path, {"Accept": "text/html"} if path.startswith("/articles/") else None)
        raw = resp["body"] or ""
        text = gzip.decompress(base64.b64decode(raw)).decode() if resp.get("isBase64Encoded") else raw
        assert "Bitcoin also edged higher" not in text, path
    page = loaded.get(f"/articles/{story['id']}", {"Accept": "text/html"})
    assert "Read the full article on cryptowire.example" in page["body"]
    seed = by_title(loaded, SEED_TITLE)
    assert seed["excerpt_only"] is False
    assert "HKMA" in seed["content_text"]

"""Every API output, checked against its format's requirements."""

from __future__ import annotations

import base64
import gzip
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import feedparser
import jsonschema
import pytest

from devtools.lambda_local import invoke, load_event
from newsroom.core.config import load_sources

from .conftest import Stack

SCHEMA = json.loads((Path(__file__).parent.parent / "schemas" / "jsonfeed-1.1.schema.json").read_text())
ATOM = "{http://www.w3.org/2005/Atom}"


def text_of(resp: dict[str, Any]) -> str:
    raw = resp["body"] or ""
    if resp.get("isBase64Encoded"):
        data = base64.b64decode(raw)
        return gzip.decompress(data).decode() if data[:2] == b"\x1f\x8b" else data.decode()
    return raw


def problem(resp: dict[str, Any], status: int) -> dict[str, Any]:
    assert resp["statusCode"] == status
    assert resp["headers"]["Content-Type"] == "application/problem+json"
    doc = json.loads(resp["body"])
    assert doc["status"] == status and doc["title"] and doc["detail"]
    return doc


def test_json_feed_validates_and_credits_originals(loaded: Stack) -> None:
    resp = loaded.get("/feed.json")
    assert resp["headers"]["Content-Type"] == "application/feed+json"
    feed = json.loads(text_of(resp))
    jsonschema.validate(feed, SCHEMA)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == "http://127.0.0.1:3000/feed.json"
    assert len(feed["items"]) == 6
    seed = next(i for i in feed["items"] if i["title"].startswith("Hong Kong Expands"))
    assert "Read original article on defiliban.io" in seed["content_html"]
    assert seed["_newsroom"]["category"] == "Policy"


def test_rss_has_required_elements_and_sources(loaded: Stack) -> None:
    resp = loaded.get("/feed.rss")
    xml = text_of(resp)
    channel = ET.fromstring(xml).find("channel")
    assert channel is not None
    for required in ("title", "link", "description"):
        assert channel.findtext(required)
    items = channel.findall("item")
    assert len(items) == 6
    for item in items:
        assert item.findtext("guid") and item.findtext("pubDate")
    parsed = feedparser.parse(xml)
    assert not parsed.bozo, parsed.get("bozo_exception")
    solana = next(e for e in parsed.entries if e.title.startswith("Solana Validators"))
    assert "Read original article on blockledger.example" in solana.content[0].value
    # The original, Block Ledger, is a registered source: <source url> is its feed (RSS 2.0).
    blockledger = next(s for s in load_sources() if s.id == "blockledger")
    assert solana.source.href == blockledger.feed_url
    assert solana.source.title == "Block Ledger"
    assert all(e.get("source", {}).get("href", "").endswith(".xml") for e in parsed.entries if "source" in e)


def test_atom_is_valid_and_uses_stable_ids(loaded: Stack) -> None:
    xml = text_of(loaded.get("/feed.atom"))
    root = ET.fromstring(xml)
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.findtext(f"{ATOM}{required}")
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 6
    assert all((e.findtext(f"{ATOM}id") or "").startswith("urn:newsroom:article:") for e in entries)
    again = ET.fromstring(text_of(loaded.get("/feed.atom")))
    assert [e.findtext(f"{ATOM}id") for e in again.findall(f"{ATOM}entry")] == [
        e.findtext(f"{ATOM}id") for e in entries
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "category=policy",
            {"Hong Kong Expands Digital Asset Ecosystem With Tokenization and Crypto Infrastructure"},
        ),
        ("category=Security", {"Exchange Hot Wallet Drained of $40 Million in Suspected Exploit"}),
        ("coin=SOL", {"Solana Validators Ship Firedancer Client to Mainnet"}),
        ("coin=doge", {"Dogecoin Jumps 5% as Meme Coins Lead Weekend Rebound"}),
        ("source=cryptowire", {"Dogecoin Jumps 5% as Meme Coins Lead Weekend Rebound"}),
    ],
)
def test_filters(loaded: Stack, query: str, expected: set[str]) -> None:
    resp = loaded.get(f"/articles?{query}")
    assert resp["statusCode"] == 200
    assert {a["title"] for a in json.loads(resp["body"])["items"]} == expected


def test_cursor_pages_through_everything_once_newest_first(loaded: Stack) -> None:
    seen: list[dict[str, Any]] = []
    path = "/articles?limit=4"
    while True:
        page = json.loads(loaded.get(path)["body"])
        seen.extend(page["items"])
        if not page["next_cursor"]:
            break
        path = f"/articles?limit=4&cursor={page['next_cursor']}"
    assert len(seen) == 6 == len({a["id"] for a in seen})
    published = [a["published"] for a in seen]
    assert published == sorted(published, reverse=True)


def test_feed_pages_link_to_the_next(loaded: Stack) -> None:
    resp = loaded.get("/feed.json?limit=2")
    feed = json.loads(text_of(resp))
    assert feed["next_url"].startswith("http://127.0.0.1:3000/feed.json?")
    assert 'rel="next"' in resp["headers"]["Link"]


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("/articles?limit=0", "limit"),
        ("/articles?limit=101", "limit"),
        ("/articles?limit=ten", "limit"),
        ("/articles?category=gossip", "category"),
        ("/articles?coin=%24%24%24", "coin"),
        ("/articles?source=nobody", "source"),
        ("/articles?category=policy&coin=BTC", "one filter"),
        ("/articles?cursor=not-a-cursor", "cursor"),
        ("/feed.rss?limit=-1", "limit"),
    ],
)
def test_bad_parameters_are_400_problems(loaded: Stack, path: str, fragment: str) -> None:
    assert fragment in problem(loaded.get(path), 400)["detail"]


def test_tampered_and_foreign_cursors_are_refused(loaded: Stack) -> None:
    cursor = json.loads(loaded.get("/articles?limit=1")["body"])["next_cursor"]
    flipped = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    assert "cursor" in problem(loaded.get(f"/articles?cursor={flipped}"), 400)["detail"]
    assert "different filter" in problem(loaded.get(f"/articles?category=policy&cursor={cursor}"), 400)["detail"]


def test_unknown_route_and_article_are_404_problems(loaded: Stack) -> None:
    problem(loaded.get("/nope"), 404)
    problem(loaded.get("/articles/ffffffffffffffffffff"), 404)
    problem(loaded.get("/articles/..%2Fetc"), 404)


def test_prices_display_the_reference_ticker(loaded: Stack) -> None:
    items = json.loads(loaded.get("/prices")["body"])["items"]
    assert [(i["pair"], i["display"]) for i in items] == [
        ("BTC/USD", "$68,420 +2.8%"),
        ("ETH/USD", "$3,540 +1.4%"),
        ("SOL/USD", "$142.80 -0.6%"),
        ("BNB/USD", "$605.20 +0.9%"),
        ("XRP/USD", "$0.62 -1.2%"),
        ("DOGE/USD", "$0.18 +5.4%"),
    ]
    assert all(i["stale"] is False and i["provider"] == "coingecko" for i in items)
    # Only the first provider was asked (it answered), and it says so.
    [provider] = json.loads(loaded.get("/prices")["body"])["providers"]
    assert provider["provider"] == "coingecko" and provider["status"] == "ok"
    assert provider["last_success"] == provider["last_attempt"] and provider["consecutive_failures"] == 0


def test_sample_api_events_run_through_the_handler(loaded: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    # As deployed on the execute-api domain: no PUBLIC_BASE_URL, so links come from the event's
    # requestContext (domainName and stage), which the sample events carry as API Gateway sends it.
    from newsroom.core.config import settings

    monkeypatch.delenv("PUBLIC_BASE_URL")
    settings.cache_clear()
    for name, status in [
        ("api_get_articles", 200),
        ("api_get_article", 404),
        ("api_get_feed_rss", 200),
        ("api_get_feed_json", 200),
        ("api_get_feed_atom", 200),
        ("api_get_prices", 200),
        ("api_bad_limit", 400),
    ]:
        resp = invoke(loaded.api, load_event(name), "ApiFunction")
        assert resp["statusCode"] == status, name
    rss = invoke(loaded.api, load_event("api_get_feed_rss"), "ApiFunction")
    assert "https://abc123.execute-api.us-east-1.amazonaws.com/v1/feed.rss" in text_of(rss)

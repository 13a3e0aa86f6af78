"""The served feeds carry what each spec requires, page correctly and change only with their stories.

`tests/unit/test_render.py` checks every element on hand-built articles; these tests check the
feeds as the API serves them over the sample stories: self and next links that match the
request, dates in each format's own syntax, and validators that only move when a story does.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from newsroom.core.config import load_sources
from newsroom.core.models import Source
from newsroom.serve.render import FeedMeta, render_atom, render_json_feed, render_rss
from tests.serve.test_render import plain_article, reference_article

from .conftest import Stack
from .test_api_contract import body_of

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "media": "http://search.yahoo.com/mrss/",
}
RFC822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}"
    r" \d{2}:\d{2}:\d{2} GMT$"
)
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
BASE = "http://127.0.0.1:3000"


def _articles(loaded: Stack, query: str = "") -> list[dict[str, Any]]:
    return list(json.loads(loaded.get(f"/articles?limit=100{query}")["body"])["items"])


def _rss(loaded: Stack, path: str) -> ET.Element:
    channel = ET.fromstring(body_of(loaded.get(path))).find("channel")
    assert channel is not None
    return channel


def test_rss_items_as_served(loaded: Stack) -> None:
    articles = {a["id"]: a for a in _articles(loaded)}
    channel = _rss(loaded, "/feed.rss?category=policy")
    self_link = channel.find("atom:link[@rel='self']", NS)
    assert self_link is not None
    assert self_link.get("href") == f"{BASE}/feed.rss?category=policy"
    assert self_link.get("type") == "application/rss+xml"
    assert RFC822.match(channel.findtext("lastBuildDate", ""))
    registered = {s.id: s for s in load_sources()}
    for item in channel.findall("item"):
        guid = item.find("guid")
        assert guid is not None and guid.get("isPermaLink") == "false"
        # isPermaLink="false" because the guid is our story id, not a URL a reader could open.
        article = articles[guid.text or ""]
        assert item.findtext("link") == article["url"]
        pub_date = item.findtext("pubDate", "")
        assert RFC822.match(pub_date), pub_date
        assert parsedate_to_datetime(pub_date).strftime("%Y-%m-%dT%H:%M:%SZ") == article["published"]
        assert [c.text for c in item.findall("category")] == [article["category"], *article["coins"]]
        # <source> is the credited registered source's feed (RSS 2.0: "the URL of the source's
        # XMLization"); an original that is no registered source has none.
        source = item.find("source")
        credited = registered.get(
            article["attribution"]["original_source_id"] if article["attribution"] else article["source"]["id"]
        )
        if credited is None:
            assert source is None
        else:
            assert source is not None and (source.get("url"), source.text) == (credited.feed_url, credited.name)
        media = item.find("media:content", NS)
        assert media is not None and media.get("url") == article["image"]["url"] and media.get("medium") == "image"
        assert article["credit"]["line"] in (item.findtext("content:encoded", namespaces=NS) or "")
    assert channel.findall("item")


def test_atom_entries_as_served(loaded: Stack) -> None:
    articles = {a["id"]: a for a in _articles(loaded)}
    root = ET.fromstring(body_of(loaded.get("/feed.atom?coin=BTC")))
    links = {link.get("rel"): link for link in root.findall("atom:link", NS)}
    assert links["self"].get("href") == f"{BASE}/feed.atom?coin=BTC"
    assert links["self"].get("type") == "application/atom+xml"
    assert links["alternate"].get("type") == "text/html" and links["alternate"].get("href")
    entries = root.findall("atom:entry", NS)
    assert entries
    registered = {s.id for s in load_sources()}
    updated = []
    for entry in entries:
        article = articles[(entry.findtext("atom:id", namespaces=NS) or "").rsplit(":", 1)[1]]
        alternate = entry.find("atom:link[@rel='alternate']", NS)
        assert alternate is not None and alternate.get("href") == article["url"]
        assert entry.findtext("atom:updated", namespaces=NS) == article["updated"]
        assert entry.findtext("atom:published", namespaces=NS) == article["published"]
        assert RFC3339.match(article["updated"])
        credited = article["attribution"]["original_source_id"] if article["attribution"] else article["source"]["id"]
        assert (entry.find("atom:source/atom:id", NS) is not None) == (credited in registered)
        media = entry.find("media:content", NS)
        assert media is not None and media.get("url") == article["image"]["url"]
        updated.append(article["updated"])
    assert root.findtext("atom:updated", namespaces=NS) == max(updated)


def test_json_feed_as_served(loaded: Stack) -> None:
    articles = {a["id"]: a for a in _articles(loaded)}
    resp = loaded.get("/feed.json?source=blockledger&limit=2")
    assert resp["headers"]["Content-Type"] == "application/feed+json"
    feed = json.loads(body_of(resp))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == f"{BASE}/feed.json?source=blockledger"
    assert feed["home_page_url"].startswith("https://")
    assert feed["authors"] and feed["authors"][0]["name"]
    assert feed["next_url"].startswith(f"{BASE}/feed.json?source=blockledger&limit=2&cursor=")
    for item in feed["items"]:
        article = articles[item["id"]]
        assert item["url"] == article["url"]
        assert item["image"] == article["image"]["url"]
        assert item["authors"] == [{"name": article["author"] or article["desk"]}]
        assert item["tags"] == [article["category"], *article["coins"]]
        assert item["date_published"] == article["published"] and item["date_modified"] == article["updated"]


@pytest.mark.parametrize("path", ["/feed.json", "/feed.rss", "/feed.atom"])
def test_each_feed_pages_through_every_story_once(loaded: Stack, path: str) -> None:
    expected = [a["id"] for a in _articles(loaded)]
    seen: list[str] = []
    url: str | None = f"{BASE}{path}?limit=2"
    while url:
        resp = loaded.get(url.removeprefix(BASE))
        text = body_of(resp)
        link = resp["headers"].get("Link")
        if path == "/feed.json":
            feed = json.loads(text)
            seen.extend(i["id"] for i in feed["items"])
            next_url = feed.get("next_url")
        elif path == "/feed.rss":
            channel = ET.fromstring(text).find("channel")
            assert channel is not None
            seen.extend(g.text or "" for g in channel.findall("item/guid"))
            nxt = channel.find("atom:link[@rel='next']", NS)
            next_url = nxt.get("href") if nxt is not None else None
        else:
            root = ET.fromstring(text)
            seen.extend((i.text or "").rsplit(":", 1)[1] for i in root.findall("atom:entry/atom:id", NS))
            nxt = root.find("atom:link[@rel='next']", NS)
            next_url = nxt.get("href") if nxt is not None else None
        # The document's next link and the Link header agree.
        assert link == (f'<{next_url}>; rel="next"' if next_url else None)
        url = next_url
    assert seen == expected


def test_feeds_do_not_change_while_their_stories_do_not(loaded: Stack) -> None:
    before = {p: loaded.get(p) for p in ("/feed.json", "/feed.rss", "/feed.atom")}
    loaded.run_fetch()  # every source answers 304 or the same entries: nothing to change
    loaded.drain()
    for path, first in before.items():
        again = loaded.get(path)
        assert again["body"] == first["body"], path
        assert again["headers"]["ETag"] == first["headers"]["ETag"]


def test_atom_updated_moves_only_with_the_edited_entry() -> None:
    meta = FeedMeta("CryptoCompass", "https://cryptocompass.example", "https://x.example/feed.atom", "d")
    a, b = reference_article(), plain_article()

    def updated(document: str) -> tuple[str | None, list[str | None]]:
        root = ET.fromstring(document)
        return root.findtext("atom:updated", namespaces=NS), [
            e.findtext("atom:updated", namespaces=NS) for e in root.findall("atom:entry", NS)
        ]

    feed_before, entries_before = updated(render_atom(meta, [a, b]))
    assert render_atom(meta, [a, b]) == render_atom(meta, [a, b])  # no clock in the document
    edited = replace(b, updated=a.updated + timedelta(hours=1), title="Corrected")
    feed_after, entries_after = updated(render_atom(meta, [a, edited]))
    assert entries_after[0] == entries_before[0]
    assert entries_after[1] != entries_before[1] and feed_after == entries_after[1] != feed_before


def test_attributed_items_name_their_original_in_every_format() -> None:
    meta = FeedMeta("CryptoCompass", "https://cryptocompass.example", "https://x.example/feed", "d")
    copy = reference_article()  # a copy crediting defiliban.io
    original_url = "https://defiliban.io/hong-kong-expands-digital-asset-ecosystem"
    item = json.loads(render_json_feed(meta, [copy]))["items"][0]
    assert item["external_url"] == original_url and item["url"] == copy.url
    schema = json.loads((Path(__file__).parent.parent / "schemas" / "jsonfeed-1.1.schema.json").read_text())
    jsonschema.validate(json.loads(render_json_feed(meta, [copy])), schema)
    # The original, defiliban.io, is no registered source: no feed is known, so no <source>; the
    # credit paragraph links the original in both XML formats.
    for document in (render_rss(meta, [copy]), render_atom(meta, [copy])):
        assert "<source" not in document
        assert f'<a href="{original_url}">Read original article on defiliban.io</a>' in html.unescape(document)
    registered = Source(id="defiliban", name="DeFi Liban", feed_url="https://defiliban.io/feed/")
    copy = replace(copy, attribution=replace(copy.attribution, original_source_id="defiliban"))
    meta = replace(meta, sources={"defiliban": registered})
    rss_source = ET.fromstring(render_rss(meta, [copy])).find("channel/item/source")
    assert rss_source is not None and (rss_source.get("url"), rss_source.text) == (registered.feed_url, "DeFi Liban")
    atom_source = ET.fromstring(render_atom(meta, [copy])).find("atom:entry/atom:source/atom:id", NS)
    assert atom_source is not None and atom_source.text == registered.feed_url

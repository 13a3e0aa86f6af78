"""Hub discovery (WebSub section 4): the subscriber checklist's discovery items (100 header, 101
HTML, 102 Atom, 103 RSS, 104 header priority) on crafted documents, the corpus feeds that
advertise a hub, and the refusals (CoinDesk's `href="true"`, relative junk, private addresses)."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsroom.fetch.contract import FetchPolicy
from newsroom.websub.discovery import discover, link_header_targets, vet_hub

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
FEED_URL = "https://news.example/feed"

ATOM = b"""<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>t</title>
  <link rel="hub" href="https://hub.example/"/>
  <link rel="self" href="https://news.example/atom"/>
  <entry><title>e</title><link rel="self" href="https://news.example/entry-self"/>
    <link rel="hub" href="https://entry-hub.example/"/></entry>
</feed>"""
RSS = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>t</title>
  <atom:link rel="hub" href="https://hub.example/rss"/>
  <atom:link rel="self" href="https://news.example/rss" type="application/rss+xml"/>
  <item><title>i</title><link>https://news.example/1</link></item>
</channel></rss>"""
HTML = b"""<!DOCTYPE html><html><head><title>t</title>
<link rel="hub" href="https://hub.example/html"><link rel="self" href="https://news.example/page">
</head><body><link rel="hub" href="https://body-hub.example/"></body></html>"""


def test_100_http_header_discovery() -> None:
    headers = {"Link": '<https://hub.example/h>; rel="hub", <https://news.example/topic>; rel="self"'}
    found = discover(b"<rss version='2.0'><channel/></rss>", headers, FEED_URL)
    assert found.hubs == ("https://hub.example/h",)
    assert found.topic == "https://news.example/topic"
    assert found.hubs_from == "header"


def test_101_html_discovery_reads_the_head_only() -> None:
    found = discover(HTML, {"content-type": "text/html"}, FEED_URL)
    assert found.hubs == ("https://hub.example/html",)
    assert found.topic == "https://news.example/page"


def test_102_atom_discovery_ignores_an_entrys_own_links() -> None:
    found = discover(ATOM, {}, FEED_URL)
    assert found.hubs == ("https://hub.example/",)
    assert found.topic == "https://news.example/atom"
    assert found.hubs_from == "body"


def test_103_rss_discovery_from_atom_link() -> None:
    found = discover(RSS, {"content-type": "application/rss+xml"}, FEED_URL)
    assert found.hubs == ("https://hub.example/rss",)
    assert found.topic == "https://news.example/rss"


def test_104_headers_take_priority_over_the_body() -> None:
    headers = {"link": '<https://header-hub.example/>; rel="hub", <https://news.example/h-self>; rel=self'}
    found = discover(ATOM, headers, FEED_URL)
    assert found.hubs == ("https://header-hub.example/",)
    assert found.topic == "https://news.example/h-self"
    # per relation: a header naming only a hub leaves the body's self in force
    only_hub = discover(ATOM, {"link": "<https://header-hub.example/>; rel=hub"}, FEED_URL)
    assert only_hub.topic == "https://news.example/atom"


def test_no_hub_means_not_pushed_and_the_fetched_url_is_the_topic() -> None:
    found = discover(b"<rss version='2.0'><channel><title>t</title></channel></rss>", {}, FEED_URL)
    assert not found.pushed
    assert found.topic == FEED_URL
    assert found.hubs_from is None


def test_link_header_forms() -> None:
    value = '<https://a.example/x,y>; rel="hub self" ; title="t", <https://b.example/>;REL=Hub, <https://c.example/>'
    assert link_header_targets(value) == [
        ("https://a.example/x,y", frozenset({"hub", "self"})),
        ("https://b.example/", frozenset({"hub"})),
    ]


@pytest.mark.parametrize(
    ("href", "reason"),
    [
        ("true", "relative"),
        ("/hub", "relative"),
        ("//hub.example/", "relative"),
        ("javascript:alert(1)", "bad-scheme"),
        ("ftp://hub.example/", "bad-scheme"),
        ("https://user:pw@hub.example/", "credentials"),
        ("https://hub.example/" + "a" * 3000, "too-long"),
    ],
)
def test_junk_hubs_are_refused_with_a_reason(href: str, reason: str) -> None:
    body = f'<feed xmlns="http://www.w3.org/2005/Atom"><link rel="hub" href="{href}"/></feed>'.encode()
    found = discover(body, {}, FEED_URL)
    assert found.hubs == ()
    assert [(r.rel, r.reason, r.where) for r in found.refused] == [("hub", reason, "body")]


def test_a_refused_header_hub_falls_back_to_the_body() -> None:
    found = discover(ATOM, {"link": "<true>; rel=hub"}, FEED_URL)
    assert found.hubs == ("https://hub.example/",)
    assert [r.reason for r in found.refused] == ["relative"]


def test_hubs_are_capped_and_deduplicated() -> None:
    links = "".join(f'<link rel="hub" href="https://hub{i % 5}.example/"/>' for i in range(10))
    found = discover(f'<feed xmlns="http://www.w3.org/2005/Atom">{links}</feed>'.encode(), {}, FEED_URL)
    assert found.hubs == ("https://hub0.example/", "https://hub1.example/", "https://hub2.example/")
    assert {r.reason for r in found.refused} == {"too-many-hubs"}


def test_hostile_xml_is_not_expanded_and_is_recorded() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><feed><link rel="hub" href="https://h.example/"/></feed>'
    found = discover(bomb, {}, FEED_URL)
    assert found.hubs == ()
    assert [r.reason for r in found.refused] == ["hostile-xml"]


def test_corpus_coindesk_true_hub_is_refused() -> None:
    body = (CORPUS / "crypto-2026-10-03" / "coindesk.xml").read_bytes()
    found = discover(body, {}, "https://www.coindesk.com/arc/outboundfeeds/rss/")
    assert found.hubs == ()
    assert [(r.href, r.reason) for r in found.refused] == [("true", "relative")]


def test_corpus_theblock_and_techcrunch_hubs() -> None:
    theblock = discover((CORPUS / "crypto-2026-10-03" / "theblock.xml").read_bytes(), {}, FEED_URL)
    assert theblock.hubs == ("https://pubsubhubbub.appspot.com/",)
    techcrunch = discover((CORPUS / "real-feeds" / "techcrunch-feedjira.xml").read_bytes(), {}, FEED_URL)
    assert techcrunch.hubs == ("http://pubsubhubbub.appspot.com/", "http://techcrunch.com/?pushpress=hub")
    assert techcrunch.topic == "http://feeds.feedburner.com/Techcrunch"


def test_vet_hub_applies_the_feed_address_rules() -> None:
    policy = FetchPolicy()
    assert vet_hub("https://hub.example/", policy, resolver=lambda host: ["93.184.216.34"]) is None
    assert vet_hub("https://hub.example/", policy, resolver=lambda host: ["10.0.0.5"]) == "blocked-address"
    assert vet_hub("http://169.254.169.254/latest", policy) == "blocked-address"
    assert vet_hub("http://127.0.0.1:8080/hub", FetchPolicy(allow_private=True)) is None


def test_every_corpus_document_is_read_without_raising() -> None:
    # lxml's recovering parser keeps undeclared prefixes in tag names (`itunes:subtitle`), which
    # once made discovery raise; every corpus file must give a result instead.
    pushed = 0
    for path in sorted(p for p in CORPUS.rglob("*") if p.is_file()):
        found = discover(path.read_bytes(), {}, FEED_URL)
        pushed += found.pushed
    assert pushed >= 5  # TheBlock (twice), TechCrunch, Medium's superfeedr and one more

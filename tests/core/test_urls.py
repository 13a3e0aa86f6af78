"""Canonical URLs, ids and site domains."""

from __future__ import annotations

import hashlib
from pathlib import Path

import feedparser
import pytest

from newsroom.core.urls import (
    TRACKING_PARAMETERS,
    article_id,
    canonical_url,
    is_http_url,
    resolve_aggregator_redirect,
    same_site,
    site_domain,
)

REAL_FEEDS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "real-feeds"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTPS://WWW.Example.COM/Path/To?x=1", "https://www.example.com/Path/To?x=1"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com:80/a", "https://example.com:80/a"),
        ("https://example.com/a#section-2", "https://example.com/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com?b=2", "https://example.com/?b=2"),
        ("  https://example.com/a \n", "https://example.com/a"),
        ("https://example.com./a", "https://example.com/a"),
        ("http://[2001:DB8::1]:8080/x", "http://[2001:db8::1]:8080/x"),
        ("https://example.com/a?", "https://example.com/a"),
    ],
)
def test_canonical_url_normalises_scheme_host_port_fragment_and_path(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


def test_canonical_url_drops_tracking_parameters_and_keeps_the_rest_in_order() -> None:
    raw = (
        "https://cointelegraph.com/news/x?utm_source=rss_feed&z=9&utm_medium=rss&a=1&fbclid=F"
        "&gclid=G&UTM_Campaign=c&m=%20q&mc_cid=1&mc_eid=2&igshid=i&ref_src=twsrc&_hsenc=h&_hsmi=m"
        "&yclid=y&spm=s&dclid=d&msclkid=k&b=&a=2"
    )
    assert canonical_url(raw) == "https://cointelegraph.com/news/x?z=9&a=1&m=%20q&b=&a=2"


def test_canonical_url_keeps_the_path_and_query_bytes_as_given() -> None:
    raw = "https://example.com/a%2Fb/C?q=hello+world&name=J%C3%BCrgen"
    assert canonical_url(raw) == raw


def test_every_listed_tracking_parameter_is_removed() -> None:
    for name in TRACKING_PARAMETERS:
        assert canonical_url(f"https://example.com/?keep=1&{name}=x") == "https://example.com/?keep=1"


def test_canonical_url_of_real_feed_links_drops_their_campaign_tags() -> None:
    parsed = feedparser.parse(REAL_FEEDS / "cointelegraph-skel-ext3.xml")
    links = [entry.link for entry in parsed.entries]
    assert links
    for link in links:
        canonical = canonical_url(link)
        assert "utm_" not in canonical
        assert canonical.startswith("https://cointelegraph.com/")
        assert canonical_url(canonical) == canonical  # idempotent


@pytest.mark.parametrize(
    "garbage",
    ["", "   ", "not a url", "mailto:someone@example.com", "http://", "http://[::1", "https://x.com:99999/"],
)
def test_canonical_url_returns_the_stripped_input_for_garbage(garbage: str) -> None:
    assert canonical_url(f" {garbage} ") == garbage.strip()


def test_article_id_is_the_first_20_hex_of_sha256() -> None:
    canonical = "https://example.com/a"
    identifier = article_id(canonical)
    assert identifier == hashlib.sha256(canonical.encode()).hexdigest()[:20]
    assert len(identifier) == 20
    assert article_id(canonical) == identifier
    assert article_id("https://example.com/b") != identifier


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.CoinDesk.com/x", "coindesk.com"),
        ("https://news.bbc.co.uk/a", "news.bbc.co.uk"),
        ("http://www.example.com:8080/", "example.com"),
        ("www.defiliban.io/article", "defiliban.io"),
        ("defiliban.io", "defiliban.io"),
        ("https://wwwexample.com/", "wwwexample.com"),
        ("", ""),
        ("http://[::1", ""),
    ],
)
def test_site_domain(url: str, expected: str) -> None:
    assert site_domain(url) == expected


def test_same_site_accepts_subdomains_only() -> None:
    assert same_site("feeds.jn.pt", "jn.pt")
    assert same_site("jn.pt", "jn.pt")
    assert not same_site("notjn.pt", "jn.pt")
    assert not same_site("", "")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a", True),
        ("HTTP://example.com", True),
        ("ftp://example.com/file", False),
        ("javascript:alert(1)", False),
        ("https:///path-only", False),
        ("/relative/path", False),
        ("http://[::1", False),
        ("", False),
    ],
)
def test_is_http_url(url: str, expected: bool) -> None:
    assert is_http_url(url) is expected


def test_resolve_google_redirect_from_a_real_google_alerts_feed() -> None:
    parsed = feedparser.parse(REAL_FEEDS / "google-alerts-feedjira.xml")
    link = parsed.entries[0].link
    assert link.startswith("https://www.google.com/url?")
    assert resolve_aggregator_redirect(link) == (
        "https://www.aglobalmarketresearch.com/report-offers-prediction-of-automotive-slack-market-by-"
        "top-key-players-like-haldex-meritor-bendix-mei-wabco-accuride-stemco-tbk-febi-aydinsan/"
    )
    for entry in parsed.entries:
        target = resolve_aggregator_redirect(entry.link)
        assert is_http_url(target)
        assert "google.com" not in site_domain(target)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.google.com/url?sa=t&url=https%3A%2F%2Fx.io%2Fy%3Fa%3D1", "https://x.io/y?a=1"),
        ("https://www.google.com/url?q=https://x.io/y&sa=U", "https://x.io/y"),
        ("https://google.co.uk/url?rct=j&amp;url=https://x.io/z&amp;ct=ga", "https://x.io/z"),
        ("https://www.google.com/url?url=javascript:alert(1)", "https://www.google.com/url?url=javascript:alert(1)"),
        ("https://www.google.com/search?q=https://x.io/y", "https://www.google.com/search?q=https://x.io/y"),
        ("https://evilgoogle.com/url?url=https://x.io/", "https://evilgoogle.com/url?url=https://x.io/"),
        ("https://example.com/url?url=https://x.io/", "https://example.com/url?url=https://x.io/"),
        ("not a url", "not a url"),
    ],
)
def test_resolve_aggregator_redirect(url: str, expected: str) -> None:
    assert resolve_aggregator_redirect(url) == expected

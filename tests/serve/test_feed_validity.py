"""The W3C Feed Validation Service's messages about source elements and HTML fields, derived
from the specs they enforce, one test per message.

The validator (feedvalidator, Python 2) is not installable here, so each check below restates
the rule it applies, with the spec it comes from and the validator's message text:

- RFC 4287 §4.2.11 (atom:source) and §4.1.1: a source carries the source feed's metadata;
  the validator checks it like a feed's head: "Missing source element: id|title|updated",
  and a `<link rel="self">` ("Missing atom:link with rel=\"self\"").
- RFC 4287 §4.2.6 (atom:id is an IRI, absolute) and §3.3 (dates are RFC 3339 date-times).
- RSS 2.0 `<source>`: "It has one required attribute, url, which links to the XMLization of
  the source" — "Missing source attribute: url", "source url must be a full URL" — and its
  value is the channel's name ("source should not be blank").
- The validator's security warnings on HTML fields: "description should not contain script
  tag", "description should not contain onerror attribute" (and the same for any `on*`).

Each check is shown to fire on a document that breaks its rule, so a check that cannot fail
fails here first; then our RSS and Atom output is shown not to produce the message, for an
item credited to a registered source, one credited to an unregistered original, and one whose
plain text reads like markup.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from newsroom.core.models import Article, Attribution
from newsroom.serve.formats.atom import render_atom
from newsroom.serve.formats.common import FeedMeta
from newsroom.serve.formats.rss import render_rss
from tests.serve.test_render import COINDESK, plain_article, reference_article

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _full_url(value: str | None) -> bool:
    if not value or value != value.strip():
        return False
    parts = urlsplit(value)
    return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme in ("urn", "tag", "mailto"))


def atom_messages(document: str) -> list[str]:
    """The validator's messages on every atom:source of an Atom document."""
    messages = []
    for source in ET.fromstring(document).iter(f"{ATOM}source"):
        for name in ("id", "title", "updated"):
            if source.find(f"{ATOM}{name}") is None:
                messages.append(f"Missing source element: {name}")
        if not any(link.get("rel") == "self" for link in source.findall(f"{ATOM}link")):
            messages.append('Missing atom:link with rel="self"')
        source_id = source.findtext(f"{ATOM}id")
        if source_id is not None and not _full_url(source_id):
            messages.append("id must be a full and valid URL")
        updated = source.findtext(f"{ATOM}updated")
        if updated is not None:
            try:
                valid = bool(RFC3339.match(updated)) and bool(datetime.fromisoformat(updated.replace("Z", "+00:00")))
            except ValueError:
                valid = False
            if not valid:
                messages.append("updated must be an RFC-3339 date-time")
        for link in source.findall(f"{ATOM}link"):
            if not _full_url(link.get("href")):
                messages.append("link href must be a full URL")
    return messages


class _Risks(HTMLParser):
    def __init__(self, element: str) -> None:
        super().__init__(convert_charrefs=True)
        self.element = element
        self.messages: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "meta", "applet"):
            self.messages.append(f"{self.element} should not contain {tag} tag")
        for name, _ in attrs:
            if name.startswith("on"):
                self.messages.append(f"{self.element} should not contain {name} attribute")


def rss_messages(document: str) -> list[str]:
    """The validator's messages on every item's `<source>` and HTML fields of an RSS document."""
    messages = []
    for item in ET.fromstring(document).iter("item"):
        for source in item.findall("source"):
            if source.get("url") is None:
                messages.append("Missing source attribute: url")
            elif not _full_url(source.get("url")) or urlsplit(source.get("url") or "").scheme not in ("http", "https"):
                messages.append("source url must be a full URL")
            if not (source.text or "").strip():
                messages.append("source should not be blank")
        for field in ("description", "{http://purl.org/rss/1.0/modules/content/}encoded"):
            for element in item.findall(field):
                risks = _Risks(field.rsplit("}", 1)[-1])
                risks.feed(element.text or "")
                risks.close()
                messages.extend(risks.messages)
    return messages


# -- documents that break each rule: every check can fire ------------------------------------

ATOM_HEAD = (
    '<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:f</id><title>t</title><updated>2026-01-01T00:00:00Z</updated>'
)
GOOD_SOURCE = {
    "id": "<id>https://ex.example/feed</id>",
    "title": "<title>Ex</title>",
    "updated": "<updated>2026-01-01T00:00:00Z</updated>",
    "self": '<link rel="self" href="https://ex.example/feed"/>',
}


def _atom_with_source(**parts: str) -> str:
    fields = {**GOOD_SOURCE, **parts}
    return f"{ATOM_HEAD}<entry><source>{''.join(fields.values())}</source></entry></feed>"


def _rss_item(inner: str) -> str:
    return f'<rss version="2.0"><channel><title>t</title><item><title>i</title>{inner}</item></channel></rss>'


BROKEN = {
    "Missing source element: id": _atom_with_source(id=""),
    "Missing source element: title": _atom_with_source(title=""),
    "Missing source element: updated": _atom_with_source(updated=""),
    'Missing atom:link with rel="self"': _atom_with_source(self='<link rel="alternate" href="https://ex.example/"/>'),
    "id must be a full and valid URL": _atom_with_source(id="<id>ex.example/feed</id>"),
    "updated must be an RFC-3339 date-time": _atom_with_source(updated="<updated>Sat, 30 May 2026</updated>"),
    "link href must be a full URL": _atom_with_source(self='<link rel="self" href="/feed"/>'),
    "Missing source attribute: url": _rss_item("<source>Ex</source>"),
    "source url must be a full URL": _rss_item('<source url="/feed.xml">Ex</source>'),
    "source should not be blank": _rss_item('<source url="https://ex.example/feed"> </source>'),
    "description should not contain script tag": _rss_item("<description>&lt;script&gt;x&lt;/script&gt;</description>"),
    "description should not contain onerror attribute": _rss_item(
        "<description>&lt;img src=x onerror=alert(1)&gt;</description>"
    ),
}


def _messages(document: str) -> list[str]:
    return atom_messages(document) if ET.fromstring(document).tag == f"{ATOM}feed" else rss_messages(document)


# -- our output --------------------------------------------------------------------------------

META = FeedMeta(
    title="CryptoCompass",
    home_page_url="https://cryptocompass.example/",
    feed_url="https://cryptocompass.example/feed",
    description="d",
    sources={"coindesk": COINDESK},
)


def _our_articles() -> list[Article]:
    registered = plain_article()  # its own source, CoinDesk, is registered
    unregistered = reference_article()  # credited to defiliban.io, no registered source
    copy_of_registered = replace(
        reference_article(),
        id="copyofcoindesk",
        attribution=Attribution(
            original_url="https://www.coindesk.com/a", original_domain="coindesk.com", original_source_id="coindesk"
        ),
    )
    markup_text = replace(
        plain_article(),
        id="markuptext",
        standfirst="<script>alert(1)</script> <img src=x onerror=alert(1)> ]]> &lt;b&gt;",
        excerpt_only=True,
    )
    return [registered, unregistered, copy_of_registered, markup_text]


@pytest.mark.parametrize("message", sorted(BROKEN))
def test_validator_message_is_not_produced_by_our_feeds(message: str) -> None:
    assert message in _messages(BROKEN[message]), f"the check for {message!r} cannot fire"
    for render in (render_rss, render_atom):
        document = render(META, _our_articles())
        assert message not in _messages(document), render.__name__


def test_source_elements_describe_the_registered_feed_or_are_absent() -> None:
    articles = _our_articles()
    rss_items = ET.fromstring(render_rss(META, articles)).findall("channel/item")
    atom_entries = ET.fromstring(render_atom(META, articles)).findall(f"{ATOM}entry")
    expected = [COINDESK.feed_url, None, COINDESK.feed_url, COINDESK.feed_url]
    assert [(i.find("source").get("url") if i.find("source") is not None else None) for i in rss_items] == expected
    assert [e.findtext(f"{ATOM}source/{ATOM}id") for e in atom_entries] == expected
    # Unregistered original: the credit link stays in the body.
    assert "https://defiliban.io/hong-kong-expands-digital-asset-ecosystem" in (
        rss_items[1].findtext("{http://purl.org/rss/1.0/modules/content/}encoded") or ""
    )


@pytest.mark.parametrize(
    "feed_url",
    [
        "https://user:pass@paid.example/feed.xml",
        "https://paid.example/feed.xml?apikey=s3cret",
        "https://paid.example/rss?access_token=s3cret&format=rss",
        "https://paid.example/rss?sig=abc",
        "ftp://paid.example/feed.xml",
    ],
)
def test_a_feed_url_carrying_credentials_is_never_published(feed_url: str) -> None:
    """Some paid feeds authenticate in the URL; `/sources` never shows feed URLs, and the source
    elements must not either: such a source is treated as one with no publishable feed."""
    meta = replace(META, sources={"coindesk": replace(COINDESK, feed_url=feed_url)})
    for render in (render_rss, render_atom):
        document = render(meta, [plain_article()])
        assert "s3cret" not in document and "pass@" not in document and "<source" not in document


def test_a_feed_url_with_an_ordinary_query_is_published() -> None:
    feed_url = "https://news.example/rss?author=jane&category=markets&format=rss2"
    meta = replace(META, sources={"coindesk": replace(COINDESK, feed_url=feed_url)})
    item = ET.fromstring(render_rss(meta, [plain_article()])).find("channel/item/source")
    assert item is not None and item.get("url") == feed_url

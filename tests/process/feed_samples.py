"""The real feeds the classification tests read, and their summaries as plain text."""

from __future__ import annotations

import functools
import html
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devtools.golden import Document
    from newsroom.core.models import RawEntry

REAL_FEEDS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "real-feeds"
CRYPTO_FEEDS = (
    "coindesk-skel-ext3.xml",
    "cointelegraph-skel-ext3.xml",
    "decrypt-skel-ext3.xml",
    "theblock-skel-ext3.xml",
    "hodlhodl-medium-RSParser.xml",
)
_TAG = re.compile(r"<[^>]+>")


def plain(fragment: str) -> str:
    return html.unescape(_TAG.sub(" ", fragment))


@functools.cache
def parsed_documents() -> tuple[tuple[Document, tuple[RawEntry, ...]], ...]:
    """Every document of the golden record (the corpus and the samples) that parses, with its
    entries, parsed once per process: the exactness tests' inputs."""
    from devtools import golden
    from newsroom.fetch.feeds import FeedParseError, parse_feed

    parsed: list[tuple[Document, tuple[RawEntry, ...]]] = []
    for document in golden.documents():
        try:
            feed = parse_feed(document.body, source_id="t", base_url=document.source.feed_url, fetched_at=golden.CLOCK)
        except FeedParseError:
            continue
        parsed.append((document, tuple(feed.entries)))
    return tuple(parsed)

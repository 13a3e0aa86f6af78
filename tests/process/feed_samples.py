"""The real feeds the classification tests read, and their summaries as plain text."""

from __future__ import annotations

import html
import re
from pathlib import Path

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

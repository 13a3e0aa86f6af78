"""The synthetic feeds `make bench` processes: frozen here, so every run reads the same bytes.

Feeds of 50 items with about 3 KB of article HTML each (paragraphs, links with tracking
parameters, an image, a list, a quote; one item in five ends with a syndication footer), from a
seeded generator: changing anything below changes every figure measured on them.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

from newsroom.core.models import Source, SourceRole
from newsroom.process.build import ProcessingContext

ITEMS_PER_FEED = 50
FEEDS = 12
WORDS = (  # noqa: SIM905 - a paragraph of words reads better than a 90-item list
    "bitcoin ether solana market traders exchange regulators approval token fund price rally launch "
    "network wallet stablecoin lending protocol custody bank charter report analysts quarter billion "
    "million investors shares futures volume liquidity security breach upgrade validators developers "
    "chain payments firm policy court ruling filing treasury reserve issuer yields demand supply the "
    "of and to in a that for is on with as was at by from said will has have its it be are this"
).split()
FOOTERS = (
    '<p>The post <a href="https://orig.example/{n}">{title}</a> appeared first on <a href="https://orig.example">Orig</a>.</p>',
    '<p><em>Read original article on <a href="https://orig.example/{n}">orig.example</a></em></p>',
)


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(10, 22))]
    return " ".join(words).capitalize() + "."


def _article_html(rng: random.Random, n: int, title: str, chars: int = 2_700) -> str:
    parts: list[str] = []
    while sum(len(p) for p in parts) < chars:
        kind = rng.random()
        if kind < 0.1:
            parts.append(
                f'<figure><img src="https://img.example/{n}/{len(parts)}.jpg" alt="chart" width="800" height="450">'
                "<figcaption>Source: CoinGecko data</figcaption></figure>"
            )
        elif kind < 0.2:
            parts.append("<ul>" + "".join(f"<li>{_sentence(rng)}</li>" for _ in range(3)) + "</ul>")
        elif kind < 0.27:
            parts.append(f"<blockquote><p>{_sentence(rng)}</p></blockquote>")
        else:
            href = f"https://news.example/{rng.randint(1, 10**6)}?utm_source=rss&amp;utm_medium=feed"
            link = f'<a href="{href}">{rng.choice(WORDS)}</a>'
            parts.append(f'<p class="body">{_sentence(rng)} {_sentence(rng)} {link} {_sentence(rng)}</p>')
    if n % 5 == 0:
        parts.append(FOOTERS[n % 2].format(n=n, title=escape(title)))
    return "\n".join(parts)


def synthetic_feed(seed: int, count: int = ITEMS_PER_FEED, article_chars: int = 2_700) -> bytes:
    rng = random.Random(seed)  # noqa: S311 - seeded, reproducible data, not security
    start = datetime(2026, 5, 1, tzinfo=UTC)
    items = []
    for i in range(count):
        n = seed * 1000 + i
        title = " ".join(rng.choice(WORDS) for _ in range(8)).title()
        body = _article_html(rng, n, title, article_chars)
        items.append(
            f"<item><title>{escape(title)}</title>"
            f"<link>https://site{seed}.example/news/{n}?utm_source=rss&amp;utm_campaign=feed</link>"
            f'<guid isPermaLink="false">site{seed}-{n}</guid>'
            f"<pubDate>{format_datetime(start + timedelta(minutes=37 * i))}</pubDate>"
            f"<dc:creator>Reporter {i % 7}</dc:creator>"
            f"<category>{rng.choice(['Markets', 'Policy', 'DeFi', 'Business'])}</category>"
            f"<description>{escape(_sentence(rng))}</description>"
            f"<content:encoded><![CDATA[{body}]]></content:encoded></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>Site {seed}</title><link>https://site{seed}.example/</link><description>News</description>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def context(seeds: range) -> ProcessingContext:
    sources = (
        *(
            Source(
                id=f"site{s}",
                name=f"Site {s}",
                feed_url=f"https://site{s}.example/feed",
                homepage=f"https://site{s}.example",
            )
            for s in seeds
        ),
        Source(id="orig", name="Orig", feed_url="https://orig.example/feed", homepage="https://orig.example"),
        Source(id="agg", name="Agg", feed_url="https://agg.example/feed", role=SourceRole.AGGREGATOR),
    )
    return ProcessingContext.build(
        sources,
        site_name="CryptoCompass",
        desk_name="CryptoCompass newsroom",
        editorial_image_base_url="https://cdn.example/editorial",
        max_body_bytes=180_000,
        now=datetime(2026, 6, 1, tzinfo=UTC),
    )

"""Dedupe and attribution, measured: quality on the real-feed evaluation set, and DynamoDB cost.

Part 1 — quality. Every pair of `benchmarks/eval/pairs.tsv` (built by `scripts/build_eval_set.py`)
is regenerated from ../shared/corpus/real-feeds, and both entries go through the real `ingest`
(build_article, fingerprint lookup, verification, merge, transactions) against moto, each pair in
a fresh table, in the labelled arrival order. A pair is "merged" when the second entry joins the
first one's story. Printed per class and overall, for the development and the frozen test part:
precision, recall (false merges for the negative classes) and the correct-original rate, each with
a 95 % Wilson interval, beside a URL/GUID-only baseline (same canonical URL or same source+GUID,
what Miniflux does).

Part 2 — cost. A table is seeded with 1,000 / 10,000 / 100,000 stored stories' fingerprint items
(written straight into moto's backend, so 100k takes seconds) plus the probe's neighbours, then a
probe of a few dozen articles is ingested. Every DynamoDB call is counted at the client, and
capacity units are computed from the item sizes by DynamoDB's rules (moto does not report real
consumed capacity): reads 4 KB units (strongly consistent 1, transactional 2), writes 1 KB units
(transactional 2), BatchGetItem per item, Query per 4 KB of data read.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import random
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import boto3
from moto import mock_aws

from benchmarks.event_metrics import wilson
from devtools.counting import item_size
from devtools.template import create_table
from newsroom.core.models import FingerprintClaims, RawEntry, Source, SourceRole
from newsroom.core.reading import html_to_text
from newsroom.core.urls import canonical_url, site_domain
from newsroom.fetch.feeds import parse_feed
from newsroom.process.build import Outcome, ProcessingContext
from newsroom.process.ingest import ingest
from newsroom.store.dynamo import DynamoStore

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / ".." / "shared" / "corpus" / "real-feeds"
sys.path.insert(0, str(ROOT / "scripts"))

AGGREGATOR = Source(
    id="aggwire",
    name="AggWire",
    feed_url="https://aggwire.example/feed",
    homepage="https://aggwire.example",
    role=SourceRole.AGGREGATOR,
)
REPUBLISHER = Source(
    id="republisher",
    name="Daily Republisher",
    feed_url="https://republisher.example/feed",
    homepage="https://republisher.example",
    role=SourceRole.ORIGINAL,
)
BOILERPLATE = (
    "<p>Sign up for our free daily newsletter to get the top crypto stories, market data and expert "
    "analysis delivered to your inbox every morning before the markets open. Unsubscribe at any time.</p>",
    "<p>Disclaimer: This article is for informational purposes only and does not constitute investment, "
    "financial or trading advice. Crypto assets are volatile; always do your own research before investing.</p>",
    "<p>Follow us on X, Telegram and LinkedIn for breaking news, live market updates and exclusive interviews "
    "with the people building the future of finance. Join thousands of readers today.</p>",
)
TEMPLATES = (
    "Bitcoin price today: BTC is trading at ${p}, {d} {c}% over the past 24 hours, while ether changed {e}% "
    "to ${q}. Trading volume across major exchanges reached ${v} billion. The total crypto market "
    "capitalization stands at ${m} trillion. Here is what traders are watching today.",
    "Good morning. Here's what's happening in crypto markets on {day}: bitcoin {d} {c}% to ${p}, ether "
    "moved {e}% to ${q}, and the market's total value is ${m} trillion with ${v} billion traded. Read on "
    "for the day's top stories and the events to watch.",
    "Daily market wrap for {day}. BTC closed at ${p} ({d} {c}%), ETH at ${q} ({e}%). Liquidations totaled "
    "${v} million over 24 hours as open interest shifted. Total market capitalization: ${m} trillion. "
    "Top gainers and losers follow below, with our analysts' notes.",
    "Crypto ETF flows for {day}: spot bitcoin funds saw ${v} million of net flows as BTC traded near ${p}, "
    "{d} {c}% on the day. Ether funds recorded ${q} million while ETH moved {e}%. The combined market "
    "capitalization is ${m} trillion according to our data desk.",
    "Weekly DeFi update, {day}: total value locked stands at ${v} billion, {d} {c}% on the week. Lending "
    "protocols hold ${p} million and decentralized exchanges processed ${q} million. Ether moved {e}% and "
    "the market capitalization is ${m} trillion. Highlights below.",
)


# --- regenerating the pairs from the corpus ------------------------------------------------------


@dataclass
class Corpus:
    entries: dict[str, RawEntry] = field(default_factory=dict)  # by link
    sources: dict[str, Source] = field(default_factory=dict)  # by feed stem

    @classmethod
    def load(cls) -> Corpus:
        corpus = cls()
        fetched = datetime(2026, 1, 1, tzinfo=UTC)
        for path in sorted(CORPUS.glob("*.xml")):
            parsed = parse_feed(
                path.read_bytes(), source_id=path.stem, base_url="https://corpus.invalid/", fetched_at=fetched
            )
            first = parsed.entries[0].link if parsed.entries else "https://corpus.invalid/"
            host = urlsplit(first)
            corpus.sources[path.stem] = Source(
                id=path.stem,
                name=parsed.title or path.stem,
                feed_url=f"{host.scheme}://{host.netloc}/feed",
                homepage=f"{host.scheme}://{host.netloc}",
                role=SourceRole.ORIGINAL,
            )
            for entry in parsed.entries:
                corpus.entries.setdefault(entry.link, entry)
        return corpus

    def all_sources(self) -> tuple[Source, ...]:
        return (*self.sources.values(), AGGREGATOR, REPUBLISHER)


def _body(entry: RawEntry) -> str:
    return max(entry.content_html, entry.summary_html, key=len)


def _domain(entry: RawEntry) -> str:
    return site_domain(entry.link)


def _slug(entry: RawEntry, pair: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", entry.title.lower())[:60].strip("-") + f"-{pair}"


def _light_edit(html: str, seed: str) -> str:
    """Change about one word in twenty, as a copy editor would (deterministic per pair)."""
    rng = random.Random(seed)  # noqa: S311 - seeded, reproducible data, not security
    swaps = {"said": "stated", "the": "this", "and": "as well as", "will": "would", "is": "was", "a": "one"}

    def edit(match: re.Match[str]) -> str:
        word = match.group()
        if rng.random() < 0.05:
            return swaps.get(word.lower(), word.upper() + "s")
        return word

    parts = re.split(r"(<[^>]*>)", html)
    return "".join(p if p.startswith("<") else re.sub(r"[A-Za-z]+", edit, p) for p in parts)


def _excerpt(html: str) -> str:
    """The first 40 % of the text (at least 30 words), as a teaser paragraph with a link."""
    words = html_to_text(html).split()
    keep = max(30, int(len(words) * 0.4))
    return f"<p>{escape(' '.join(words[:keep]))} […]</p>"


@dataclass(frozen=True)
class Pair:
    row: dict[str, str]
    first: RawEntry
    second: RawEntry
    original_link: str | None  # which entry is the original, for positives


def _marker_copy(cls: str, a: RawEntry, a_source: Source, pair: str, fetched: datetime) -> RawEntry:
    body, link = _body(a), f"https://aggwire.example/news/{_slug(a, pair)}"
    domain, name, url = _domain(a), a_source.name, a.link
    copy = replace(
        a,
        source_id="aggwire",
        guid=f"aggwire-{pair}",
        link=link,
        content_html=body,
        summary_html="",
        published=(a.published or fetched) + timedelta(hours=2),
        fetched_at=fetched,
        orig_link=None,
        declared_source_url=None,
        declared_source_name=None,
    )
    footers = {
        "read-original": f'<p><em>Read original article on <a href="{escape(url)}">{domain}</a></em></p>',
        "appeared-first": f'<p>The post <a href="{escape(url)}">{escape(a.title)}</a> appeared first on '
        f'<a href="https://{domain}">{escape(name)}</a>.</p>',
        "originally-published": "<p>This article was originally published on "
        f'<a href="{escape(url)}">{escape(name)}</a>.</p>',
        "republished": f'<p>Republished with permission from <a href="{escape(url)}">{domain}</a>.</p>',
        "source-line": f"<p>Source: {domain}</p>",
        "via": f'<p>(via <a href="{escape(url)}">{escape(name)}</a>)</p>',
    }
    if cls in footers:
        return replace(copy, content_html=body + footers[cls])
    if cls == "canonical-link":
        return replace(copy, content_html=f'<link rel="canonical" href="{escape(url)}">' + body)
    if cls == "syndication-meta":
        return replace(copy, content_html=f'<meta name="syndication-source" content="{escape(url)}">' + body)
    if cls == "google-news-source":
        return replace(
            copy,
            title=f"{a.title} - {name}",
            link=f"https://news.google.com/rss/articles/{hashlib.sha256(url.encode()).hexdigest()[:40]}",
            declared_source_url=a_source.homepage,
            declared_source_name=name,
        )
    if cls == "atom-source":
        return replace(copy, declared_source_url=a_source.homepage + "/", declared_source_name=name)
    if cls == "dc-source":
        return replace(copy, declared_source_url=url)
    if cls == "feedburner-origlink":
        return replace(copy, orig_link=url)
    if cls == "aggregator-redirect":
        return replace(copy, link=f"https://www.google.com/url?rct=j&sa=t&url={quote(url, safe='')}&ct=ga")
    raise ValueError(cls)


def _unmarked_copy(cls: str, a: RawEntry, copier: Source, pair: str, fetched: datetime) -> RawEntry:
    body = _body(a)
    copy = replace(
        a,
        source_id=copier.id,
        guid=f"{copier.id}-{pair}",
        link=f"{copier.homepage}/{_slug(a, pair)}",
        content_html=body,
        summary_html="",
        published=(a.published or fetched) + timedelta(hours=3),
        fetched_at=fetched,
        orig_link=None,
        declared_source_url=None,
        declared_source_name=None,
    )
    if cls == "retitled":
        headline = f"{a.title} | {copier.name}" if int(pair[1:]) % 2 else f"What to know: {a.title.lower()}"
        return replace(copy, title=headline)
    if cls == "excerpt":
        return replace(copy, content_html=_excerpt(body))
    if cls == "light-edit":
        return replace(copy, content_html=_light_edit(body, pair))
    if cls == "tracking-url":
        joiner = "&" if "?" in a.link else "?"
        return replace(copy, link=f"{a.link}{joiner}utm_source={copier.id}&utm_medium=rss&fbclid=IwAR{pair}")
    if cls == "extra-footer":
        return replace(copy, content_html=body + BOILERPLATE[int(pair[1:]) % 3])
    raise ValueError(cls)


def _templated(a: RawEntry, ref: str, pair: str) -> tuple[RawEntry, RawEntry]:
    template_no, day_no = (int(part) for part in re.findall(r"\d+", ref)[:2])
    rng = random.Random(pair)  # noqa: S311 - seeded, reproducible data, not security
    base = (a.published or datetime(2025, 12, 12, tzinfo=UTC)).replace(hour=6, minute=0, second=0)

    def post(day: int) -> RawEntry:
        moment = base + timedelta(days=day)
        values = {
            "p": f"{rng.randint(60_000, 110_000):,}",
            "q": f"{rng.randint(2_000, 4_500):,}",
            "c": f"{rng.uniform(0.1, 6):.1f}",
            "e": f"{rng.uniform(-5, 5):.1f}",
            "v": f"{rng.randint(20, 900)}",
            "m": f"{rng.uniform(2.5, 4.2):.2f}",
            "d": rng.choice(["up", "down"]),
            "day": f"{moment:%B %d, %Y}",
        }
        text = TEMPLATES[template_no].format(**values)
        return replace(
            a,
            guid=f"{a.source_id}-daily-{pair}-{day}",
            link=f"https://{_domain(a)}/markets/daily-{template_no}-{moment:%Y-%m-%d}",
            title=f"Crypto markets today, {moment:%B %d}",
            content_html=f"<p>{escape(text)}</p>",
            summary_html="",
            published=moment,
        )

    return post(day_no % 7), post(day_no % 7 + 1)


def build_pair(row: dict[str, str], corpus: Corpus) -> Pair:
    a = corpus.entries[row["a_ref"]]
    # Undated items (UOL's Portuguese dates) get one, so the copies' later dates stay in the past.
    published = a.published or datetime(2025, 12, 12, tzinfo=UTC)
    fetched = published + timedelta(hours=6)
    a = replace(a, published=published, fetched_at=fetched)
    cls, pair = row["cls"], row["pair"]
    if row["group"] == "marker":
        b = _marker_copy(cls, a, corpus.sources[a.source_id], pair, fetched)
    elif row["group"] == "unmarked":
        copier = AGGREGATOR if row["b_feed"] == "aggwire" else REPUBLISHER
        b = _unmarked_copy(cls, a, copier, pair, fetched)
    elif cls == "templated-daily":
        a, b = _templated(a, row["b_ref"], pair)
    elif cls == "shared-boilerplate":
        link, _, variant = row["b_ref"].partition("#boilerplate")
        plate = BOILERPLATE[int(variant)]
        b = replace(corpus.entries[link], fetched_at=fetched)
        a = replace(a, content_html=_body(a) + plate, summary_html="")
        b = replace(b, content_html=_body(b) + plate, summary_html="")
    else:
        b = replace(corpus.entries[row["b_ref"]], fetched_at=fetched)
    original = a.link if row["expect_dup"] == "1" else None
    # Move the pair to yesterday, keeping its own time differences: stories older than the
    # store's retention (a year, by the real clock) would read as expired.
    shift = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1) - published
    a, b = (_shifted(e, shift) for e in (a, b))
    first, second = (b, a) if row["copy_first"] == "1" else (a, b)
    return Pair(row, first, second, original)


def _shifted(entry: RawEntry, shift: timedelta) -> RawEntry:
    return replace(
        entry,
        published=entry.published + shift if entry.published else None,
        updated=entry.updated + shift if entry.updated else None,
        fetched_at=entry.fetched_at + shift,
    )


# --- running a pair through the pipeline ----------------------------------------------------------


@dataclass(frozen=True)
class Result:
    merged: bool
    correct_original: bool | None
    baseline_merged: bool


def baseline(first: RawEntry, second: RawEntry) -> bool:
    """URL/GUID-only dedupe: the same canonical link, or the same GUID from the same source."""
    if canonical_url(first.link) == canonical_url(second.link):
        return True
    return bool(first.guid) and first.source_id == second.source_id and first.guid == second.guid


def run_pair(pair: Pair, client: Any, table: str, ctx_for: Callable[[datetime], ProcessingContext]) -> Result:
    create_table(client, table)
    try:
        store = DynamoStore(client, table, b"bench")
        latest = max(pair.first.fetched_at, pair.second.fetched_at)
        ctx = ctx_for(latest)
        one = ingest(pair.first, store, ctx)
        two = ingest(pair.second, store, ctx)
        merged = two.outcome is not Outcome.CREATED and two.article.id == one.article.id
        correct = None
        if merged and pair.original_link is not None:
            stored = store.get_article(one.article.id)
            correct = stored is not None and canonical_url(stored.article.url) == canonical_url(pair.original_link)
        return Result(merged, correct, baseline(pair.first, pair.second))
    finally:
        client.delete_table(TableName=table)


def _fmt(successes: int, total: int) -> str:
    if total == 0:
        return f"{'—':>21}"
    p, low, high = wilson(successes, total)
    return f"{p:>6.3f} [{low:.3f}–{high:.3f}]".rjust(21)


def quality(corpus: Corpus, rows: list[dict[str, str]], splits: tuple[str, ...]) -> None:
    sources = corpus.all_sources()

    def ctx_for(now: datetime) -> ProcessingContext:
        return ProcessingContext.build(
            sources,
            site_name="CryptoCompass",
            desk_name="CryptoCompass newsroom",
            editorial_image_base_url="https://cdn.example/editorial",
            max_body_bytes=180_000,
            now=now,
        )

    results: dict[str, list[tuple[dict[str, str], Result]]] = defaultdict(list)
    started = time.perf_counter()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        for n, row in enumerate(rows):
            result = run_pair(build_pair(row, corpus), client, f"eval{n}", ctx_for)
            results[row["split"]].append((row, result))
    elapsed = time.perf_counter() - started
    print(f"{len(rows)} labelled pairs through ingest against moto in {elapsed:.0f} s")
    for split in splits:
        _report(split, results[split])


def _report(split: str, results: list[tuple[dict[str, str], Result]]) -> None:
    title = "development part (tuned on)" if split == "dev" else "TEST part (frozen before tuning, never tuned on)"
    print(f"\n{title}: {len(results)} pairs")
    print(
        f"{'class':<30}{'n':>4}  {'recall / false merges':>21}  {'correct original':>21}  "
        f"{'baseline recall / f.m.':>22}"
    )
    by_class: dict[tuple[str, str], list[tuple[dict[str, str], Result]]] = defaultdict(list)
    for row, result in results:
        by_class[(row["group"], row["cls"])].append((row, result))
    for (group, cls), items in sorted(by_class.items()):
        n = len(items)
        merged = sum(r.merged for _, r in items)
        base = sum(r.baseline_merged for _, r in items)
        correct = [r.correct_original for _, r in items if r.correct_original is not None]
        label = f"{group}/{cls}"
        print(f"{label:<30}{n:>4}  {_fmt(merged, n)}  {_fmt(sum(correct), len(correct))}  {_fmt(base, n):>22}")
    positives = [(row, r) for row, r in results if row["expect_dup"] == "1"]
    negatives = [(row, r) for row, r in results if row["expect_dup"] == "0"]
    tp = sum(r.merged for _, r in positives)
    fp = sum(r.merged for _, r in negatives)
    btp = sum(r.baseline_merged for _, r in positives)
    bfp = sum(r.baseline_merged for _, r in negatives)
    correct = [r.correct_original for _, r in positives if r.correct_original is not None]
    print(f"{'overall':<30}{'':>4}  {'ours':>21}  {'':>21}  {'URL/GUID baseline':>22}")
    print(f"{'  precision':<34}{_fmt(tp, tp + fp)}  {'':>21}  {_fmt(btp, btp + bfp):>22}")
    print(f"{'  recall':<34}{_fmt(tp, len(positives))}  {'':>21}  {_fmt(btp, len(positives)):>22}")
    print(f"{'  correct original':<34}{_fmt(sum(correct), len(correct))}")
    print(f"{'  false merges (negatives)':<34}{_fmt(fp, len(negatives))}  {'':>21}  {_fmt(bfp, len(negatives)):>22}")


# --- cost at 1k / 10k / 100k stored stories ------------------------------------------------------------


class CountingClient:
    """Wraps a boto3 DynamoDB client: counts calls and the capacity units they would consume."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.exceptions = client.exceptions
        self.calls: Counter[str] = Counter()
        self.read_units = 0.0
        self.write_units = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_item(self, **kwargs: Any) -> Any:
        self.calls["GetItem"] += 1
        resp = self._client.get_item(**kwargs)
        size = item_size(resp["Item"]) if resp.get("Item") else 0
        self.read_units += max(1, math.ceil(size / 4096)) * (1 if kwargs.get("ConsistentRead") else 0.5)
        return resp

    def batch_get_item(self, **kwargs: Any) -> Any:
        self.calls["BatchGetItem"] += 1
        resp = self._client.batch_get_item(**kwargs)
        for table, items in resp.get("Responses", {}).items():
            consistent = kwargs["RequestItems"].get(table, {}).get("ConsistentRead", False)
            for item in items:
                self.read_units += math.ceil(item_size(item) / 4096) * (1 if consistent else 0.5)
        # A key that is not found still costs the minimum read.
        requested = sum(len(spec["Keys"]) for spec in kwargs["RequestItems"].values())
        returned = sum(len(items) for items in resp.get("Responses", {}).values())
        self.read_units += (requested - returned) * 0.5
        return resp

    def query(self, **kwargs: Any) -> Any:
        self.calls["Query"] += 1
        resp = self._client.query(**kwargs)
        size = sum(item_size(item) for item in resp.get("Items", []))
        self.read_units += max(1, math.ceil(size / 4096)) * (1 if kwargs.get("ConsistentRead") else 0.5)
        return resp

    def put_item(self, **kwargs: Any) -> Any:
        self.calls["PutItem"] += 1
        self.write_units += math.ceil(item_size(kwargs["Item"]) / 1024)
        return self._client.put_item(**kwargs)

    def transact_write_items(self, **kwargs: Any) -> Any:
        self.calls["TransactWriteItems"] += 1
        for action in kwargs["TransactItems"]:
            ((_, spec),) = action.items()
            size = item_size(spec["Item"]) if "Item" in spec else item_size(spec.get("Key", {}))
            self.write_units += 2 * max(1, math.ceil(size / 1024))
        return self._client.transact_write_items(**kwargs)


def _seed_fingerprints(table: str, count: int, now: datetime) -> None:
    """`count` stored stories' fingerprint claims, written directly into moto's backend."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    claims = FingerprintClaims((), now)
    rng = random.Random(count)  # noqa: S311 - seeded, reproducible data, not security
    for n in range(count):
        story = f"{n:020x}"
        for _ in range(6):
            backend.put_item(
                table,
                {
                    "PK": {"S": f"FP#m#{rng.getrandbits(64):016x}"},
                    "SK": {"S": "FP"},
                    "story_id": {"S": story},
                    "expires_at": {"N": str(claims.expires_at)},
                },
            )


@contextlib.contextmanager
def _without_moto_transaction_snapshots() -> Iterator[None]:
    """moto deep-copies the whole table for every item of every transaction (its rollback), which
    at 600,000 items takes seconds per call. The cost probe runs one writer with no conflicts (it
    asserts so), so no rollback is ever needed: the snapshot is skipped while it runs."""
    import moto.dynamodb.models as models

    real_copy = models.copy

    class _NoTableCopy:
        @staticmethod
        def deepcopy(value: Any) -> Any:
            return value if isinstance(value, models.Table) else real_copy.deepcopy(value)

    models.copy = _NoTableCopy  # type: ignore[assignment]
    try:
        yield
    finally:
        models.copy = real_copy


def cost(corpus: Corpus) -> None:
    sources = corpus.all_sources()
    probe_base = [e for e in corpus.entries.values() if len(html_to_text(_body(e)).split()) >= 40]
    probe_base = [e for e in probe_base if e.source_id not in ("google-alerts-feedjira",)][:24]
    print(f"\nDynamoDB per processed article (probe: {len(probe_base)} originals + {len(probe_base)} unmarked copies)")
    print(
        f"{'stored stories':>15}{'index items':>12}{'calls/article':>15}{'RCU/article':>13}{'WCU/article':>13}"
        "  calls by kind"
    )
    now = datetime.now(UTC).replace(microsecond=0)
    for stored in (1_000, 10_000, 100_000):
        with mock_aws(), _without_moto_transaction_snapshots():
            raw = boto3.client("dynamodb", region_name="us-east-1")
            create_table(raw, "cost")
            seeding = time.perf_counter()
            _seed_fingerprints("cost", stored, now)
            seeded_in = time.perf_counter() - seeding
            client = CountingClient(raw)
            store = DynamoStore(client, "cost", b"bench")
            ctx = ProcessingContext.build(
                sources,
                site_name="CryptoCompass",
                desk_name="CryptoCompass newsroom",
                editorial_image_base_url="https://cdn.example/editorial",
                max_body_bytes=180_000,
                now=now,
            )
            processed = 0
            for n, entry in enumerate(probe_base):
                original = replace(entry, published=now - timedelta(hours=2), fetched_at=now)
                copy = _unmarked_copy("extra-footer", original, AGGREGATOR, f"c{n:04d}", now)
                outcomes = [ingest(item, store, ctx).outcome for item in (original, copy)]
                # The probe writes without races, so no transaction may fail (see the snapshot patch).
                assert outcomes[0] is Outcome.CREATED and outcomes[1] is not Outcome.CREATED, outcomes
                processed += 2
            kinds = ", ".join(f"{k} {v / processed:.2f}" for k, v in sorted(client.calls.items()))
            total = sum(client.calls.values())
            print(
                f"{stored:>15,}{stored * 6:>12,}{total / processed:>15.2f}{client.read_units / processed:>13.2f}"
                f"{client.write_units / processed:>13.2f}  {kinds}  (seeded in {seeded_in:.0f} s)"
            )


def main() -> None:
    from build_eval_set import FROZEN, read_pairs, test_digest  # type: ignore[import-not-found]

    rows = read_pairs()
    frozen = FROZEN.read_text().split()[0]
    status = "unchanged" if test_digest(rows) == frozen else "CHANGED SINCE FREEZE"
    print(f"evaluation set: benchmarks/eval/pairs.tsv, test part {status} ({frozen[:12]}…)")
    corpus = Corpus.load()
    # While tuning, `DEDUPE_SPLITS=dev` keeps the frozen test part out of sight.
    splits = tuple(os.environ.get("DEDUPE_SPLITS", "dev,test").split(","))
    if os.environ.get("DEDUPE_QUALITY", "1") == "1":
        quality(corpus, [row for row in rows if row["split"] in splits], splits)
    if os.environ.get("DEDUPE_COST", "1") == "1":
        cost(corpus)

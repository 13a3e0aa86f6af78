"""Fetch-and-process over one document, offline: parse_feed → the queue hop → build_article →
fingerprint → every output format. Shared by the property tests and the naughty-strings run."""

from __future__ import annotations

import json
import tracemalloc
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from devtools.lambda_local import api_event
from newsroom.core.codec import entry_from_message, entry_to_message
from newsroom.core.config import settings
from newsroom.core.models import Article, RawEntry
from newsroom.fetch.feeds import FeedParseError, parse_feed
from newsroom.process.build import EntryRejected, build_article
from newsroom.process.fingerprint import fingerprint
from newsroom.serve import pages
from newsroom.serve.formats.api_json import article_json
from newsroom.serve.formats.atom import render_atom
from newsroom.serve.formats.common import FeedMeta
from newsroom.serve.formats.jsonfeed import render_json_feed
from newsroom.serve.formats.rss import render_rss
from tests.e2e.test_hostile_input import executable, json_problems, xml_problems

from .feeds import CONTENT_TYPES, CONTEXT, FEED_URL, NOW, FeedSpec, document

META = FeedMeta("CryptoCompass", "https://cryptocompass.example", "https://cryptocompass.example/feed", "Fuzz")

# Bounds the invariants state. Memory: the parse keeps the document, feedparser's tree
# and our entries (a few copies of the input) plus a fixed allowance for the libraries' own
# tables. Bytes: an output may repeat a field a few times (title in several elements, escaped
# once more), never expand it without bound (an entity amplifier would).
MEMORY_ALLOWANCE = 48 * 1024 * 1024
MEMORY_PER_INPUT_BYTE = 40
EXPANSION_PER_INPUT_BYTE = 24
EXPANSION_ALLOWANCE = 256 * 1024


class _NoPrices:
    def get_prices(self) -> list[Any]:
        return []


@dataclass
class Run:
    document: bytes
    refused: FeedParseError | None = None
    entries: list[RawEntry] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)
    # Entries the processor refuses for good, with the reason it records (`REJECT#`), never a DLQ
    # retry: a story over DynamoDB's item limit after every input cut (a 300,000-character link).
    rejected: list[EntryRejected] = field(default_factory=list)
    peak_bytes: int | None = None  # None: not traced (tracemalloc doubles a run), so not bounded
    _outputs: dict[str, str] | None = None

    def outputs(self) -> dict[str, str]:
        """Every representation a reader can get of these stories (rendered once per run)."""
        if self._outputs is None:
            self._outputs = self._render()
        return self._outputs

    def _render(self) -> dict[str, str]:
        out = {
            "json": json.dumps([article_json(a) for a in self.articles], ensure_ascii=False),
            "feed.json": render_json_feed(META, self.articles),
            "feed.rss": render_rss(META, self.articles),
            "feed.atom": render_atom(META, self.articles),
        }
        event = APIGatewayProxyEvent(api_event("GET", "/news/x", {"Host": "127.0.0.1:3000", "Accept": "text/html"}))
        for n, article in enumerate(self.articles):
            out[f"page{n}"] = pages.article_page(article, _NoPrices(), settings(), event)  # type: ignore[arg-type]
        return out


def run(
    document: bytes, content_type: str = "application/xml", *, trace_memory: bool = True, max_entries: int | None = None
) -> Run:
    """The document through the fetch worker's parse, the queue message and the processor."""
    result = Run(document)
    if trace_memory:
        tracemalloc.start()
    try:
        try:
            parsed = parse_feed(
                document,
                source_id="fuzz",
                base_url=FEED_URL,
                fetched_at=NOW,
                response_headers={"Content-Type": content_type},
                max_entries=max_entries,
            )
        except FeedParseError as exc:
            result.refused = exc
            return result
        # The queue hop: what the processor builds from is what the fetcher's message carries.
        result.entries = [entry_from_message(entry_to_message(e)) for e in parsed.entries]
        for entry in result.entries:
            try:
                article = build_article(entry, CONTEXT)
            except EntryRejected as exc:
                result.rejected.append(exc)
                continue
            fingerprint(article.content_text)
            result.articles.append(article)
    finally:
        if trace_memory:
            result.peak_bytes = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    return result


def run_spec(spec: FeedSpec, *, trace_memory: bool = True, max_entries: int | None = None) -> Run:
    return run(document(spec), CONTENT_TYPES[spec.format], trace_memory=trace_memory, max_entries=max_entries)


# Plain-text fields: a JSON string is text, never HTML, so "<img …>" there is characters a client
# shows, not markup (issue 14's escaping rule); titles, names and tags must still form no tag.
PLAIN_TEXT_KEYS = frozenset({"standfirst", "summary", "content_text"})


def json_output_problems(document: str) -> list[str]:
    def without_plain_text(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: without_plain_text(v) for k, v in value.items() if k not in PLAIN_TEXT_KEYS}
        if isinstance(value, list):
            return [without_plain_text(v) for v in value]
        return value

    return json_problems(without_plain_text(json.loads(document)))


def output_problems(out: dict[str, str]) -> list[str]:
    """Executable markup in the JSON, JSON Feed, Atom and HTML outputs (RSS has its own test)."""
    problems = json_output_problems(out["json"]) + json_output_problems(out["feed.json"])
    problems += xml_problems(out["feed.atom"])
    problems += [p for name, page in out.items() if name.startswith("page") for p in executable(page)]
    return problems


def check_bounded(result: Run, *, memory: bool = True) -> None:
    """The run's bounds: its traced peak memory (unless `memory=False`, said where a run is not
    traced) and the bytes of story text it produced."""
    size = len(result.document)
    limit = MEMORY_ALLOWANCE + MEMORY_PER_INPUT_BYTE * size
    if memory:
        assert result.peak_bytes is not None, "memory is bounded only where the run traced it (trace_memory=True)"
        assert result.peak_bytes <= limit, f"peak {result.peak_bytes / 1e6:.1f} MB for a {size / 1e3:.0f} KB document"
    if result.refused is not None:
        assert result.refused.reason.strip(), "refused without a reason"
        return
    assert all(r.reason.strip() and str(r) for r in result.rejected), "an entry rejected without a reason"
    produced = sum(
        len(text.encode())
        for a in result.articles
        for text in (a.title, a.content_html, a.content_text, a.standfirst, a.author, " ".join(a.coins))
    )
    bound = EXPANSION_PER_INPUT_BYTE * size + EXPANSION_ALLOWANCE
    assert produced <= bound, f"{size} bytes in, {produced} bytes of stories out"

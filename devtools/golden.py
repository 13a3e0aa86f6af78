"""Golden stories: what the pipeline builds from every corpus document and sample feed, as hashes.

The record is the safety net for refactoring and speed work: `scripts/record_golden.py` writes
it, `tests/process/test_golden.py` rebuilds and compares, and any difference is either a defect or
a deliberate change that the README lists with its reason.

Each document goes the deployed way, minus the network and the store: its bytes are answered
to `poll_source` (with the Content-Type its test header declares, as the corpus robustness test
serves it), every fresh entry crosses the queue codec, and `build_article` builds the story.
The clock is fixed and nothing is random, so a rerun gives the same record byte for byte.

The repository must not hold publisher text, so every field of every built article is stored
as a truncated SHA-256 of its value; a failing document keeps its reason code in clear (ours,
not the publisher's) and its message hashed.
"""

from __future__ import annotations

import dataclasses
import enum
import gzip
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsroom.core.codec import entry_from_message, entry_to_message
from newsroom.core.config import parse_sources
from newsroom.core.models import Article, Source, SourceState
from newsroom.fetch.apply import poll_source
from newsroom.fetch.http import FetchPolicy, HttpResult
from newsroom.fetch.seen import fresh_entries
from newsroom.process.build import ProcessingContext, build_article
from newsroom.process.fingerprint import fingerprint

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
SAMPLES = ROOT / "devtools" / "samples"
RECORD = ROOT / "tests" / "golden" / "stories.jsonl.gz"

# The fixed clock: every poll, fetch time and date clamp uses it.
CLOCK = datetime(2026, 5, 31, 12, 0, tzinfo=UTC)
HASH_HEX = 12  # 48 bits per field: a changed value goes unnoticed with odds of 1 in 2^48
FORMAT = 1
SITE_NAME = "CryptoCompass"
DESK_NAME = "CryptoCompass newsroom"
EDITORIAL_IMAGE_BASE_URL = "https://cryptocompass.example/static/editorial"
MAX_BODY_BYTES = 300_000  # config's default MAX_BODY_BYTES
CORPUS_BASE_URL = "https://corpus.example/"
SAMPLES_BASE_URL = "https://samples.example"
SAMPLE_CONTENT_TYPE = "application/xml; charset=utf-8"  # what devtools.sample_server sends
_HEADER_LINE = re.compile(rb"^Header:\s*([^:\r\n]+):\s*(.*?)\s*$", re.MULTILINE)
_SERVED_HEADERS = ("content-type", "content-language", "content-location")
_POLICY = FetchPolicy()


@dataclass(frozen=True, slots=True)
class Document:
    """One feed document to build: its name in the record, its bytes and how it is served."""

    name: str
    body: bytes
    headers: Mapping[str, str]
    source: Source
    context: ProcessingContext


def _hash(value: Any) -> str:
    text = json.dumps(_plain(value), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_HEX]


def _plain(value: Any) -> Any:
    """A JSON-able, exact form of a field value (full datetime precision, enum values)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def article_fields(article: Article) -> dict[str, str]:
    """Every field of `article` hashed; nested values (image, attribution) field by field too,
    plus the attribution as a whole and the content fingerprint's index keys."""
    fields: dict[str, str] = {}
    for field in dataclasses.fields(article):
        value = getattr(article, field.name)
        fields[field.name] = _hash(value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            for inner in dataclasses.fields(value):
                fields[f"{field.name}.{inner.name}"] = _hash(getattr(value, inner.name))
    if article.attribution is None:
        for name in ("original_url", "original_domain", "original_name", "original_source_id", "marker"):
            fields[f"attribution.{name}"] = _hash(None)
    for name in ("credit_domain", "credit_url", "credit_line"):
        fields[name] = _hash(getattr(article, name))
    content_fingerprint = fingerprint(article.content_text)
    fields["fingerprint"] = _hash(content_fingerprint.keys if content_fingerprint else None)
    return fields


def _served_headers(body: bytes) -> dict[str, str]:
    """The response headers a feedparser test document asks for in its `Header:` lines."""
    headers: dict[str, str] = {}
    for name, value in _HEADER_LINE.findall(body):
        key = name.decode("latin-1").strip().lower()
        if key in _SERVED_HEADERS:
            headers[key] = value.decode("latin-1")
    return headers


def _context(sources: tuple[Source, ...]) -> ProcessingContext:
    return ProcessingContext.build(
        sources,
        site_name=SITE_NAME,
        desk_name=DESK_NAME,
        editorial_image_base_url=EDITORIAL_IMAGE_BASE_URL,
        max_body_bytes=MAX_BODY_BYTES,
        now=CLOCK,
    )


def documents(corpus: Path = CORPUS, samples: Path = SAMPLES) -> Iterator[Document]:
    """Every corpus file (READMEs and manifests too: a non-feed must keep failing the same way)
    and every sample feed, in a stable order."""
    for path in sorted(p for p in corpus.rglob("*") if p.is_file()):
        relative = path.relative_to(corpus).as_posix()
        source = Source(id="golden", name="Golden Corpus", feed_url=CORPUS_BASE_URL + relative)
        body = path.read_bytes()
        yield Document(f"corpus/{relative}", body, _served_headers(body), source, _context((source,)))
    sample_sources = parse_sources(
        (samples / "sources.json").read_text(encoding="utf-8").replace("{base}", SAMPLES_BASE_URL)
    )
    sample_context = _context(sample_sources)
    for source in sample_sources:
        path = samples / "feeds" / source.feed_url.rsplit("/", 1)[1]
        if path.is_file():  # the "gone" sample has no file: it is a 404 by design
            headers = {"content-type": SAMPLE_CONTENT_TYPE}
            yield Document(f"samples/{path.name}", path.read_bytes(), headers, source, sample_context)


def build(document: Document) -> dict[str, Any]:
    """The record line for one document: its outcome and, per fresh entry, the article's hashed
    fields (or why the entry was not built)."""

    def answer(url: str, policy: FetchPolicy, **_: Any) -> HttpResult:
        return HttpResult(200, url, document.body, document.headers, False, None, None, None)

    state, entries, report = poll_source(
        document.source, SourceState(document.source.id), _POLICY, now=CLOCK, get=answer
    )
    line: dict[str, Any] = {"doc": document.name}
    if report.status == "error":
        reason, _, message = (state.last_error or "").partition(":")
        line.update(status="failed", reason=reason, message=_hash(message.strip()))
        return line
    fresh, _ = fresh_entries(entries, b"")
    articles: list[dict[str, str]] = []
    for entry in fresh:
        try:
            article = build_article(entry_from_message(entry_to_message(entry)), document.context)
        except Exception as exc:  # today's behaviour, whatever it is, is what the record holds
            articles.append({"rejected": type(exc).__name__})
            continue
        articles.append(article_fields(article))
    line.update(status="ok", entries=len(entries), articles=articles)
    return line


def build_all(corpus: Path = CORPUS, samples: Path = SAMPLES) -> list[dict[str, Any]]:
    return [build(document) for document in documents(corpus, samples)]


def header() -> dict[str, Any]:
    return {"format": FORMAT, "clock": CLOCK.isoformat(), "hash": f"sha256[:{HASH_HEX}]"}


def compact(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lines with each article's hashes as a list in the order of one shared field list: the
    record is read by machines, and a third of the size is field names otherwise."""
    names = field_names(lines)
    out: list[dict[str, Any]] = [{**header(), "fields": names}]
    for line in lines:
        if "articles" in line:
            articles = [a if "rejected" in a else [a.get(name) for name in names] for a in line["articles"]]
            line = {**line, "articles": articles}
        out.append(line)
    return out


def field_names(lines: list[dict[str, Any]]) -> list[str]:
    names: dict[str, None] = {}
    for line in lines:
        for article in line.get("articles", ()):
            if "rejected" not in article:
                names.update(dict.fromkeys(article))
    return list(names)


def write(lines: list[dict[str, Any]], path: Path = RECORD) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in compact(lines))
    # mtime=0: the same record gives the same bytes, so an unchanged re-record is no git change.
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
        out.write(text.encode("utf-8"))


def read(path: Path = RECORD) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The record's header and its lines, articles expanded back to field → hash."""
    rows = [json.loads(row) for row in gzip.decompress(path.read_bytes()).decode("utf-8").splitlines()]
    head, body = rows[0], rows[1:]
    names = head["fields"]
    for line in body:
        if "articles" in line:
            line["articles"] = [
                a if isinstance(a, dict) else dict(zip(names, a, strict=True)) for a in line["articles"]
            ]
    return head, body


@dataclass(frozen=True, slots=True)
class Differences:
    """Where a rebuild departs from the record: per document, and per field in how many articles."""

    documents: dict[str, list[str]]  # document → what differs there
    fields: Counter[str]  # field → number of articles where it changed

    def __bool__(self) -> bool:
        return bool(self.documents)

    def summary(self, limit: int = 40) -> str:
        lines = [f"{len(self.documents)} documents differ from the golden record."]
        lines.append("Per field (articles changed), for the README's 'Differences from the golden record':")
        lines.extend(
            f"  - `{name}`: {count}" for name, count in sorted(self.fields.items(), key=lambda i: (-i[1], i[0]))
        )
        lines.append("Documents:")
        for name in list(self.documents)[:limit]:
            lines.append(f"  {name}: {'; '.join(self.documents[name])}")
        if len(self.documents) > limit:
            lines.append(f"  … and {len(self.documents) - limit} more")
        lines.append("Re-record with `.venv/bin/python scripts/record_golden.py` once each difference is explained.")
        return "\n".join(lines)


# A field added to `Article` after the record was made, holding its empty default, changes
# nothing a reader sees: not a difference (any other value of it is).
_EMPTY_VALUES: tuple[Any, ...] = (None, (), [], "", {}, False, 0)
_EMPTY_HASHES = frozenset(_hash(v) for v in _EMPTY_VALUES)


def compare(recorded: list[dict[str, Any]], rebuilt: list[dict[str, Any]]) -> Differences:
    before = {line["doc"]: line for line in recorded}
    after = {line["doc"]: line for line in rebuilt}
    documents: dict[str, list[str]] = {}
    fields: Counter[str] = Counter()
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name), after.get(name)
        if old is None or new is None:
            documents[name] = ["new document" if old is None else "document no longer built"]
            fields["(document)"] += 1
            continue
        notes: list[str] = []
        for key in ("status", "reason", "message", "entries"):
            if old.get(key) != new.get(key):
                notes.append(f"{key} {old.get(key)!r} → {new.get(key)!r}")
                fields[f"({key})"] += 1
        old_articles, new_articles = old.get("articles", []), new.get("articles", [])
        if len(old_articles) != len(new_articles):
            notes.append(f"articles {len(old_articles)} → {len(new_articles)}")
            fields["(articles)"] += 1
        by_change: dict[tuple[str, ...], list[int]] = {}
        for index, (was, now) in enumerate(zip(old_articles, new_articles, strict=False)):
            changed = tuple(
                sorted(
                    k
                    for k in was.keys() | now.keys()
                    if was.get(k) != now.get(k) and not (k not in was and now.get(k) in _EMPTY_HASHES)
                )
            )
            if changed:
                by_change.setdefault(changed, []).append(index)
                fields.update(changed)
        notes.extend(f"{_articles(indexes)}: {', '.join(changed)}" for changed, indexes in by_change.items())
        if notes:
            documents[name] = notes
    return Differences(documents, fields)


def _articles(indexes: list[int]) -> str:
    """Which articles of a document changed, by position: `article 3`, `articles 0-11, 14`."""
    spans: list[list[int]] = []
    for index in indexes:
        if spans and spans[-1][1] == index - 1:
            spans[-1][1] = index
        else:
            spans.append([index, index])
    text = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)
    return f"article {text}" if len(indexes) == 1 else f"articles {text}"

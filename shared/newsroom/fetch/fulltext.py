"""Full text for sources whose right is `full`: fetch the article page, extract, clean.

Rules:

- Only `Rights.FULL` sources are ever fetched beyond their feed; `excerpt` sources never are.
- The page is fetched with the same `http_get` as feeds: the same politeness (User-Agent with a
  contact URL), timeouts, size cap after decompression, and SSRF rules (resolve once, validate,
  connect to the validated address, validate every redirect).
- Only new entries are fetched: an entry whose GUID is already claimed by a stored story is not
  fetched again, and at most `max_pages` pages per source per poll. The rest are queued with
  their feed excerpt at once and their full text is owed (`Enrichment.deferred`): the fetcher
  remembers them as owed (`poll.enriched`), so the next poll offers them again, first in
  line and whatever their GUID claim, and a page that gives more text replaces the excerpt
  (the processor stores it as the source's correction).
- trafilatura (pinned) extracts the main content as HTML (precision over recall, links, images
  and tables kept); per-source rules then strip the publisher's own boilerplate: XPath
  expressions pruned before extraction (newsletter boxes, "related" rails) and regexes matched
  against each block's text after it ("Read more: …", their disclaimer). The result is sanitized
  with the same allow-list as every body (`html.sanitize_html`).
- Time and size: a source's pages start only while a whole page fetch fits its budget
  (`budget_seconds`), every source's only while it fits the invocation's deadline
  (`deadline_seconds`, `config.FULLTEXT_DEADLINE_SECONDS`), and no extraction begins past the
  deadline, however long the page waited for `HEAVY_STEPS` (two parses or extractions at once);
  pages are read up to `config.FULLTEXT_MAX_PAGE_BYTES` (1 MB) and a larger one keeps the
  feed's text. Entries left by any of these are owed their full text, as past `max_pages`.
- Extraction replaces the feed's content only when it found more text than the feed carried;
  any failure (fetch, extraction, nothing found) keeps the feed's content and is only logged:
  full text is an improvement, never a reason to lose an entry.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from newsroom.core.config import FULLTEXT_MAX_PAGE_BYTES
from newsroom.core.html import sanitize_html
from newsroom.core.models import RawEntry, Rights, Source
from newsroom.core.reading import html_to_text
from newsroom.fetch.contract import HEAVY_STEPS
from newsroom.fetch.http import FetchError, FetchPolicy, http_get

logger = logging.getLogger(__name__)

HTML_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
_BLOCKS = ("p", "li", "blockquote", "h2", "h3", "h4", "h5", "h6", "div", "figure", "figcaption")


def extract_main_html(
    page: bytes | str,
    url: str,
    *,
    prune_xpaths: Sequence[str] = (),
    drop_patterns: Sequence[str] = (),
) -> str | None:
    """The article's main content as sanitized HTML, or None when nothing article-like is found."""
    import trafilatura  # imported here: only full-text workers pay for loading it

    extracted = trafilatura.extract(
        page,
        url=url,
        output_format="html",
        include_links=True,
        include_images=True,
        include_tables=True,
        include_comments=False,
        favor_precision=True,
        deduplicate=False,
        prune_xpath=list(prune_xpaths) or None,
    )
    if not extracted:
        return None
    cleaned = _drop_blocks(extracted, [re.compile(p, re.IGNORECASE) for p in drop_patterns])
    body = sanitize_html(cleaned, base_url=url)
    return body if html_to_text(body).strip() else None


def _drop_blocks(fragment: str, patterns: Sequence[re.Pattern[str]]) -> str:
    """Remove each block whose own text matches one of `patterns`; unwrap trafilatura's html/body."""
    import lxml.html  # type: ignore[import-untyped]  # trafilatura's dependency; no stubs shipped

    root = lxml.html.fromstring(fragment)
    body = root.find("body") if root.tag == "html" else None
    container = body if body is not None else root
    if patterns:
        for element in list(container.iter(*_BLOCKS)):
            text = " ".join(element.text_content().split())
            if text and any(p.search(text) for p in patterns) and element.getparent() is not None:
                element.drop_tree()
    if container.tag in ("body", "html", "doc", "main", "div") and container is not None:
        parts = [lxml.html.tostring(child, encoding="unicode") for child in container]
        return (container.text or "") + "".join(parts)
    return str(lxml.html.tostring(container, encoding="unicode"))


class PastDeadline(Exception):
    """The page was fetched, but its extraction could only begin after the deadline."""


def enrich_entry(
    entry: RawEntry,
    source: Source,
    policy: FetchPolicy,
    *,
    get: Callable[..., Any] = http_get,
    in_time: Callable[[], bool] = lambda: True,
) -> RawEntry | None:
    """The entry with the article page's full text, or None when the page gave nothing better;
    raises `PastDeadline` when `in_time()` says no once the extraction may begin."""
    try:
        result = get(
            entry.link, replace(policy, max_bytes=min(policy.max_bytes, FULLTEXT_MAX_PAGE_BYTES)), accept=HTML_ACCEPT
        )
    except FetchError as exc:
        logger.info("full text of %s not fetched: %s", entry.link, exc.reason)
        return None
    with HEAVY_STEPS:  # bounded apart from the fetches: an extraction holds a multiple of its page
        if not in_time():  # the wait for the bound counts: nothing starts past the deadline
            raise PastDeadline(entry.link)
        try:
            body = extract_main_html(
                result.body,
                result.url,
                prune_xpaths=source.boilerplate_xpaths,
                drop_patterns=source.boilerplate_patterns,
            )
        except Exception as exc:  # an extractor bug on one hostile page must not cost the entry
            logger.warning("full text extraction failed for %s: %s", entry.link, exc)
            return None
        if body is None:
            return None
        feed_text = html_to_text(entry.content_html or entry.summary_html)
        if len(html_to_text(body)) <= len(feed_text):
            return None
    return replace(entry, content_html=body)


@dataclass(frozen=True, slots=True)
class Enrichment:
    """A poll's entries after full-text fetching, in the order given."""

    entries: list[RawEntry]
    pages: int  # article pages fetched
    improved: frozenset[int] = frozenset()  # indexes of entries that got full text
    deferred: frozenset[int] = frozenset()  # past `max_pages`, the budget or the deadline: owed full text


Enricher = Callable[[Source, list[RawEntry], frozenset[int]], Enrichment]


def make_enricher(
    store: Any,
    policy: FetchPolicy,
    *,
    max_pages: int,
    get: Callable[..., Any] = http_get,
    budget_seconds: float | None = None,
    deadline_seconds: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Enricher:
    """What `fetch_all(enrich=...)` calls with each polled source's entries and the indexes of
    those owed full text since an earlier poll (fetched first, even though their excerpt is
    stored under their GUID by now).

    `budget_seconds` bounds one source's full-text fetching: a page is started only while a whole
    page fetch (`policy.total_timeout`) still fits, so a source's poll never outlasts the fetch
    worker's timeout however slow its pages are (the rest keep their excerpt and are owed full
    text, like those past `max_pages`). `deadline_seconds` bounds every source's together, from
    the enricher's making (the invocation's start): no page starts that a whole fetch would take
    past it, and no extraction begins after it, however long the page waited for `HEAVY_STEPS`."""
    made = clock()

    def enrich(source: Source, entries: list[RawEntry], owed: frozenset[int] = frozenset()) -> Enrichment:
        if source.rights is not Rights.FULL or max_pages <= 0:
            return Enrichment(entries, 0)
        started = clock()
        out = list(entries)
        fetched = 0
        improved: set[int] = set()
        deferred: set[int] = set()
        in_line = sorted(range(len(entries)), key=lambda i: i not in owed)  # owed first, stable

        def before_deadline(ahead: float = 0.0) -> bool:
            return deadline_seconds is None or clock() - made + ahead <= deadline_seconds

        def in_time(ahead: float) -> bool:
            within_budget = budget_seconds is None or clock() - started + ahead <= budget_seconds
            return within_budget and before_deadline(ahead)

        for index in in_line:
            entry = entries[index]
            if index not in owed and entry.guid and store.story_for_guid(source.id, entry.guid) is not None:
                continue
            if fetched >= max_pages or not in_time(policy.total_timeout):
                deferred.add(index)
                continue
            fetched += 1
            try:
                # Once fetched, a page is extracted unless the invocation's deadline has passed
                # (the source's own budget only decides which pages start).
                better = enrich_entry(entry, source, policy, get=get, in_time=before_deadline)
            except PastDeadline:
                deferred.add(index)
                continue
            if better is not None:
                out[index] = better
                improved.add(index)
        return Enrichment(out, fetched, frozenset(improved), frozenset(deferred))

    return enrich

"""Sources to and from OPML 2.0, the feed-reader convention for subscription lists.

Export writes one `<outline type="rss">` per source with the standard attributes (`text`,
`title`, `xmlUrl`, `htmlUrl`, `language`) plus our own (`id`, `role`, `rights`, `interval`,
`category`, `enabled`), which feed readers ignore and an import reads back, so export → import
is lossless for those fields. Import accepts any reader's OPML: outlines nested in folders (a
folder named like a category becomes the category hint), ids derived from the feed URL when
absent, and the `full`/`excerpt` right defaulting to `excerpt` (republishing needs an explicit
yes).

OPML is XML from outside, so it goes through the same pre-scan as feeds (`xmlguard.check_xml`:
any entity declaration is refused) and a document with a DOCTYPE is refused before parsing, in
any encoding: no OPML needs one. Names are plain text with bidirectional controls removed
(`text.strip_bidi_controls`), so an imported name cannot reorder what a reader sees.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

from newsroom.core.html import plain_name
from newsroom.core.models import Category, Rights, Source, SourceRole
from newsroom.core.text import strip_bidi_controls
from newsroom.core.xmlguard import HostileXml, ascii_view, check_xml

_SLUG = re.compile(r"[^a-z0-9]+")
_CATEGORIES = {c.value.lower(): c for c in Category}
MAX_OPML_BYTES = 5 * 1024 * 1024


class OpmlError(ValueError):
    """The document is not usable OPML; the message says why."""


def to_opml(sources: Sequence[Source], *, title: str = "Newsroom sources", now: datetime | None = None) -> str:
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(now or datetime.now(UTC), usegmt=True)
    body = ET.SubElement(root, "body")
    for source in sources:
        attributes = {
            "type": "rss",
            "text": source.name,
            "title": source.name,
            "xmlUrl": source.feed_url,
            "htmlUrl": source.homepage,
            "id": source.id,
            "role": source.role.value,
            "rights": source.rights.value,
            "enabled": "true" if source.enabled else "false",
        }
        if source.language:
            attributes["language"] = source.language
        if source.category_hint is not None:
            attributes["category"] = source.category_hint.value
        if source.interval_minutes is not None:
            attributes["interval"] = str(source.interval_minutes)
        ET.SubElement(body, "outline", {k: v for k, v in attributes.items() if v != ""})
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def from_opml(document: bytes | str) -> list[Source]:
    data = document.encode("utf-8") if isinstance(document, str) else document
    if len(data) > MAX_OPML_BYTES:
        raise OpmlError(f"OPML over {MAX_OPML_BYTES} bytes")
    try:
        check_xml(data)
    except HostileXml as exc:
        raise OpmlError(f"OPML with entity declarations is refused ({exc})") from None
    if b"<!DOCTYPE" in ascii_view(data).upper():  # in UTF-16 too
        raise OpmlError("OPML with a DOCTYPE is refused")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise OpmlError(f"not well-formed XML: {exc}") from exc
    if root.tag != "opml" or root.find("body") is None:
        raise OpmlError("not an OPML document (no <opml><body>)")
    sources: dict[str, Source] = {}
    for outline, folder in _feed_outlines(root.find("body"), None):  # type: ignore[arg-type]
        source = _source(outline, folder)
        if source.id in sources:
            if outline.get("id"):
                raise OpmlError(f"two outlines have the id {source.id!r}")
            # A derived id (two feeds of one site): number the later ones.
            n = 2
            while f"{source.id}-{n}" in sources:
                n += 1
            source = replace(source, id=f"{source.id}-{n}")
        sources[source.id] = source
    return list(sources.values())


def _feed_outlines(parent: ET.Element, folder: str | None) -> Iterator[tuple[ET.Element, str | None]]:
    for outline in parent.findall("outline"):
        if outline.get("xmlUrl"):
            yield outline, folder
        else:
            yield from _feed_outlines(outline, outline.get("text") or outline.get("title") or folder)


def _source(outline: ET.Element, folder: str | None) -> Source:
    feed_url = (outline.get("xmlUrl") or "").strip()
    parts = urlsplit(feed_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OpmlError(f"outline has no http(s) xmlUrl: {feed_url!r}")
    # A text field in every output (see `html.plain_name`), whoever wrote the OPML.
    name = strip_bidi_controls(plain_name(outline.get("title") or outline.get("text") or "")).strip() or parts.hostname
    source_id = (outline.get("id") or "").strip() or _slug(parts.hostname.removeprefix("www."))
    category = outline.get("category") or folder or ""
    interval = (outline.get("interval") or "").strip()
    try:
        return Source(
            id=source_id,
            name=name,
            feed_url=feed_url,
            homepage=(outline.get("htmlUrl") or "").strip(),
            role=SourceRole(outline.get("role") or SourceRole.ORIGINAL),
            category_hint=_CATEGORIES.get(category.strip().lower()),
            language=(outline.get("language") or "").strip() or None,
            enabled=(outline.get("enabled") or "true").strip().lower() != "false",
            rights=Rights(outline.get("rights") or Rights.EXCERPT),
            interval_minutes=int(interval) if interval.isdigit() else None,
        )
    except ValueError as exc:
        raise OpmlError(f"outline {name!r}: {exc}") from exc


def _slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-") or "source"

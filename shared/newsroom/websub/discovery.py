"""Where a feed says it is pushed from: its hub URLs and its topic (self) URL, without I/O.

WebSub section 4 (Discovery): the publisher's HTTP `Link` headers (rel=hub, rel=self) come first;
"in the absence of HTTP Link headers" the subscriber may use the document's own links, `<link>`
in an HTML head, Atom's `<link>` and RSS's `<atom:link>` in the channel. Header priority is
per relation: hubs from the headers win over the body's hubs, a self from the headers over the
body's self (the implementation report's test 104).

A hub URL is refused, with a recorded reason, unless it is an absolute http(s) URL with a host
and no credentials, within `WebSubLimits.url_chars`: the spec says the link "MUST indicate the
exact URL of a WebSub hub", so a relative href (CoinDesk's `rel="hub" href="true"`) names no hub
at all; resolving it against the feed's URL would invent one. The address rules a feed URL
obeys (fetch/addresses.py: public addresses only) are applied by `vet_hub`, which resolves, so it
runs where I/O does (the subscriber), not here.

The body is read with lxml as feeds.py reads it (no network, no DTD, no entity expansion, after
`xmlguard.check_xml`), and only up to the first entry: hub links sit in the feed's head, and an
entry's own `rel="self"` is not the feed's.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree  # type: ignore[import-untyped]  # no stubs shipped
from urllib3.exceptions import LocationValueError
from urllib3.util import parse_url

from newsroom.core.config import DEFAULT_WEBSUB_LIMITS, WebSubLimits
from newsroom.core.xmlguard import HostileXml, check_xml
from newsroom.fetch.addresses import Resolver, check_url, resolve_host
from newsroom.fetch.contract import FetchError, FetchPolicy

__all__ = ["Discovery", "Refused", "discover", "link_header_targets", "vet_hub"]

# One link-value of RFC 8288 section 3: `<target>` then `; param` pairs; a target may hold commas.
_LINK_VALUE = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]*)*)")
_REL_PARAM = re.compile(r"""(?:^|;)\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,"]+))""", re.IGNORECASE)
_ENTRY_NAMES = frozenset({"item", "entry", "body"})  # the head ends where the first entry starts
_HEAD_NAMES = frozenset({"feed", "channel", "head", "rss", "RDF", "html"})
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)[\s>]", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class Refused:
    """A link we did not use, and why ("relative", "bad-scheme", "credentials", "too-long", ...)."""

    href: str
    rel: str  # "hub" or "self"
    reason: str
    where: str  # "header" or "body"


@dataclass(frozen=True, slots=True)
class Discovery:
    hubs: tuple[str, ...]  # usable hub URLs, in the order the publisher gave them
    topic: str  # the self URL, or the fetched URL when the publisher names none we can use
    hubs_from: str | None  # "header", "body", or None (no hub)
    refused: tuple[Refused, ...] = ()

    @property
    def pushed(self) -> bool:
        return bool(self.hubs)


def link_header_targets(value: str) -> list[tuple[str, frozenset[str]]]:
    """(target, rel tokens) of each link-value in a `Link` header (several headers joined by
    commas, as the client merges them). rel is a space-separated list (RFC 8288 section 3.3),
    compared case-insensitively."""
    found = []
    for match in _LINK_VALUE.finditer(value):
        rel = _REL_PARAM.search(match.group(2))
        if rel:
            tokens = (rel.group(1) if rel.group(1) is not None else rel.group(2)).lower().split()
            found.append((match.group(1).strip(), frozenset(tokens)))
    return found


def _body_links(body: bytes, content_type: str) -> tuple[list[tuple[str, frozenset[str]]], str | None]:
    """(href, rel tokens) of the links in the document's head, or the reason none could be read."""
    is_html = "html" in content_type.lower() or bool(_HTML_START.match(body[:1024]))
    if not is_html:
        try:
            check_xml(body)
        except HostileXml:
            return [], "hostile-xml"
    found: list[tuple[str, frozenset[str]]] = []
    options = {"events": ("start",), "no_network": True, "huge_tree": False, "recover": True}
    if is_html:
        options["html"] = True
    else:
        options.update(resolve_entities=False, load_dtd=False)
    try:
        for _event, element in etree.iterparse(io.BytesIO(body), **options):
            if not isinstance(element.tag, str):
                continue
            name = _local_name(element.tag)
            if name in _ENTRY_NAMES:
                break
            if name != "link":
                continue
            parent = element.getparent()
            if parent is None or _local_name(parent.tag) not in _HEAD_NAMES:
                continue
            href, rel = element.get("href"), element.get("rel")
            if href is not None and rel:
                found.append((href.strip(), frozenset(rel.lower().split())))
    except (etree.LxmlError, ValueError):
        pass  # recover=True keeps what came before the damage; what we found is what we use
    return found, None


def _local_name(tag: object) -> str:
    """`{namespace}name`, `prefix:name` (lxml's recovering parser keeps an undeclared prefix in
    the name, as in `itunes:subtitle`) or `name` -> `name`."""
    return str(tag).rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def _refusal(href: str, limits: WebSubLimits) -> str | None:
    if len(href) > limits.url_chars:
        return "too-long"
    try:
        parsed = parse_url(href)
    except LocationValueError:
        return "unparseable"
    if parsed.scheme is None:
        return "relative"
    if parsed.scheme.lower() not in ("http", "https"):
        return "bad-scheme"
    if not parsed.host:
        return "no-host"
    if parsed.auth:
        return "credentials"
    return None


def discover(
    body: bytes,
    headers: Mapping[str, str],
    fetched_url: str,
    *,
    limits: WebSubLimits = DEFAULT_WEBSUB_LIMITS,
) -> Discovery:
    """The hubs and topic a fetched feed names (`headers` with lower-case names, as the client
    returns them; `fetched_url` is the final URL after redirects)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    header_links = link_header_targets(lowered.get("link", ""))
    body_links, unreadable = _body_links(body, lowered.get("content-type", ""))
    refused: list[Refused] = []
    if unreadable:
        refused.append(Refused("", "hub", unreadable, "body"))

    def usable(links: list[tuple[str, frozenset[str]]], rel: str, where: str) -> list[str]:
        kept: list[str] = []
        for href, rels in links:
            if rel not in rels:
                continue
            reason = _refusal(href, limits)
            if reason is None and href in kept:
                continue
            if reason is None and rel == "hub" and len(kept) >= limits.hubs_per_feed:
                reason = "too-many-hubs"
            if reason:
                refused.append(Refused(href[: limits.url_chars], rel, reason, where))
            else:
                kept.append(href)
        return kept

    header_hubs, body_hubs = usable(header_links, "hub", "header"), usable(body_links, "hub", "body")
    header_self, body_self = usable(header_links, "self", "header"), usable(body_links, "self", "body")
    hubs, hubs_from = (header_hubs, "header") if header_hubs else (body_hubs, "body" if body_hubs else None)
    topic = (header_self or body_self or [fetched_url])[0]
    return Discovery(tuple(hubs), topic, hubs_from, tuple(refused))


def vet_hub(url: str, policy: FetchPolicy, resolver: Resolver = resolve_host) -> str | None:
    """None when `url` may be contacted under the feed fetcher's address rules, else the reason
    (the `FetchError` reason: "blocked-address", "bad-scheme", "dns", ...)."""
    try:
        check_url(url, policy, resolver)
    except FetchError as exc:
        return exc.reason
    return None

"""Who published a story first, read from the copy we hold.

Aggregators republish other sites' stories and say so at the very end of the body, or the feed
declares it. `extract_attribution` finds that credit and removes the footer from the HTML.

Rules, in order of precedence:

1. A footer marker ending the content (only markup, whitespace and punctuation may follow it):
   - "Read original article on <site>", "Read the original article at|on <site>"
     (`read-original-footer`); a link in the footer is the original URL.
   - WordPress/Yoast "The post <title> appeared first on <site>." and "This post appeared first
     on <site>" (`appeared-first`); the link on the title is the original URL, the link on the
     site gives the domain.
   - "This article was originally published on|at <site>", "Originally published at|on <site>"
     (`originally-published`); a link in the footer is the original URL. A date in the site
     position ("Originally published on May 3, 2024") is not a site.
   A marker only counts where a sentence or block can start: at the start of the content or of
   a block, after sentence punctuation (including "[…]" and a missing space:
   "possession.The post"), or right after a "Read More" / "Continue reading" link. Case,
   whitespace and inline markup around and inside the marker do not matter.
2. Otherwise the feed's declarations: feedburner:origLink (`feedburner-origlink`) when it is on
   another site than the entry link and the entry link is not a feed-proxy redirect (FeedBurner's
   `/~r/` links point at the publisher's own origLink: same publisher, no attribution); then the
   RSS `<source url>` (`rss-source`), or a `<source>` name alone when it is one of our sources.

The site named in a footer becomes `original_domain` through `urls.site_domain`: from the site
text when it is a domain, else from the link on it, else from another link in the footer, else
from `known_sources` (a name or alias mapped to a source id, whose domain alias then gives the
domain). A site known only by an unknown name keeps that name as `original_name` and, for want of
a domain, as `original_domain`, so the credit line still names it. `original_source_id` is set
when the domain (or a parent domain) or the name is in `known_sources`.

A marker naming the copy's own site (same domain or subdomain, or the same known source) is not
attribution: the footer is still removed and None returned. Only the marker itself is removed
from the HTML: an element left empty by the removal goes too, everything else stays as it was.
"""

from __future__ import annotations

import bisect
import functools
import html as html_module
import re
from collections.abc import Mapping
from dataclasses import dataclass

from newsroom.models import Attribution
from newsroom.urls import canonical_url, is_http_url, same_site, site_domain

MARKER_READ_ORIGINAL = "read-original-footer"
MARKER_APPEARED_FIRST = "appeared-first"
MARKER_ORIGINALLY_PUBLISHED = "originally-published"
MARKER_FEEDBURNER_ORIGLINK = "feedburner-origlink"
MARKER_RSS_SOURCE = "rss-source"

# Footers are short and last: only this much of the end of the HTML is examined.
TAIL_CHARS = 4000

_FEED_PROXY_HOSTS = frozenset({"feedproxy.google.com", "feeds.feedburner.com", "feeds.feedblitz.com"})
_FEED_HOST_PREFIXES = ("feeds.", "feed.", "rss.")

# --- tokenising the tail of the HTML into text with a map back to HTML offsets ---------------

_TOKEN = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|<[A-Za-z/!?][^>]*>?"
    r"|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?"
    r"|[^<&]+"
    r"|[<&]",
    re.DOTALL,
)
_TAG = re.compile(r"<\s*(/)?\s*([A-Za-z][A-Za-z0-9]*)([^>]*?)(/)?\s*>?\Z", re.DOTALL)
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "br",
        "hr",
        "li",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "figure",
        "figcaption",
        "table",
        "tr",
        "td",
        "th",
        "section",
        "article",
        "header",
        "footer",
        "aside",
        "nav",
    }
)
_VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)


@dataclass(frozen=True, slots=True)
class _Segment:
    text_start: int
    text_end: int
    html_start: int
    html_end: int
    literal: bool  # each text character is one HTML character (not an entity or a tag)


@dataclass(frozen=True, slots=True)
class _Link:
    text_start: int
    text_end: int
    href: str


@dataclass(frozen=True, slots=True)
class _TextMap:
    text: str
    segments: tuple[_Segment, ...]
    starts: tuple[int, ...]
    links: tuple[_Link, ...]

    def _segment(self, text_index: int) -> _Segment:
        return self.segments[bisect.bisect_right(self.starts, text_index) - 1]

    def html_start(self, text_index: int) -> int:
        segment = self._segment(text_index)
        if segment.literal:
            return segment.html_start + (text_index - segment.text_start)
        return segment.html_start

    def html_end(self, text_end: int) -> int:
        """HTML offset just past the character before `text_end`."""
        segment = self._segment(text_end - 1)
        if segment.literal:
            return segment.html_start + (text_end - segment.text_start)
        return segment.html_end

    def links_within(self, start: int, end: int) -> list[str]:
        return [link.href for link in self.links if link.text_start < end and link.text_end > start]


def _map_text(html: str, offset: int) -> _TextMap:
    pieces: list[str] = []
    segments: list[_Segment] = []
    links: list[_Link] = []
    open_link: tuple[int, str] | None = None
    position = 0

    def add(text: str, html_start: int, html_end: int, literal: bool) -> None:
        nonlocal position
        if text:
            pieces.append(text)
            segments.append(_Segment(position, position + len(text), html_start, html_end, literal))
            position += len(text)

    for token in _TOKEN.finditer(html, offset):
        value = token.group()
        start, end = token.span()
        first = value[0]
        if first == "<" and len(value) > 1 and value[1] in "!?":
            continue  # comment, doctype, CDATA or processing instruction: no reader-visible text
        if first == "<" and len(value) > 1:
            tag = _TAG.match(value)
            if tag is None:
                add(value, start, end, True)
                continue
            closing, name = tag.group(1) is not None, tag.group(2).lower()
            if name == "a":
                if open_link is not None:
                    links.append(_Link(open_link[0], position, open_link[1]))
                    open_link = None
                if not closing:
                    href = _HREF.search(tag.group(3))
                    if href is not None:
                        raw = next(group for group in href.groups() if group is not None)
                        open_link = (position, html_module.unescape(raw).strip())
            elif name in _BLOCK_TAGS:
                add("\n", start, end, False)
            continue
        if first == "&" and len(value) > 1:
            add(html_module.unescape(value), start, end, False)
            continue
        add(value, start, end, True)
    if open_link is not None:
        links.append(_Link(open_link[0], position, open_link[1]))
    return _TextMap(
        text="".join(pieces),
        segments=tuple(segments),
        starts=tuple(segment.text_start for segment in segments),
        links=tuple(links),
    )


# --- marker patterns (over the mapped text) ---------------------------------------------------

_GAP = r"[^\S\n]+"
_START = (
    r"(?:\A|(?<=[\n.!?…\])\"”’'»:;|])|(?<=more)|(?<=reading))"
    r"[^\S\n]*"
)
_SITE = r"(?P<site>[^\n]{1,160}?)"
_END = r"(?P<punct>[^\S\n]*[.!。]*)[^\w]*\Z"


def _marker(body: str) -> re.Pattern[str]:
    return re.compile(_START + "(?P<marker>" + body + _GAP + _SITE + ")" + _END, re.IGNORECASE)


_READ_ORIGINAL = _marker(
    rf"read{_GAP}(?:the{_GAP})?original{_GAP}(?:article|story){_GAP}(?:on|at)",
)
_APPEARED_FIRST = _marker(
    rf"(?:the|this){_GAP}post(?:[^\S\n]*(?P<title>[^\n]{{1,400}}?))?{_GAP}appeared{_GAP}first{_GAP}(?:on|at)",
)
_ORIGINALLY_PUBLISHED = _marker(
    rf"(?:(?:this|the){_GAP}(?:article|story|post|piece){_GAP}was{_GAP}(?:originally|first){_GAP}published"
    rf"|originally{_GAP}published){_GAP}(?:on|at)",
)
_PATTERNS = (
    (_READ_ORIGINAL, MARKER_READ_ORIGINAL),
    (_APPEARED_FIRST, MARKER_APPEARED_FIRST),
    (_ORIGINALLY_PUBLISHED, MARKER_ORIGINALLY_PUBLISHED),
)
# Cheap gate: no footer can match without one of these words.
_TRIGGER_WORDS = ("original", "appeared")

_MONTHS_AND_DAYS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
)
# "May 3, 2024", "Monday", "3 May 2024", "2024-05-03", "03/05/2024"; not "99Bitcoins" or "0xResearch".
_DATE_LIKE = re.compile(
    rf"(?:(?:{_MONTHS_AND_DAYS})\b\.?,?\s*(?:\d|\Z)"
    rf"|\d{{1,4}}(?:st|nd|rd|th)?[\s,./-]+(?:\d{{1,4}}|(?:{_MONTHS_AND_DAYS})\b)"
    r"|(?:today|yesterday)\b)",
    re.IGNORECASE,
)
_DOMAIN_LIKE = re.compile(
    r"(?:https?://)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}(?::\d+)?(?:/\S*)?\Z",
    re.IGNORECASE,
)
_SITE_TRIM = " \t\xa0\"'“”‘’«»()[]<>"
_MAX_NAME_WORDS = 6

# --- cutting the marker out of the HTML -------------------------------------------------------

_TAG_IN_SPAN = re.compile(r"<\s*(/)?\s*([A-Za-z][A-Za-z0-9]*)[^>]*?(/)?\s*>")
_WRAPPER_TAGS = (
    r"p|div|span|em|strong|b|i|u|s|small|a|font|sup|sub|mark|cite|q|blockquote|h[1-6]|li|ul|ol"
    r"|section|footer|aside|figcaption"
)
_FILLER = r"(?:\s|&nbsp;|&#160;|<br\s*/?>)"
# Marks where the footer was; characters that cannot occur in real text are tried in turn.
_SEAM_CHARACTERS = ("\x01", "\ue000", "\ufdd0", "\ufdd1")


@functools.lru_cache(maxsize=len(_SEAM_CHARACTERS))
def _emptied_wrapper(seam: str) -> re.Pattern[str]:
    """An element holding nothing but the seam (and filler): a wrapper the removal emptied."""
    return re.compile(
        rf"<({_WRAPPER_TAGS})\b[^>]*>{_FILLER}*{seam}(?:{_FILLER}|{seam})*</\1\s*>",
        re.IGNORECASE,
    )


def _unbalanced_tags(span: str) -> list[str]:
    """The tags of `span` that open or close an element reaching outside it, in order."""
    open_stack: list[tuple[int, str, str]] = []
    stray: list[tuple[int, str]] = []
    for tag in _TAG_IN_SPAN.finditer(span):
        name = tag.group(2).lower()
        if name in _VOID_TAGS or tag.group(3):
            continue
        if tag.group(1):
            if open_stack and open_stack[-1][1] == name:
                open_stack.pop()
            else:
                stray.append((tag.start(), tag.group()))
        else:
            open_stack.append((tag.start(), name, tag.group()))
    stray.extend((index, text) for index, _, text in open_stack)
    stray.sort()
    return [text for _, text in stray]


def _cut(html: str, start: int, end: int) -> str:
    """`html` without [start, end), keeping its tag structure, minus the wrappers left empty."""
    seam = next((character for character in _SEAM_CHARACTERS if character not in html), None)
    before = html[:start].rstrip()
    leftover = _unbalanced_tags(html[start:end])
    if seam is None:  # pragma: no cover - every candidate seam character is in the content
        return (before + "".join(leftover) + html[end:]).rstrip()
    joined = before + seam + seam.join(leftover) + seam + html[end:]
    pattern = _emptied_wrapper(seam)
    previous = None
    while previous != joined:
        previous = joined
        joined = pattern.sub(seam, joined)
    return joined.replace(seam, "").rstrip()


# --- naming the site --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Footer:
    marker: str
    html_start: int
    html_end: int
    site: str
    site_links: tuple[str, ...]
    title_links: tuple[str, ...]
    footer_links: tuple[str, ...]


def _find_footer(content_html: str) -> _Footer | None:
    tail_start = max(0, len(content_html) - TAIL_CHARS)
    if tail_start:
        # Start on a tag boundary so a cut attribute is never read as text.
        boundary = content_html.find("<", tail_start)
        tail_start = boundary if boundary != -1 else tail_start
    lowered_tail = content_html[tail_start:].lower()
    if not any(word in lowered_tail for word in _TRIGGER_WORDS):
        return None
    mapped = _map_text(content_html, tail_start)
    for pattern, marker in _PATTERNS:
        match = pattern.search(mapped.text)
        if match is None:
            continue
        # The last place a marker can start wins: a title may itself start like a marker.
        while (later := pattern.search(mapped.text, match.start("marker") + 1)) is not None:
            match = later
        site = match.group("site").strip(_SITE_TRIM)
        if not site or _DATE_LIKE.match(site):
            continue
        marker_start, site_start, site_end = match.start("marker"), match.start("site"), match.end("site")
        cut_end = match.end("punct") if match.end("punct") > site_end else site_end
        title_links: tuple[str, ...] = ()
        if "title" in pattern.groupindex and match.group("title"):
            title_links = tuple(mapped.links_within(match.start("title"), match.end("title")))
        return _Footer(
            marker=marker,
            html_start=mapped.html_start(marker_start),
            html_end=mapped.html_end(cut_end),
            site=site,
            site_links=tuple(mapped.links_within(site_start, site_end)),
            title_links=title_links,
            footer_links=tuple(mapped.links_within(marker_start, site_end)),
        )
    return None


def _first_http(urls: tuple[str, ...]) -> str | None:
    found = next((url for url in urls if is_http_url(url)), None)
    return canonical_url(found) if found is not None else None


def _lookup_domain(domain: str, known_sources: Mapping[str, str]) -> str | None:
    """Source id of `domain` or of its closest parent domain in `known_sources`."""
    labels = domain.lower().split(".")
    for index in range(len(labels) - 1):
        found = known_sources.get(".".join(labels[index:]))
        if found is not None:
            return found
    return None


def _lookup_name(name: str, known_sources: Mapping[str, str]) -> str | None:
    key = " ".join(name.lower().split())
    found = known_sources.get(key)
    if found is None and key.startswith("the "):
        found = known_sources.get(key[4:])
    return found


def _domain_of_source(source_id: str, known_sources: Mapping[str, str]) -> str | None:
    for key, value in known_sources.items():
        if value == source_id and _DOMAIN_LIKE.match(key):
            return site_domain(key)
    return None


def _feed_host_domain(url: str) -> str:
    domain = site_domain(url)
    for prefix in _FEED_HOST_PREFIXES:
        if domain.startswith(prefix) and domain.count(".") >= 2:
            return domain[len(prefix) :]
    return domain


def _is_own_site(domain: str, source_id: str | None, link: str, known_sources: Mapping[str, str]) -> bool:
    link_domain = site_domain(link)
    if same_site(domain, link_domain):
        return True
    return source_id is not None and source_id == _lookup_domain(link_domain, known_sources)


def _footer_attribution(footer: _Footer, known_sources: Mapping[str, str]) -> Attribution | None:
    site_is_domain = bool(_DOMAIN_LIKE.match(footer.site))
    site_url = _first_http(footer.site_links)
    if footer.marker == MARKER_APPEARED_FIRST:
        original_url = _first_http(footer.title_links)
    else:
        original_url = site_url or _first_http(footer.footer_links)
    name = None if site_is_domain else footer.site

    domain = ""
    if site_is_domain:
        domain = site_domain(footer.site)
    elif site_url:
        domain = site_domain(site_url)
    elif original_url:
        domain = site_domain(original_url)

    source_id = _lookup_domain(domain, known_sources) if domain else None
    if source_id is None and name:
        source_id = _lookup_name(name, known_sources)
    if not domain and source_id is not None:
        domain = _domain_of_source(source_id, known_sources) or ""
    if not domain and name:
        if len(name.split()) > _MAX_NAME_WORDS:
            return None  # a clause, not a site name: nothing creditable
        domain = name
    if not domain:
        return None
    return Attribution(
        original_url=original_url,
        original_domain=domain,
        original_name=name,
        original_source_id=source_id,
        marker=footer.marker,
    )


def _is_feed_proxy(link: str) -> bool:
    return site_domain(link) in _FEED_PROXY_HOSTS or "/~r/" in link


def _declared_attribution(
    *,
    link: str,
    declared_source_url: str | None,
    declared_source_name: str | None,
    orig_link: str | None,
    known_sources: Mapping[str, str],
) -> Attribution | None:
    if orig_link and is_http_url(orig_link) and not _is_feed_proxy(link):
        domain = site_domain(orig_link)
        source_id = _lookup_domain(domain, known_sources)
        if not _is_own_site(domain, source_id, link, known_sources):
            return Attribution(
                original_url=canonical_url(orig_link),
                original_domain=domain,
                original_name=None,
                original_source_id=source_id,
                marker=MARKER_FEEDBURNER_ORIGLINK,
            )
    name = " ".join(declared_source_name.split()) if declared_source_name else None
    if declared_source_url and is_http_url(declared_source_url):
        domain = _feed_host_domain(declared_source_url)
        source_id = _lookup_domain(domain, known_sources)
        if source_id is None and name:
            source_id = _lookup_name(name, known_sources)
        if _is_own_site(domain, source_id, link, known_sources):
            return None
        # <source url> names the publisher's channel (feed or home page), not the article.
        return Attribution(
            original_url=None,
            original_domain=domain,
            original_name=name or None,
            original_source_id=source_id,
            marker=MARKER_RSS_SOURCE,
        )
    if name:
        source_id = _lookup_name(name, known_sources)
        if source_id is None:
            return None
        domain = _domain_of_source(source_id, known_sources) or ""
        if not domain or _is_own_site(domain, source_id, link, known_sources):
            return None
        return Attribution(
            original_url=None,
            original_domain=domain,
            original_name=name,
            original_source_id=source_id,
            marker=MARKER_RSS_SOURCE,
        )
    return None


def extract_attribution(
    content_html: str,
    *,
    link: str,
    declared_source_url: str | None,
    declared_source_name: str | None,
    orig_link: str | None,
    known_sources: Mapping[str, str],
) -> tuple[str, Attribution | None]:
    """(content without its attribution footer, who published it first or None); see module rules."""
    footer = _find_footer(content_html) if content_html else None
    if footer is not None:
        stripped = _cut(content_html, footer.html_start, footer.html_end)
        attribution = _footer_attribution(footer, known_sources)
        if attribution is not None and _is_own_site(
            attribution.original_domain, attribution.original_source_id, link, known_sources
        ):
            attribution = None
        return stripped, attribution
    return content_html, _declared_attribution(
        link=link,
        declared_source_url=declared_source_url,
        declared_source_name=declared_source_name,
        orig_link=orig_link,
        known_sources=known_sources,
    )

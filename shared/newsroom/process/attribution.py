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
   - "This article first appeared on|at|in <site>" (`originally-published`).
   - "Republished with permission from <site>", "This article is republished from <site>" and
     "<site>, republished with permission" (`republished`).
   A marker only counts where a sentence or block can start: at the start of the content or of
   a block, after sentence punctuation (including "[…]" and a missing space:
   "possession.The post"), or right after a "Read More" / "Continue reading" link. Case,
   whitespace and inline markup around and inside the marker do not matter.
2. Loose markers, weaker evidence, so held to more: "Source: <site>" opening the final block,
   or "(via <site>)" / "Via <site>" ending it (`source-line`). They count only when the site is a
   domain, carries a link, or is one of our sources by name; otherwise ("Source: CoinGecko data"
   under a chart) the content is left exactly as it was.
3. A `<link rel="canonical">` or a `<meta name="syndication-source|original-source">` inside
   the content (`canonical-link`, `syndication-source`), when it points at another site.
4. Otherwise the feed's declarations: feedburner:origLink (`feedburner-origlink`) when it is on
   another site than the entry link and the entry link is not a feed-proxy redirect (FeedBurner's
   `/~r/` links point at the publisher's own origLink: same publisher, no attribution); then the
   RSS/Atom `<source>` or `dc:source` (`rss-source`): a channel URL (home page or feed) gives the
   publisher's domain, an article URL (as `dc:source` usually holds) is also the original URL;
   a `<source>` name alone counts when it is one of our sources.
5. Last, an aggregator redirect link (Google's `/url?q=…`, as in Google Alerts) as the entry
   link: the target is the publisher's article (`aggregator-redirect`).

`strip_source_suffix` removes the " - CoinDesk" that Google News appends to a headline when the
entry declares CoinDesk as its source.

The site named in a footer becomes `original_domain` through `urls.site_domain`: from the site
text when it is a domain, else from the link on it, else from another link in the footer, else
from `known_sources` (a name or alias mapped to a source id, whose domain alias then gives the
domain). A site known only by an unknown name keeps that name as `original_name` and, for want of
a domain, as `original_domain`, so the credit line still names it. `original_source_id` is set
when the domain (or a parent domain) or the name is in `known_sources`.

A marker naming the copy's own site (same domain or subdomain, or the same known source) is not
attribution: the footer is still removed and None returned. Only the marker itself is removed
from the HTML: an element left empty by the removal goes too, everything else stays as it was.

The site named in a footer is plain text (`html.plain_text`): markup spelled out in entities
there names no site. A footer link is the original's URL only when it is http(s) and on the
named site: "Read original article on coindesk.com" linking another site (or `javascript:`)
keeps the name and drops the link, so the story is not keyed on a URL the footer's text denies.

`urls.credit` is the rule every output's credit line follows: the site it names and the link it
carries are the same site, and the link is http(s) — the original's URL when it is on the
original's site, else the original's home page when its name is a host name, else (an original
known only by a name that is no host) the page the story was found on, named by its own domain.
"""

from __future__ import annotations

import bisect
import functools
import html as html_module
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from newsroom.core.html import plain_text
from newsroom.core.models import Attribution
from newsroom.core.urls import (
    canonical_url,
    is_host_name,
    is_http_url,
    resolve_aggregator_redirect,
    same_site,
    site_domain,
)

MARKER_READ_ORIGINAL = "read-original-footer"
MARKER_APPEARED_FIRST = "appeared-first"
MARKER_ORIGINALLY_PUBLISHED = "originally-published"
MARKER_FEEDBURNER_ORIGLINK = "feedburner-origlink"
MARKER_RSS_SOURCE = "rss-source"
MARKER_REPUBLISHED = "republished"
MARKER_SOURCE_LINE = "source-line"
MARKER_CANONICAL_LINK = "canonical-link"
MARKER_SYNDICATION_SOURCE = "syndication-source"
MARKER_AGGREGATOR_REDIRECT = "aggregator-redirect"

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
    r"(?:\A|(?<=[\n.!?…\])\"”’'»→:;|])|(?<=more)|(?<=reading))"
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
    rf"|originally{_GAP}published"
    rf"|(?:this|the){_GAP}(?:article|story|piece){_GAP}(?:originally|first){_GAP}appeared){_GAP}(?:on|at|in)",
)
_REPUBLISHED = _marker(
    rf"(?:(?:this|the){_GAP}(?:article|story|post|piece){_GAP}(?:is|was|has{_GAP}been){_GAP})?"
    rf"(?:republished|reprinted)(?:{_GAP}here)?(?:{_GAP}with(?:{_GAP}the)?{_GAP}permission)?{_GAP}(?:from|of)",
)
# "<site>, republished with permission." — the site comes first, at the start of the final block.
_REPUBLISHED_AFTER_SITE = re.compile(
    rf"(?:\A|(?<=\n))[^\S\n]*(?P<marker>(?:first{_GAP}published{_GAP}(?:by|on|at|in){_GAP})?"
    rf"(?P<site>[^\n]{{1,160}}?)[^\S\n]*[,;:.–—-]?[^\S\n]*(?:and{_GAP})?(?:is{_GAP}|was{_GAP})?"
    rf"(?:republished|reprinted){_GAP}(?:here{_GAP})?with(?:{_GAP}the)?{_GAP}permission)" + _END,
    re.IGNORECASE,
)
# Loose markers: "Source: <site>" opening the final block, "(via <site>)" or "Via <site>" ending it.
_SOURCE_LINE = re.compile(
    r"(?:\A|(?<=\n))[^\S\n]*(?P<marker>(?:source|via|h/t)[^\S\n]*:[^\S\n]*" + _SITE + ")" + _END,
    re.IGNORECASE,
)
_VIA = re.compile(
    rf"(?P<marker>(?:\(|(?:\A|(?<=\n))[^\S\n]*)via{_GAP}(?P<site>[^\n()]{{1,80}}?)[^\S\n]*\)?)" + _END,
    re.IGNORECASE,
)
_PATTERNS = (
    (_READ_ORIGINAL, MARKER_READ_ORIGINAL),
    (_APPEARED_FIRST, MARKER_APPEARED_FIRST),
    (_ORIGINALLY_PUBLISHED, MARKER_ORIGINALLY_PUBLISHED),
    (_REPUBLISHED, MARKER_REPUBLISHED),
    (_REPUBLISHED_AFTER_SITE, MARKER_REPUBLISHED),
)
_LOOSE_PATTERNS = (
    (_SOURCE_LINE, MARKER_SOURCE_LINE),
    (_VIA, MARKER_SOURCE_LINE),
)
# Cheap gates: no footer can match without one of these words.
_TRIGGER_WORDS = ("original", "appeared", "republished", "reprinted")
_LOOSE_TRIGGER_WORDS = ("source", "via", "h/t")
# Loose markers live in the final block: only this much of the end is checked for their words
# before the (costlier) text mapping runs, so "Source: CoinGecko data" captions mid-article
# cost nothing.
_LOOSE_TAIL_CHARS = 600

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


def _footers(
    content_html: str,
    patterns: tuple[tuple[re.Pattern[str], str], ...],
    triggers: tuple[str, ...],
) -> Iterator[_Footer]:
    """Each pattern's footer candidate at the end of `content_html`, in the patterns' order."""
    tail_start = max(0, len(content_html) - TAIL_CHARS)
    if tail_start:
        # Start on a tag boundary so a cut attribute is never read as text.
        boundary = content_html.find("<", tail_start)
        tail_start = boundary if boundary != -1 else tail_start
    lowered_tail = content_html[tail_start:].lower()
    if not any(word in lowered_tail for word in triggers):
        return
    mapped = _map_text(content_html, tail_start)
    for pattern, marker in patterns:
        match = pattern.search(mapped.text)
        if match is None:
            continue
        # The last place a marker can start wins: a title may itself start like a marker.
        while (later := pattern.search(mapped.text, match.start("marker") + 1)) is not None:
            match = later
        # The site is text a reader sees: entity-spelled markup there ("&lt;img onerror=…&gt;")
        # is reduced to its text, which is usually nothing.
        site = plain_text(match.group("site")).strip(_SITE_TRIM)
        if not site or _DATE_LIKE.match(site):
            continue
        if pattern is _REPUBLISHED_AFTER_SITE and len(site.split()) > _MAX_NAME_WORDS:
            continue  # "… the figures were reprinted with permission": a sentence, not a credit
        marker_start, site_start, site_end = match.start("marker"), match.start("site"), match.end("site")
        cut_end = max(match.end("marker"), match.end("punct"))
        if match.group("marker").endswith(")"):
            cut_end = match.end("marker")  # "… on Monday (via CoinDesk)." keeps its full stop
        title_links: tuple[str, ...] = ()
        if "title" in pattern.groupindex and match.group("title"):
            title_links = tuple(mapped.links_within(match.start("title"), match.end("title")))
        yield _Footer(
            marker=marker,
            html_start=mapped.html_start(marker_start),
            html_end=mapped.html_end(cut_end),
            site=site,
            site_links=tuple(mapped.links_within(site_start, site_end)),
            title_links=title_links,
            footer_links=tuple(mapped.links_within(marker_start, cut_end)),
        )


def _find_footer(content_html: str) -> _Footer | None:
    return next(_footers(content_html, _PATTERNS, _TRIGGER_WORDS), None)


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
    if original_url and is_host_name(domain) and not same_site(site_domain(original_url), domain):
        original_url = None  # the link goes elsewhere than the site the footer names
    return Attribution(
        original_url=original_url,
        original_domain=domain,
        original_name=name,
        original_source_id=source_id,
        marker=footer.marker,
    )


_CHANNEL_PATH = re.compile(
    r"(?:^/?$|(?:^|/)(?:feeds?|rss|atom)(?:/[\w.-]*)?/?$|(?:^|/)index\.\w+$|\.(?:xml|rss|atom|rdf)$)", re.IGNORECASE
)


def _is_channel_url(url: str) -> bool:
    """Whether a declared source URL names a site or feed rather than one article."""
    try:
        path = urlsplit(url.strip()).path
    except ValueError:
        return True
    return bool(_CHANNEL_PATH.search(path))


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
        # <source url> names the publisher's channel (feed or home page); dc:source and some
        # aggregators name the article itself, which is then the original's URL.
        return Attribution(
            original_url=None if _is_channel_url(declared_source_url) else canonical_url(declared_source_url),
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


# --- loose markers, in-content declarations, redirects --------------------------------------

# A "Source:" line naming data rather than a publisher ("Source: CoinGecko data", "Source: company
# filings") is a caption, never a credit.
_NOT_A_PUBLISHER = re.compile(
    r"\b(?:data|chart|charts|figures|estimates?|calculations?|research|analysis|filings?|statistics"
    r"|survey|prices?|index|indices|graph|table|image|photo|screenshot|twitter|x\.com|tradingview)\b",
    re.IGNORECASE,
)
_LOOSE_MAX_WORDS = 4


def _loose_attribution(footer: _Footer, known_sources: Mapping[str, str]) -> Attribution | None:
    """A loose marker's credit, only when the site resolves to a domain or one of our sources."""
    site = footer.site
    if _NOT_A_PUBLISHER.search(site) or len(site.split()) > _LOOSE_MAX_WORDS:
        return None
    resolvable = (
        bool(_DOMAIN_LIKE.match(site))
        or _first_http(footer.site_links) is not None
        or _lookup_name(site, known_sources) is not None
    )
    return _footer_attribution(footer, known_sources) if resolvable else None


_CANONICAL_LINK = re.compile(r"<link\b[^>]*\brel\s*=\s*[\"']?canonical\b[^>]*>", re.IGNORECASE)
_SOURCE_META = re.compile(
    r"<meta\b[^>]*\b(?:name|property)\s*=\s*[\"']?(?:syndication-source|original-source)\b[^>]*>",
    re.IGNORECASE,
)
_META_CONTENT = re.compile(r"""\bcontent\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)


def _attribute(tag: str, pattern: re.Pattern[str]) -> str | None:
    found = pattern.search(tag)
    if found is None:
        return None
    return html_module.unescape(next(group for group in found.groups() if group is not None)).strip()


def _embedded_attribution(content_html: str, *, link: str, known_sources: Mapping[str, str]) -> Attribution | None:
    """A canonical link or syndication-source/original-source meta tag pasted into the content."""
    if "<link" not in content_html and "<meta" not in content_html and "<LINK" not in content_html:
        return None
    for pattern, attribute, marker in (
        (_SOURCE_META, _META_CONTENT, MARKER_SYNDICATION_SOURCE),
        (_CANONICAL_LINK, _HREF, MARKER_CANONICAL_LINK),
    ):
        for tag in pattern.finditer(content_html):
            url = _attribute(tag.group(), attribute)
            if not url or not is_http_url(url):
                continue
            domain = site_domain(url)
            source_id = _lookup_domain(domain, known_sources)
            if _is_own_site(domain, source_id, link, known_sources):
                return None  # the copy's own canonical: it is the original
            return Attribution(
                original_url=canonical_url(url),
                original_domain=domain,
                original_name=None,
                original_source_id=source_id,
                marker=marker,
            )
    return None


def _redirect_attribution(link: str, known_sources: Mapping[str, str]) -> Attribution | None:
    target = resolve_aggregator_redirect(link)
    if target == link:
        return None
    domain = site_domain(target)
    return Attribution(
        original_url=canonical_url(target),
        original_domain=domain,
        original_name=None,
        original_source_id=_lookup_domain(domain, known_sources),
        marker=MARKER_AGGREGATOR_REDIRECT,
    )


_SUFFIX_SEPARATORS = (" - ", " – ", " — ", " | ")


def strip_source_suffix(title: str, source_name: str | None) -> str:
    """`title` without the " - <source>" Google News appends ("ETF Wins Approval - CoinDesk")."""
    name = " ".join((source_name or "").split())
    if not name:
        return title
    folded, folded_name = title.casefold(), name.casefold()
    for separator in _SUFFIX_SEPARATORS:
        if folded.endswith(separator + folded_name):
            stripped = title[: len(title) - len(separator) - len(name)].rstrip()
            return stripped or title
    return title


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
    if content_html:
        loose_tail = content_html[-_LOOSE_TAIL_CHARS:].lower()
        loose_footers = (
            _footers(content_html, _LOOSE_PATTERNS, _LOOSE_TRIGGER_WORDS)
            if any(word in loose_tail for word in _LOOSE_TRIGGER_WORDS)
            else iter(())
        )
        for loose in loose_footers:
            attribution = _loose_attribution(loose, known_sources)
            if attribution is None:
                continue  # unresolvable: a caption or a mention, and the content stays as it was
            stripped = _cut(content_html, loose.html_start, loose.html_end)
            if _is_own_site(attribution.original_domain, attribution.original_source_id, link, known_sources):
                return stripped, None
            return stripped, attribution
        embedded = _embedded_attribution(content_html, link=link, known_sources=known_sources)
        if embedded is not None:
            return content_html, embedded
    declared = _declared_attribution(
        link=link,
        declared_source_url=declared_source_url,
        declared_source_name=declared_source_name,
        orig_link=orig_link,
        known_sources=known_sources,
    )
    return content_html, declared or _redirect_attribution(link, known_sources)

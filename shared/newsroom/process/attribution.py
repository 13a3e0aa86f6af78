"""Who published a story first, read from the copy we hold.

Aggregators republish other sites' stories and say so at the very end of the body, or the feed
declares it. `extract_attribution` finds that credit and removes the footer from the HTML. The
scan of the HTML's tail and the cut are `footer_scan`; the marker patterns are `attribution_data`.

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

import html as html_module
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from newsroom.core.models import Attribution
from newsroom.core.urls import (
    canonical_url,
    is_host_name,
    is_http_url,
    resolve_aggregator_redirect,
    same_site,
    site_domain,
)
from newsroom.process.attribution_data import (
    CANONICAL_REL,
    CHANNEL_PATH,
    DOMAIN_LIKE,
    FEED_HOST_PREFIXES,
    FEED_PROXY_HOSTS,
    HREF,
    LINK_TAG,
    LOOSE_MAX_WORDS,
    LOOSE_PATTERNS,
    LOOSE_TAIL_CHARS,
    LOOSE_TRIGGER_WORDS,
    MARKER_AGGREGATOR_REDIRECT,
    MARKER_APPEARED_FIRST,
    MARKER_CANONICAL_LINK,
    MARKER_FEEDBURNER_ORIGLINK,
    MARKER_RSS_SOURCE,
    MARKER_SYNDICATION_SOURCE,
    MAX_NAME_WORDS,
    META_CONTENT,
    META_TAG,
    NOT_A_PUBLISHER,
    PATTERNS,
    SOURCE_NAME,
    SUFFIX_SEPARATORS,
    TRIGGER_WORDS,
)
from newsroom.process.footer_scan import Footer, cut, footers

__all__ = ["extract_attribution", "strip_source_suffix"]


def _find_footer(content_html: str) -> Footer | None:
    return next(footers(content_html, PATTERNS, TRIGGER_WORDS), None)


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
        if value == source_id and DOMAIN_LIKE.match(key):
            return site_domain(key)
    return None


def _feed_host_domain(url: str) -> str:
    domain = site_domain(url)
    for prefix in FEED_HOST_PREFIXES:
        if domain.startswith(prefix) and domain.count(".") >= 2:
            return domain[len(prefix) :]
    return domain


def _is_own_site(domain: str, source_id: str | None, link: str, known_sources: Mapping[str, str]) -> bool:
    link_domain = site_domain(link)
    if same_site(domain, link_domain):
        return True
    return source_id is not None and source_id == _lookup_domain(link_domain, known_sources)


def _footer_attribution(footer: Footer, known_sources: Mapping[str, str]) -> Attribution | None:
    site_is_domain = bool(DOMAIN_LIKE.match(footer.site))
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
        if len(name.split()) > MAX_NAME_WORDS:
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


def _is_channel_url(url: str) -> bool:
    """Whether a declared source URL names a site or feed rather than one article."""
    try:
        path = urlsplit(url.strip()).path
    except ValueError:
        return True
    return bool(CHANNEL_PATH.search(path))


def _is_feed_proxy(link: str) -> bool:
    return site_domain(link) in FEED_PROXY_HOSTS or "/~r/" in link


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


def _loose_attribution(footer: Footer, known_sources: Mapping[str, str]) -> Attribution | None:
    """A loose marker's credit, only when the site resolves to a domain or one of our sources."""
    site = footer.site
    if NOT_A_PUBLISHER.search(site) or len(site.split()) > LOOSE_MAX_WORDS:
        return None
    resolvable = (
        bool(DOMAIN_LIKE.match(site))
        or _first_http(footer.site_links) is not None
        or _lookup_name(site, known_sources) is not None
    )
    return _footer_attribution(footer, known_sources) if resolvable else None


def _attribute(tag: str, pattern: re.Pattern[str]) -> str | None:
    found = pattern.search(tag)
    if found is None:
        return None
    return html_module.unescape(next(group for group in found.groups() if group is not None)).strip()


def _embedded_attribution(content_html: str, *, link: str, known_sources: Mapping[str, str]) -> Attribution | None:
    """A canonical link or syndication-source/original-source meta tag pasted into the content."""
    if "<link" not in content_html and "<meta" not in content_html and "<LINK" not in content_html:
        return None
    for tags, naming, attribute, marker in (
        (META_TAG, SOURCE_NAME, META_CONTENT, MARKER_SYNDICATION_SOURCE),
        (LINK_TAG, CANONICAL_REL, HREF, MARKER_CANONICAL_LINK),
    ):
        for tag in tags.finditer(content_html):
            if naming.search(tag.group()) is None:
                continue
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


def strip_source_suffix(title: str, source_name: str | None) -> str:
    """`title` without the " - <source>" Google News appends ("ETF Wins Approval - CoinDesk")."""
    name = " ".join((source_name or "").split())
    if not name:
        return title
    folded, folded_name = title.casefold(), name.casefold()
    for separator in SUFFIX_SEPARATORS:
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
        stripped = cut(content_html, footer.html_start, footer.html_end)
        attribution = _footer_attribution(footer, known_sources)
        if attribution is not None and _is_own_site(
            attribution.original_domain, attribution.original_source_id, link, known_sources
        ):
            attribution = None
        return stripped, attribution
    if content_html:
        loose_tail = content_html[-LOOSE_TAIL_CHARS:].lower()
        loose_footers = (
            footers(content_html, LOOSE_PATTERNS, LOOSE_TRIGGER_WORDS)
            if any(word in loose_tail for word in LOOSE_TRIGGER_WORDS)
            else iter(())
        )
        for loose in loose_footers:
            attribution = _loose_attribution(loose, known_sources)
            if attribution is None:
                continue  # unresolvable: a caption or a mention, and the content stays as it was
            stripped = cut(content_html, loose.html_start, loose.html_end)
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

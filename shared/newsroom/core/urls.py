"""URL rules: one canonical spelling per article, stable ids, and the site a URL belongs to.

Rules:

- `canonical_url` is what we de-duplicate and key articles on. It lower-cases the scheme and the
  host, drops the default port (80 for http, 443 for https), the fragment and tracking parameters
  (`utm_*` and the click/campaign ids in `TRACKING_PARAMETERS`), keeps every other query parameter
  byte-for-byte and in its original order, and spells an empty path as `/`. Anything that is not
  an http(s) URL with a host comes back as the stripped input: garbage in must not crash a run.
- `article_id` is the first 20 hex characters (80 bits) of the SHA-256 of the canonical URL: stable
  across runs and machines, short enough for a URL path, and collision-free at any realistic
  article count.
- `site_domain` is the host without a leading `www.`, lower-cased: what a reader is told a story
  came from.
- `credit` is the (site, link) pair of a credit line: always one site, always http(s).
- `resolve_aggregator_redirect` unwraps Google's `/url?url=…` (or `?q=…`) redirect links, as found
  in Google Alerts feeds, so the article is keyed on the publisher's URL.

Everything here is pure and uses only `urllib.parse`: these run for every entry of every feed.
"""

from __future__ import annotations

import functools
import hashlib
import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote_plus, urlparse, urlsplit, urlunsplit

if TYPE_CHECKING:
    from newsroom.core.models import Attribution

ARTICLE_ID_LENGTH = 20

# Parameters that identify a click, campaign or mailing rather than the document.
TRACKING_PARAMETERS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "ref_src",
        "ref_url",
        "_hsenc",
        "_hsmi",
        "__hssc",
        "__hstc",
        "__hsfp",
        "hsctatracking",
        "yclid",
        "spm",
        "scm",
        "_ga",
        "_gl",
        "twclid",
        "ttclid",
        "li_fat_id",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "wickedid",
        "srsltid",
        "guccounter",
        "guce_referrer",
        "guce_referrer_sig",
        "at_medium",
        "at_campaign",
        "wprss",  # The Washington Post's feed tag
        "cmpid",
    }
)
_TRACKING_PREFIXES = ("utm_",)

_DEFAULT_PORTS = {"http": 80, "https": 443}
_HTTP_SCHEMES = frozenset(_DEFAULT_PORTS)

# An absolute http(s) URL that `urljoin` hands back as it is, whatever the base: a lower-case
# scheme, a plain host (and port), then a path, query and fragment of characters that urlparse
# and urlunparse keep as they are (no ";" parameters, no empty "?" or "#", no whitespace or
# controls, no backslash). Most links in feeds are such URLs, and joining and splitting one costs
# ~10 µs, several times an entry (exact against the join on every URL-like string of the corpus
# and generated ones: tests/fetch/test_feeds.py::test_a_plain_http_url_maps_as_the_join_maps_it).
_URL_CHARS = r"A-Za-z0-9\-._~%!$&'()*+,=:@/"
PLAIN_HTTP_URL = re.compile(
    rf"https?://[A-Za-z0-9.-]*[A-Za-z0-9](?::[0-9]+)?(?:/[{_URL_CHARS}]*)?"
    rf"(?:\?[{_URL_CHARS}?]+)?(?:#[{_URL_CHARS}?]+)?"
)


@functools.lru_cache(maxsize=256)
def _parses(base: str) -> bool:
    try:
        urlparse(base)
    except ValueError:  # e.g. "http://[::1": urljoin raises on such a base
        return False
    return True


def joins_to_itself(url: str, base: str) -> bool:
    """Whether `urljoin(base, url)` is `url`, known without joining: a plain http(s) URL under a
    base urljoin can read."""
    return PLAIN_HTTP_URL.fullmatch(url) is not None and _parses(base)


# google.com, google.co.uk, google.com.au, ... (any host whose label before the TLD part is google)
_GOOGLE_HOST = re.compile(r"^(?:www\.)?google(?:\.[a-z]{2,3}){1,2}$")
_REDIRECT_TARGET_PARAMETERS = ("url", "q")


def _is_tracking(raw_name: str) -> bool:
    name = unquote_plus(raw_name).strip().lower()
    return name in TRACKING_PARAMETERS or name.startswith(_TRACKING_PREFIXES)


def _clean_query(query: str) -> str:
    kept = [part for part in query.split("&") if part and not _is_tracking(part.split("=", 1)[0])]
    return "&".join(kept)


def canonical_url(url: str) -> str:
    """The one spelling of `url` we store and key on (see the module rules)."""
    stripped = url.strip()
    try:
        parts = urlsplit(stripped)
        scheme = parts.scheme.lower()
        host = parts.hostname  # already lower-cased, brackets removed from IPv6 literals
        port = parts.port  # raises ValueError on a non-numeric or out-of-range port
    except ValueError:
        return stripped
    if scheme not in _HTTP_SCHEMES or not host:
        return stripped
    host = host.rstrip(".")
    if not host:
        return stripped
    if ":" in host:
        host = f"[{host}]"
    netloc = host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    if userinfo:
        netloc = f"{userinfo}@{netloc}"
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, _clean_query(parts.query), ""))


def article_id(canonical: str) -> str:
    """Stable id of an article: the first 20 hex chars of SHA-256 over its canonical URL (UTF-8)."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:ARTICLE_ID_LENGTH]


def _host(url: str) -> str:
    text = url.strip()
    if "://" not in text and not text.startswith("//"):
        text = "//" + text  # a bare "www.example.com/x" still names a host
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return ""
    return (host or "").rstrip(".")


def site_domain(url: str) -> str:
    """The host of `url`, lower-cased, without a leading `www.`; "" when there is none."""
    host = _host(url)
    return host.removeprefix("www.")


def same_site(domain_a: str, domain_b: str) -> bool:
    """Whether two `site_domain` values name the same site (equal, or one a subdomain of the other)."""
    if not domain_a or not domain_b:
        return False
    return domain_a == domain_b or domain_a.endswith("." + domain_b) or domain_b.endswith("." + domain_a)


def is_http_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip())
        return parts.scheme.lower() in _HTTP_SCHEMES and bool(parts.hostname)
    except ValueError:
        return False


def resolve_aggregator_redirect(url: str) -> str:
    """The target of a Google `/url?url=…` / `/url?q=…` redirect; any other URL unchanged."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return url
    if parts.path != "/url" or not _GOOGLE_HOST.match(host):
        return url
    # Feeds sometimes arrive with the ampersands still escaped.
    parameters: dict[str, str] = {}
    for name, value in parse_qsl(parts.query.replace("&amp;", "&")):
        parameters.setdefault(name, value)
    for name in _REDIRECT_TARGET_PARAMETERS:
        target = parameters.get(name, "").strip()
        if target and is_http_url(target):
            return target
    return url


# A host name: dot-separated labels of letters, digits and inner hyphens (IDN labels too).
_HOST_NAME = re.compile(r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_][\w-]{0,62}")


def is_host_name(name: str) -> bool:
    """Whether `name` is a host name ("coindesk.com"), not a publication's name ("The Block")."""
    return bool(_HOST_NAME.fullmatch(name)) and "_" not in name


def credit(page_url: str, attribution: Attribution | None) -> tuple[str, str]:
    """(the site a credit line names, the http(s) URL it links), always one site: the original's
    URL when it is on the original's site, else the original's home page when its name is a host
    name, else the page the story was found on (see `attribution`'s module rules)."""
    if attribution is not None and is_host_name(attribution.original_domain):
        domain = attribution.original_domain
        url = attribution.original_url
        if url and is_http_url(url) and same_site(site_domain(url), domain.lower()):
            return domain, url
        return domain, f"https://{domain}/"
    return site_domain(page_url), page_url

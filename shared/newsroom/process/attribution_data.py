"""The patterns attribution reads: the marker names, the footer markers (over the text a reader
sees at the end of the content), the loose markers and their gates, what a date or a domain
looks like, and the tags and URL shapes of in-content and feed declarations. Data only; the
scan is `footer_scan`, the rules `attribution`."""

from __future__ import annotations

import re

# The `marker` of an Attribution: which rule found the credit (stable: stored and counted).
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


# --- footer markers (over the text a reader sees at the end of the content) ------------------

_GAP = r"[^\S\n]+"
_START = (
    r"(?:\A|(?<=[\n.!?…\])\"”’'»→:;|])|(?<=more)|(?<=reading))"
    r"[^\S\n]*"
)
_SITE = r"(?P<site>[^\n]{1,160}?)"
# The lookahead says at once, in one pass, whether only non-word characters follow; without it a
# site followed by a run of spaces and a word made `re` try every split of the run between the
# stars, for every length of the lazy site: 20 s a search on a 4,000-character tail of spaces,
# which a feed controls. It admits exactly the strings the rest matches, and then the greedy
# stars' first try succeeds, so the groups are the ones found without it.
_END = r"(?=[^\w]*+\Z)(?P<punct>[^\S\n]*[.!。]*)[^\w]*\Z"


def _marker(body: str) -> re.Pattern[str]:
    return re.compile(_START + "(?P<marker>" + body + _GAP + _SITE + ")" + _END, re.IGNORECASE)


_READ_ORIGINAL = _marker(
    rf"read{_GAP}(?:the{_GAP})?original{_GAP}(?:article|story){_GAP}(?:on|at)",
)
_APPEARED_FIRST = _marker(
    # Possessive runs of spaces (`*+`, `++`) around the title: with plain ones "The post" and a
    # run of thousands of spaces took `re` 30-45 s (the title's lazy end times the two runs'
    # splits). The run before "appeared" gives back nothing a letter could follow; the run
    # before the title gives back only a title of spaces, which the title's absence matches
    # instead (its one difference: such a title was a space, now none).
    rf"(?:the|this){_GAP}post(?:[^\S\n]*+(?P<title>[^\n]{{1,400}}?))?[^\S\n]++appeared{_GAP}first{_GAP}(?:on|at)",
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
# The space, punctuation, space after the site as one optional group, not two stars around an
# optional mark: the same strings, without a backtrack cubic in a run of spaces (seconds a search).
REPUBLISHED_AFTER_SITE = re.compile(
    rf"(?:\A|(?<=\n))[^\S\n]*(?P<marker>(?:first{_GAP}published{_GAP}(?:by|on|at|in){_GAP})?"
    rf"(?P<site>[^\n]{{1,160}}?)[^\S\n]*(?:[,;:.–—-][^\S\n]*)?(?:and{_GAP})?(?:is{_GAP}|was{_GAP})?"
    rf"(?:republished|reprinted){_GAP}(?:here{_GAP})?with(?:{_GAP}the)?{_GAP}permission)" + _END,
    re.IGNORECASE,
)
# Loose markers: "Source: <site>" opening the final block, "(via <site>)" or "Via <site>" ending it.
_SOURCE_LINE = re.compile(
    r"(?:\A|(?<=\n))[^\S\n]*(?P<marker>(?:source|via|h/t)[^\S\n]*:[^\S\n]*" + _SITE + ")" + _END,
    re.IGNORECASE,
)
_VIA = re.compile(
    rf"(?P<marker>(?:\(|(?:\A|(?<=\n))[^\S\n]*)via{_GAP}(?P<site>[^\n()]{{1,80}}?)(?=[^\w]*+\Z)[^\S\n]*\)?)" + _END,
    re.IGNORECASE,
)
PATTERNS = (
    (_READ_ORIGINAL, MARKER_READ_ORIGINAL),
    (_APPEARED_FIRST, MARKER_APPEARED_FIRST),
    (_ORIGINALLY_PUBLISHED, MARKER_ORIGINALLY_PUBLISHED),
    (_REPUBLISHED, MARKER_REPUBLISHED),
    (REPUBLISHED_AFTER_SITE, MARKER_REPUBLISHED),
)
LOOSE_PATTERNS = (
    (_SOURCE_LINE, MARKER_SOURCE_LINE),
    (_VIA, MARKER_SOURCE_LINE),
)
# Cheap gates: no footer can match without one of these words.
TRIGGER_WORDS = ("original", "appeared", "published", "reprinted")
LOOSE_TRIGGER_WORDS = ("source", "via", "h/t")
# Loose markers live in the final block: only this much of the end is checked for their words
# before the (costlier) text mapping runs, so "Source: CoinGecko data" captions mid-article
# cost nothing.
LOOSE_TAIL_CHARS = 600


# --- the site a marker names -----------------------------------------------------------------

_MONTHS_AND_DAYS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
)
# "May 3, 2024", "Monday", "3 May 2024", "2024-05-03", "03/05/2024"; not "99Bitcoins" or "0xResearch".
DATE_LIKE = re.compile(
    rf"(?:(?:{_MONTHS_AND_DAYS})\b\.?,?\s*(?:\d|\Z)"
    rf"|\d{{1,4}}(?:st|nd|rd|th)?[\s,./-]+(?:\d{{1,4}}|(?:{_MONTHS_AND_DAYS})\b)"
    r"|(?:today|yesterday)\b)",
    re.IGNORECASE,
)
DOMAIN_LIKE = re.compile(
    r"(?:https?://)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}(?::\d+)?(?:/\S*)?\Z",
    re.IGNORECASE,
)
SITE_TRIM = " \t\xa0\"'“”‘’«»()[]<>"
MAX_NAME_WORDS = 6


# A "Source:" line naming data rather than a publisher ("Source: CoinGecko data", "Source: company
# filings") is a caption, never a credit.
NOT_A_PUBLISHER = re.compile(
    r"\b(?:data|chart|charts|figures|estimates?|calculations?|research|analysis|filings?|statistics"
    r"|survey|prices?|index|indices|graph|table|image|photo|screenshot|twitter|x\.com|tradingview)\b",
    re.IGNORECASE,
)
LOOSE_MAX_WORDS = 4


# --- the tokeniser's tags (footer_scan) ------------------------------------------------------

HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
# Tags that end a line of the text a reader sees: a marker starts after one.
BLOCK_TAGS = frozenset(
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
# Elements that never close: a cut span holding one leaves nothing open.
VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)


# --- declarations in the content and in the feed ---------------------------------------------

# Tags pasted into the content that name the original: each tag found first, then its attribute
# searched within it. One pattern for both scanned from every keyword to the tag's end, so one
# unclosed tag repeating its keyword grew with the square (280 KB: 7 s, the outside review of
# 2026-12-03); before that, `[^>]` let a `<meta ` with no `>` scan to the end of the HTML from
# every start (40 KB: 2.8 s, the ReDoS audit). A tag holds no `<`: each scan stops at the next.
LINK_TAG = re.compile(r"<link\b[^<>]*>", re.IGNORECASE)
META_TAG = re.compile(r"<meta\b[^<>]*>", re.IGNORECASE)
CANONICAL_REL = re.compile(r"\brel\s*=\s*[\"']?canonical\b", re.IGNORECASE)
SOURCE_NAME = re.compile(r"\b(?:name|property)\s*=\s*[\"']?(?:syndication-source|original-source)\b", re.IGNORECASE)
META_CONTENT = re.compile(r"""\bcontent\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)

# FeedBurner-style proxies: their links point at the publisher's own origLink.
FEED_PROXY_HOSTS = frozenset({"feedproxy.google.com", "feeds.feedburner.com", "feeds.feedblitz.com"})
FEED_HOST_PREFIXES = ("feeds.", "feed.", "rss.")

# A declared source URL with such a path names a site or feed, not one article.
CHANNEL_PATH = re.compile(
    r"(?:^/?$|(?:^|/)(?:feeds?|rss|atom)(?:/[\w.-]*)?/?$|(?:^|/)index\.\w+$|\.(?:xml|rss|atom|rdf)$)", re.IGNORECASE
)

# Google News appends " - <source>" to a headline after one of these.
SUFFIX_SEPARATORS = (" - ", " – ", " — ", " | ")

"""Classify an article: its category and its kind. (The coins it is about are `coins`, its
language `language`; the term lists all of them read are `classify_data`.)

Every function here is pure and runs on every processed entry: the terms are found by
`terms.scan_article`, one pass over the text for category terms and coins together.

Rules, in short:

- `categorize` scores weighted keyword and phrase hits per `Category`: a hit in the title
  counts 3×, a hit in a feed tag 2×, a hit in the body 1× (at most `_MAX_HITS_PER_TERM` hits
  of one term in the body, so one word repeated all through a long article cannot carry
  it). The highest score wins. A tie that includes the hint goes to the hint; other ties go
  to the more specific category (`_TIE_ORDER`). Nothing scoring at all gives the hint, else
  Markets, the catch-all of a crypto news desk.
- `kind_of`: wire services and press-release tags give Press release; Opinion/Op-Ed/Column/
  Commentary tags or title prefixes give Opinion; Analysis/Market Analysis/Explainer tags give
  Analysis; otherwise the source's hint, else News.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from newsroom.core.models import Category, Kind
from newsroom.process.classify_data import (
    ANALYSIS_TAGS,
    OPINION_TAGS,
    PRESS_RELEASE_TAGS,
    TAG_CATEGORIES,
    WIRE_DOMAINS,
)
from newsroom.process.terms import TERM_CATEGORY, ArticleTerms, scan_article, scan_category_terms

__all__ = ["categorize", "category_scores", "kind_of"]


# --------------------------------------------------------------------------------------
# Category
# --------------------------------------------------------------------------------------

_TITLE_WEIGHT = 3.0
_TAG_WEIGHT = 2.0
_BODY_WEIGHT = 1.0
_MAX_HITS_PER_TERM = 3

# When two categories score the same and the hint is not among them, the narrower beat is
# the better label: a hack story that also mentions prices is a Security story.
_TIE_ORDER: tuple[Category, ...] = (
    Category.SECURITY,
    Category.POLICY,
    Category.DEFI,
    Category.TECHNOLOGY,
    Category.BUSINESS,
    Category.MARKETS,
)


def _add_hits(scores: dict[Category, float], names: tuple[str, ...], weight: float, cap: int) -> None:
    hits: dict[str, int] = {}
    for name in names:
        hits[name] = hits.get(name, 0) + 1
    for name, count in hits.items():
        category, term_weight = TERM_CATEGORY[name]
        scores[category] += term_weight * weight * min(count, cap)


def category_scores(
    title: str, text: str, feed_tags: Sequence[str] = (), *, terms: ArticleTerms | None = None
) -> dict[Category, float]:
    """Each category's score for an article; exposed for debugging and tests. `terms` is
    `terms.scan_article(title, text)` when the caller has it already (coins read it too)."""
    if terms is None:
        terms = scan_article(title, text)
    scores = dict.fromkeys(Category, 0.0)
    _add_hits(scores, terms.title_terms, _TITLE_WEIGHT, cap=_MAX_HITS_PER_TERM)
    _add_hits(scores, terms.text_terms, _BODY_WEIGHT, cap=_MAX_HITS_PER_TERM)
    for tag in feed_tags:
        # One tag votes at most once per category, however many terms it contains.
        tag_categories = {TERM_CATEGORY[name][0] for name in scan_category_terms(tag)}
        named = TAG_CATEGORIES.get(" ".join(tag.lower().split()))
        if named is not None:
            tag_categories.add(named)
        for category in tag_categories:
            scores[category] += _TAG_WEIGHT
    return scores


def categorize(
    title: str,
    text: str,
    *,
    feed_tags: Sequence[str] = (),
    hint: Category | None = None,
    terms: ArticleTerms | None = None,
) -> Category:
    """The article's section, by keyword scoring (see the module docstring for the rules)."""
    scores = category_scores(title, text, feed_tags, terms=terms)
    best = max(scores.values())
    if best <= 0:
        return hint if hint is not None else Category.MARKETS
    leaders = [category for category in _TIE_ORDER if scores[category] == best]
    if hint is not None and hint in leaders:
        return hint
    return leaders[0]


# --------------------------------------------------------------------------------------
# Kind
# --------------------------------------------------------------------------------------

_OPINION_TITLE = re.compile(r"^\s*(?:opinion|op-?ed|column|commentary)\s*[:|–—-]\s*", re.IGNORECASE)


def _normalized_tags(tags: Iterable[str]) -> set[str]:
    return {" ".join(tag.lower().split()) for tag in tags}


def _is_wire_domain(domain: str) -> bool:
    host = domain.strip().lower().rstrip(".")
    host = host.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return any(host == wire or host.endswith("." + wire) for wire in WIRE_DOMAINS)


def kind_of(
    *,
    source_kind_hint: Kind | None,
    feed_tags: Sequence[str],
    title: str,
    source_domain: str,
) -> Kind:
    """News, Press release, Opinion or Analysis (see the module docstring for the order)."""
    tags = _normalized_tags(feed_tags)
    if source_kind_hint is Kind.PRESS_RELEASE or _is_wire_domain(source_domain) or tags & PRESS_RELEASE_TAGS:
        return Kind.PRESS_RELEASE
    if tags & OPINION_TAGS or _OPINION_TITLE.match(title):
        return Kind.OPINION
    if tags & ANALYSIS_TAGS:
        return Kind.ANALYSIS
    return source_kind_hint if source_kind_hint is not None else Kind.NEWS

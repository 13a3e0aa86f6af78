"""Is a candidate the same story, and which of two sightings is the original?

`fingerprint` proposes candidates cheaply; this module decides, from the texts themselves, and
never merges on a hunch. Rules for `verify` (a copy is the same text republished, not another
outlet's coverage of the same event):

- Both texts need at least `fingerprint.MIN_WORDS` words: a headline and a sentence share too
  little to tell a copy from shared boilerplate.
- Another story from the **same source** under another URL is never a copy: a site does not
  syndicate itself, and its templated daily posts ("Bitcoin price today: …") share most of their
  words. (The same entry seen again is matched by URL or GUID before this.)
- Publication times at most `WINDOW` apart (the fingerprint index's matching window).
- Then by shingle overlap, where A and B are the two texts' sets of 4-word shingles:
  - near-duplicate: Jaccard |A∩B| / |A∪B| ≥ `MIN_JACCARD` (re-titled, lightly edited, an extra
    footer, a tracking URL);
  - excerpt: the shorter text is contained in the longer (|A∩B| / min(|A|, |B|) ≥
    `MIN_CONTAINMENT`) **and** starts like it: most of its first shingles (its lead) are in the
    other text. Shared boilerplate at the end of two short items is contained but is not a lead;
  - edited with its headline kept: containment ≥ `MIN_EDITED_CONTAINMENT` with similar titles
    (word Jaccard ≥ `MIN_TITLE_SIMILARITY`) and a shared lead.
  Independent reports of one event quote the same statements but share few 4-word runs: on the
  real crypto feeds such pairs stay under 0.1 containment.

`prefer_incoming` decides the original when two sightings meet (see its docstring).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from newsroom.core.models import Article, FingerprintClaims, HeldClaim, Source, SourceRole, StoredArticle
from newsroom.core.urls import canonical_url, same_site, site_domain
from newsroom.process.fingerprint import LEAD_SHINGLES, MIN_WORDS, SHINGLE_WORDS, Fingerprint, shingle_hashes, words_of

WINDOW = timedelta(days=7)
MIN_JACCARD = 0.5
MIN_CONTAINMENT = 0.8
MIN_EDITED_CONTAINMENT = 0.5
MIN_LEAD_OVERLAP = 0.4
MIN_TITLE_SIMILARITY = 0.5
# Below this many shingles (about 30 words) a text is short: stricter thresholds apply.
SHORT_SHINGLES = 27
SHORT_MIN_JACCARD = 0.5
SHORT_MIN_CONTAINMENT = 0.8
SHORT_VERBATIM = 0.9
SHORT_MIN_TITLE_SIMILARITY = 0.25
_MIN_SHINGLES = MIN_WORDS - SHINGLE_WORDS + 1
_MIN_LEAD = 6
_HEAD_SHINGLES = 3
_HEAD_WINDOW = 4


@dataclass(frozen=True, slots=True)
class Verdict:
    same_story: bool
    reason: str
    jaccard: float = 0.0
    containment: float = 0.0
    lead_overlap: float = 0.0
    title_similarity: float = 0.0


def title_similarity(a: str, b: str) -> float:
    """Word Jaccard of two headlines (case and punctuation ignored)."""
    words_a, words_b = set(words_of(a)), set(words_of(b))
    if not words_a or not words_b:
        return 0.0
    return len(words_a & words_b) / len(words_a | words_b)


def _lead_overlap(lead: list[int], other: frozenset[int]) -> float:
    if not lead:
        return 0.0
    return sum(1 for value in lead if value in other) / len(lead)


def verify(
    incoming: Article,
    candidate: Article,
    *,
    incoming_fingerprint: Fingerprint | None = None,
) -> Verdict:
    """Whether `candidate` (a stored story) is the same text as `incoming` (see module rules)."""
    if incoming.source_id == candidate.source_id and canonical_url(incoming.url) != canonical_url(candidate.url):
        return Verdict(False, "same-source")
    if abs(incoming.published - candidate.published) > WINDOW:
        return Verdict(False, "outside-window")
    mine = incoming_fingerprint.hashes if incoming_fingerprint is not None else None
    hashes_a = list(mine) if mine is not None else list(shingle_hashes(words_of(incoming.content_text)))
    hashes_b = list(shingle_hashes(words_of(candidate.content_text)))
    set_a, set_b = frozenset(hashes_a), frozenset(hashes_b)
    if len(set_a) < _MIN_SHINGLES or len(set_b) < _MIN_SHINGLES:
        return Verdict(False, "too-short")
    shared = len(set_a & set_b)
    jaccard = shared / len(set_a | set_b)
    containment = shared / min(len(set_a), len(set_b))
    # The lead of the shorter text (an excerpt is the start of its original): its first half at
    # most, so boilerplate appended to two short items never counts as a shared lead.
    shorter, other = (hashes_a, set_b) if len(set_a) <= len(set_b) else (hashes_b, set_a)
    longer = hashes_b if shorter is hashes_a else hashes_a
    lead_overlap = _lead_overlap(shorter[: min(LEAD_SHINGLES, max(_MIN_LEAD, len(shorter) // 2))], other)
    titles = title_similarity(incoming.title, candidate.title)
    scores = {
        "jaccard": jaccard,
        "containment": containment,
        "lead_overlap": lead_overlap,
        "title_similarity": titles,
    }
    if lead_overlap < MIN_LEAD_OVERLAP:
        return Verdict(False, "different-lead", **scores)
    # The two must start alike (the shorter's first words among the longer's first few), or
    # failing that share words in their headlines: a short item whose own sentence is followed by
    # a long shared footer has a "lead" made mostly of the footer, and a footer-only item is
    # contained in any other item carrying that footer.
    head = frozenset(longer[:_HEAD_WINDOW])
    if not any(value in head for value in shorter[:_HEAD_SHINGLES]) and titles < SHORT_MIN_TITLE_SIMILARITY:
        return Verdict(False, "different-start", **scores)
    if min(len(set_a), len(set_b)) < SHORT_SHINGLES:
        # A headline and a sentence or two: only a (nearly) verbatim copy counts.
        # Unless verbatim, the headlines must share something too: the words of an item that
        # is mostly a site's boilerplate say nothing about which story it is.
        if (jaccard >= SHORT_MIN_JACCARD or containment >= SHORT_MIN_CONTAINMENT) and (
            jaccard >= SHORT_VERBATIM or titles >= SHORT_MIN_TITLE_SIMILARITY
        ):
            return Verdict(True, "short-copy", **scores)
        return Verdict(False, "short-different", **scores)
    if jaccard >= MIN_JACCARD:
        return Verdict(True, "near-duplicate", **scores)
    if containment >= MIN_CONTAINMENT:
        return Verdict(True, "excerpt", **scores)
    if containment >= MIN_EDITED_CONTAINMENT and titles >= MIN_TITLE_SIMILARITY:
        return Verdict(True, "edited", **scores)
    return Verdict(False, "different-text", **scores)


def names(article: Article, other: Article) -> bool:
    """Whether `article`'s attribution points at `other` (by URL, source or site)."""
    credit = article.attribution
    if credit is None:
        return False
    if credit.original_url and credit.original_url in (other.canonical_url, canonical_url(other.url)):
        return True
    if credit.original_source_id is not None and credit.original_source_id == other.source_id:
        return True
    return same_site(credit.original_domain, site_domain(other.url))


def _role(article: Article, sources: Mapping[str, Source]) -> SourceRole:
    source = sources.get(article.source_id)
    return source.role if source is not None else SourceRole.ORIGINAL


def prefer_incoming(existing: Article, incoming: Article, sources: Mapping[str, Source]) -> bool:
    """Whether `incoming` should become the story's original instead of `existing`.

    In order: an explicit marker wins (a copy that names the other is the copy); a sighting that
    names nobody beats one that credits someone else; a source registered as an original
    publisher beats an aggregator; then the earlier publication time; a tie keeps what is stored.
    """
    if names(existing, incoming):
        return True
    if names(incoming, existing):
        return False
    existing_credits, incoming_credits = existing.attribution is not None, incoming.attribution is not None
    if existing_credits != incoming_credits:
        return existing_credits
    existing_role, incoming_role = _role(existing, sources), _role(incoming, sources)
    if existing_role != incoming_role:
        return incoming_role is SourceRole.ORIGINAL
    return incoming.published < existing.published


# --- finding the story an entry belongs to, through the store ---------------------------------

MAX_CANDIDATES = 3


def alias_key(article_id: str) -> str:
    """Index key recording that the story at `article_id`'s URL lives in another cluster."""
    return f"u#{article_id}"


@dataclass(frozen=True, slots=True)
class Cluster:
    """What the index says about an incoming story: the stored story it belongs to (if any), the
    index keys it should claim (those still free) when it is written, and `taken_over`: (key,
    story id) of claims whose story is not stored, which it claims too, on the condition that
    they are old enough to be a write that crashed, not one in progress (`store.fingerprints`)."""

    stored: StoredArticle | None
    free_keys: tuple[str, ...]
    verdict: Verdict | None = None
    taken_over: tuple[tuple[str, str], ...] = ()
    own_keys: tuple[str, ...] = ()  # claimed by this entry's own id, in an attempt that lost a race


class CandidateReader(Protocol):
    """What `find_cluster` reads: the fingerprint index and the candidate stories. Declared here,
    where it is used, so this step depends on no storage module (`store.roles.ProcessorStore`,
    and so `DynamoStore`, satisfies it)."""

    def find_fingerprints(self, keys: Sequence[str], *, now: datetime) -> dict[str, HeldClaim]: ...

    def get_article(self, article_id: str) -> StoredArticle | None: ...


def find_cluster(
    store: CandidateReader,
    incoming: Article,
    fingerprint: Fingerprint | None,
    *,
    now: datetime,
) -> Cluster:
    """The stored story `incoming` is a copy (or the original) of, looked up in the fingerprint
    index: one BatchGetItem for the keys, then one GetItem per candidate (at most
    `MAX_CANDIDATES`, most shared keys first), each verified before it is believed. A candidate
    whose claims are written and its story not (in progress, or crashed) is not one: its claims
    are taken over, a claim in progress failing that condition, and the entry reads again."""
    alias = alias_key(incoming.id)
    keys = [alias, *(fingerprint.keys if fingerprint is not None else ())]
    found = store.find_fingerprints(keys, now=now)
    # This entry's own claims (from an attempt that lost a race later on) are its to write again.
    own = tuple(key for key in keys if key != alias and key in found and found[key].story_id == incoming.id)
    free = tuple(key for key in keys if key != alias and (key not in found or key in own))
    aliased = found.get(alias)
    if aliased is not None and aliased.story_id != incoming.id:
        stored = store.get_article(aliased.story_id)
        if stored is not None:
            return Cluster(stored, free, own_keys=own)  # the same URL, merged earlier into another cluster
    votes: dict[str, int] = {}
    for key, claim in found.items():
        if key != alias and claim.story_id != incoming.id:
            votes[claim.story_id] = votes.get(claim.story_id, 0) + 1
    ranked = sorted(votes, key=lambda story_id: -votes[story_id])[:MAX_CANDIDATES]
    unwritten: list[str] = []
    for story_id in ranked:
        stored = store.get_article(story_id)
        if stored is None:
            unwritten.append(story_id)
            continue
        verdict = verify(incoming, stored.article, incoming_fingerprint=fingerprint)
        if verdict.same_story:
            return Cluster(stored, free, verdict, own_keys=own)
    held = tuple((key, claim.story_id) for key, claim in found.items() if key != alias and claim.story_id in unwritten)
    return Cluster(None, free, taken_over=held, own_keys=own)


def claims_for(cluster: Cluster, incoming: Article, story_id: str, now: datetime) -> FingerprintClaims | None:
    """The index keys to claim when `incoming` is written into story `story_id`."""
    keys = list(cluster.free_keys)
    taking_over = cluster.taken_over if story_id == incoming.id else ()
    keys.extend(key for key, _ in taking_over)
    if story_id != incoming.id:
        keys.append(alias_key(incoming.id))  # a later copy keyed by this URL finds the cluster
    return FingerprintClaims(tuple(keys), now, writer=incoming.id, taking_over=taking_over) if keys else None

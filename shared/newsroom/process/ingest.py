"""One entry into the store, exactly once, whatever order and however often it arrives.

As on the fetch side, the decision is apart from the writes: `decide` says, from the built
article and what the store holds for it, what the entry is (new, a correction, a copy, a
replay) and which write that takes; `ingest` reads, decides, writes, and on a lost race
reads and decides again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from newsroom.core.models import Article, FingerprintClaims, RawEntry, Source, StoredArticle
from newsroom.core.retry import backoff_delays
from newsroom.process.build import Decision, Outcome, ProcessingContext, build_article, merge
from newsroom.process.dedupe import claims_for, find_cluster
from newsroom.process.fingerprint import fingerprint
from newsroom.process.grouping import join_event
from newsroom.store.roles import ProcessorStore
from newsroom.store.table import ConflictError

MAX_ATTEMPTS = 6


class UnknownSourceError(ValueError):
    """An entry from a source that is not configured (fails the same way until it is added)."""


class Write(StrEnum):
    CREATE = "create"
    REPLACE = "replace"
    # An exact duplicate writes nothing, except the GUID's claim when nothing holds it yet (a
    # story stored before its GUID was claimed); read again just before, as it may have changed.
    CLAIM_GUID = "claim-guid"
    NOTHING = "nothing"


@dataclass(frozen=True, slots=True)
class IngestPlan:
    decision: Decision
    write: Write
    existing: StoredArticle | None  # the story replaced or re-claimed (its version guards the write)
    claims: FingerprintClaims | None = None  # fingerprint claims written with a new or replaced story


def identified(incoming: Article, claimed: str | None) -> Article:
    """The same entry (by GUID) under a new URL is still the story its GUID claimed."""
    return replace(incoming, id=claimed) if claimed is not None and claimed != incoming.id else incoming


def superseded(incoming: Article, stored: Article) -> bool:
    """An older version of an entry we already corrected: a replayed or late-redelivered message.

    A stored correction's `updated` is at least the time its entry was fetched (see `merge`), so
    a version neither fetched nor dated after it is older news; applying it would undo the
    correction. Ties go to what is stored, so replays cannot flip between two versions.
    """
    return max(incoming.updated, incoming.first_seen) <= stored.updated


def decide(
    incoming: Article,
    existing: StoredArticle | None,
    sources: Mapping[str, Source],
    *,
    has_guid: bool,
    claims: FingerprintClaims | None = None,
) -> IngestPlan:
    """What `incoming` is, given the story the store holds for it (by id, or the cluster its
    content belongs to), and the write that records it."""
    if existing is None:
        return IngestPlan(Decision(Outcome.CREATED, incoming), Write.CREATE, None, claims)
    decision = merge(existing.article, incoming, sources)
    if decision.outcome is Outcome.UPDATED and superseded(incoming, existing.article):
        decision = Decision(Outcome.UNCHANGED, existing.article)
    if decision.outcome is Outcome.UNCHANGED:
        return IngestPlan(decision, Write.CLAIM_GUID if has_guid else Write.NOTHING, existing)
    return IngestPlan(decision, Write.REPLACE, existing, claims)


def _apply(store: ProcessorStore, plan: IngestPlan, guid: tuple[str, str] | None) -> None:
    """The plan's write; raises ConflictError when another writer got there first. Fingerprint
    claims come first, each apart (`store.fingerprints`): a story is never stored without them."""
    if plan.write is Write.CREATE:
        store.claim_fingerprints(plan.decision.article.id, plan.claims)
        store.create_article(plan.decision.article, guid=guid)
    elif plan.write is Write.REPLACE and plan.existing is not None:
        store.claim_fingerprints(plan.decision.article.id, plan.claims)
        store.replace_article(plan.existing, plan.decision.article, guid=guid)
    elif (
        plan.write is Write.CLAIM_GUID
        and guid is not None
        and plan.existing is not None
        and store.story_for_guid(*guid) is None
    ):
        store.claim_guid(guid[0], guid[1], plan.existing.article.id)


def ingest(entry: RawEntry, store: ProcessorStore, ctx: ProcessingContext) -> Decision:
    """Store one entry exactly once, whatever order and however often it arrives."""
    if entry.source_id not in ctx.sources:
        raise UnknownSourceError(f"entry from unknown source {entry.source_id!r}")
    incoming = build_article(entry, ctx)
    guid = (entry.source_id, entry.guid) if entry.guid else None
    if guid is not None:
        incoming = identified(incoming, store.story_for_guid(*guid))
    content_fingerprint = fingerprint(incoming.content_text)
    # A conflict means another writer won (the same story, or a story of the same source: its
    # count is in the transaction too); jittered backoff, so two processors do not collide again.
    for _ in backoff_delays(MAX_ATTEMPTS, base=0.02, cap=0.5):
        existing = store.get_article(incoming.id)
        claims = None
        own: tuple[str, ...] = ()
        if existing is None:
            # No story under this URL: a copy that names nothing is found by its content.
            cluster = find_cluster(store, incoming, content_fingerprint, now=ctx.now)
            existing = cluster.stored
            own = cluster.own_keys
            claims = claims_for(cluster, incoming, existing.article.id if existing else incoming.id, ctx.now)
        plan = decide(incoming, existing, ctx.sources, has_guid=guid is not None, claims=claims)
        try:
            _apply(store, plan, guid)
            if own and plan.claims is None and plan.existing is not None:
                # A write that lost a race left claims under this entry's own id, and the entry
                # turned out to change nothing (the story's copies full, say): they go to the
                # story it belongs to, as a write would have taken them, not left naming a story
                # that is never stored.
                store.claim_fingerprints(plan.existing.article.id, FingerprintClaims(own, ctx.now, writer=incoming.id))
        except ConflictError:
            continue  # someone else wrote the story meanwhile: read it again and re-decide
        if ctx.events is not None and joins_event(plan):
            # After the story's own write, in a transaction of its own: a crash between the two
            # leaves a story with no event, which the redelivered message joins (`joins_event`).
            # Such a crash may also have come before the new story's listing entries (written
            # after its transaction: `store.stories`), so a story found without an event is
            # listed again first. (With events off, a mode only tests use, nothing marks a story
            # unlisted, and a crash there leaves it so.)
            if plan.write is not Write.CREATE:
                store.list_story(plan.decision.article.id)
            joined = join_event(store, plan.decision.article, now=ctx.now, limits=ctx.events)
            return _reported(plan, completed=not joined.replay)
        return plan.decision
    raise ConflictError(f"story {incoming.id} kept changing; giving up for a retry")


def _reported(plan: IngestPlan, *, completed: bool) -> Decision:
    """The outcome a delivery reports once its join is done. A delivery of a story's own entry
    that finds the story stored and never joined (its first delivery died between the story's
    transaction and its join) and joins it reports it created: the dead delivery reported
    nothing, and the story is counted once. Left as it was: two deliveries of one entry racing
    before either joined report it created twice (rare: SQS's at-least-once or a repeated entry
    within seconds), and a crashed creation completed by another site's copy is reported by no
    delivery (README, "make soak")."""
    if plan.decision.outcome is Outcome.UNCHANGED and completed:
        return Decision(Outcome.CREATED, plan.decision.article)
    return plan.decision


def joins_event(plan: IngestPlan) -> bool:
    """A new story joins its event; so does one stored without an event (a crash after its write,
    or stored before events existed). A copy credited to a story is that story, already in one."""
    if plan.write is Write.CREATE:
        return True
    return plan.existing is not None and plan.existing.event_id is None


def ingest_many(entries: Sequence[RawEntry], store: ProcessorStore, ctx: ProcessingContext) -> Counter[str]:
    return Counter(ingest(entry, store, ctx).outcome.value for entry in entries)

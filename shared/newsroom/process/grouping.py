"""A new story joins its event (issue 17): read the lookup index for its keys, decide against the
stories found there (`events.same_event`), and write the join (its lookup items, then one
transaction: `store.events`).

`plan_join` decides without I/O; `join_event` reads, decides and writes, and on a lost race, or
on finding a join in progress (`pending`), reads and decides again. The decision is pairwise and
symmetric, and a story joins every event it ties with (the older one keeps its id, the others
redirect to it), so the events are the connected components of the "same event" relation
whatever order the stories arrive in.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from newsroom.core.config import DEFAULT_EVENT_LIMITS, EventLimits
from newsroom.core.events import MAX_OUTLETS, MAX_SHOWN_MEMBERS, MAX_TIES, Event, EventMember
from newsroom.core.models import Article
from newsroom.core.retry import backoff_delays
from newsroom.process.events import EventSignature, compare, compared_signature, encode, lookup_keys, signature, tie
from newsroom.store.events import IndexEntry, JoinWrite, KeyIndex, StoredEvent, StoryEvent
from newsroom.store.roles import EventWriter
from newsroom.store.table import ConflictError

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6


@dataclass(frozen=True, slots=True)
class Joined:
    event: Event
    merged: tuple[str, ...] = ()  # ids of the events folded into it by this story
    replay: bool = False  # the story had joined already: nothing was written


MAX_MERGES = 20  # events one join folds in: 6 + 3 a merge stays under 100 actions (lookup items apart)


def member_of(article: Article) -> EventMember:
    # Whole seconds, as the event item stores times (`iso`): the "top" listing's sort key is
    # computed from the event, and one computed from an unstored sub-second time never matched
    # the key it had written, so its entry was never deleted.
    return EventMember(
        story_id=article.id,
        source_id=article.source_id,
        source_name=article.source_name,
        title=article.title,
        url=article.canonical_url,
        published=article.published.replace(microsecond=0),
    )


def _combined(base: Event, others: Sequence[Event], member: EventMember, ties: Sequence[str]) -> Event:
    members = {m.story_id: m for event in (base, *others) for m in event.members}
    members[member.story_id] = member
    ordered = sorted(members.values(), key=lambda m: (m.published, m.story_id))
    outlets = list(dict.fromkeys([o for event in (base, *others) for o in event.outlets] + [member.source_id]))
    tie_counts = Counter({t: MAX_TIES - i for event in (base, *others) for i, t in enumerate(event.ties)})
    tie_counts.update(ties)
    created = min([e.created for e in (base, *others)] + [member.published])
    updated = max([e.updated for e in (base, *others)] + [member.published])
    lead = ordered[0].story_id
    return replace(
        base,
        created=created,
        updated=updated,
        lead_story_id=lead,
        members=tuple(ordered[:MAX_SHOWN_MEMBERS]),
        member_count=sum(e.member_count for e in (base, *others)) + 1,
        outlets=tuple(outlets[:MAX_OUTLETS]),
        ties=tuple(t for t, _ in tie_counts.most_common(MAX_TIES)),
    )


def _pruned(entries: Sequence[IndexEntry], per_key: int) -> tuple[IndexEntry, ...]:
    """A lookup item's newest `per_key` entries, newest first (by publication). Nothing is
    dropped for age: pruning by age relative to the newest entry made a late-arriving story (a
    backfill) miss the reports published near it, and the pairwise rule's own window keeps old
    entries from tying anyway. The item itself lapses `window` after its last write (TTL)."""
    return tuple(sorted(entries, key=lambda e: (e.published, e.story_id), reverse=True)[:per_key])


def candidates_of(
    indexes: Mapping[str, KeyIndex], article: Article, limits: EventLimits = DEFAULT_EVENT_LIMITS
) -> tuple[IndexEntry, ...]:
    """The stories under a new story's lookup keys, the `max_candidates` published closest to
    it (a backfilled story keeps the reports of its own days)."""
    found = {e.story_id: e for index in indexes.values() for e in index.entries if e.story_id != article.id}
    closest = sorted(found.values(), key=lambda e: (abs(e.published - article.published), e.story_id))
    return tuple(closest[: limits.max_candidates])


def plan_join(
    article: Article,
    sig: EventSignature,
    keys: Sequence[str],
    indexes: Mapping[str, KeyIndex],
    signatures: Mapping[str, StoryEvent],
    events: Mapping[str, StoredEvent],
    *,
    now: datetime,
    limits: EventLimits = DEFAULT_EVENT_LIMITS,
) -> JoinWrite:
    """The event `article` belongs to and every item its join changes.

    `indexes`: the lookup items of `keys` as read; `signatures`: the candidates' event items
    (story id → the event it joined and its signature); `events`: each event id they name → the
    live event it ends at (merges followed)."""
    matched: dict[str, StoredEvent] = {}
    ties: list[str] = []
    compared = compare(sig)  # once, for every candidate
    for entry in sorted(candidates_of(indexes, article, limits), key=lambda e: e.story_id):
        joined = signatures.get(entry.story_id)
        if joined is None:
            continue  # its event item expired: the story is gone for grouping
        found = tie(compared, compared_signature(joined.signature))
        # The story's own item keeps the id it joined, and merges are followed from it; the
        # lookup entry's id, re-pointed when its event merges (in the items that join touched),
        # serves when that chain is longer than the hops followed. The entry is written before
        # its join's transaction, which a crash can stop: a re-pointing it names may never have
        # happened, so it comes second.
        stored = events.get(joined.event_id) or events.get(entry.event_id)
        if found is None or stored is None:
            continue  # not the same event, or its event is gone
        matched[stored.event.id] = stored
        ties.extend(found.terms)
    member = member_of(article)
    # The oldest events, at most 1 + MAX_MERGES of them: TransactWriteItems takes 100 actions.
    # Any beyond are folded in by a later story that ties with them.
    ordered = sorted(matched.values(), key=lambda s: (s.event.created, s.event.id))[: 1 + MAX_MERGES]
    if ordered:
        winner, losers = ordered[0], tuple(ordered[1:])
        event = _combined(winner.event, [s.event for s in losers], member, ties)
        previous: StoredEvent | None = winner
    else:
        losers = ()
        previous = None
        event = Event(
            id=article.id,
            created=member.published,
            updated=member.published,
            lead_story_id=article.id,
            members=(member,),
            member_count=1,
            outlets=(article.source_id,),
        )
    folded = {s.event.id for s in losers}
    window = timedelta(hours=limits.window_hours)
    # Its times in whole seconds, as stored: a retry then finds its entry as it would write it,
    # and does not write the item again (`EventItems._write_lookup_items`).
    mine = IndexEntry(
        article.id, event.id, article.published.replace(microsecond=0), written=now.replace(microsecond=0)
    )
    changed = []
    for key in keys:
        before = indexes.get(key) or KeyIndex(key, 0, ())
        kept = [replace(e, event_id=event.id) if e.event_id in folded else e for e in before.entries]
        kept = [e for e in kept if e.story_id != article.id] + [mine]
        changed.append((before, KeyIndex(key, before.version, _pruned(kept, limits.per_key))))
    return JoinWrite(
        story_id=article.id,
        signature=encode(sig),
        event=event,
        previous=previous,
        merged=losers,
        indexes=tuple(changed),
        expires_at=int((now + window).timestamp()),
        # As a story is kept: retention after the later of its publication and now (the
        # processor's clock), so a backfilled story's event is never stored already expired.
        kept_until=int((max(article.published, now) + timedelta(days=limits.retention_days)).timestamp()),
    )


def pending(
    candidates: Sequence[IndexEntry],
    signatures: Mapping[str, StoryEvent],
    *,
    now: datetime,
    limits: EventLimits = DEFAULT_EVENT_LIMITS,
) -> tuple[str, ...]:
    """The candidates whose joins are in progress: their lookup entries are written and their
    signatures not yet (`store.events`). A story that ties with one of them and joined now would
    start an event of its own beside the one that join is writing, so it waits; an entry older
    than `limits.pending_seconds` is a join that crashed, and is passed over as an expired one is."""
    since = now - timedelta(seconds=limits.pending_seconds)
    return tuple(
        e.story_id for e in candidates if e.story_id not in signatures and e.written is not None and e.written > since
    )


def join_event(
    store: EventWriter, article: Article, *, now: datetime, limits: EventLimits = DEFAULT_EVENT_LIMITS
) -> Joined:
    """Put a stored story in its event, exactly once; a replay finds it joined and writes nothing."""
    sig = signature(article)
    keys = tuple(dict.fromkeys(lookup_keys(sig, limits.lookup_keys)))  # one item once per transaction
    write: JoinWrite | None = None
    for attempt in backoff_delays(MAX_ATTEMPTS, base=0.02, cap=0.5):
        if attempt:  # a lost race: the other writer may have been this very story (a redelivery)
            joined = store.story_signatures([article.id]).get(article.id)  # strongly consistent
            if joined is not None and write is not None:  # write: the attempt that lost
                event = store.get_event(joined.event_id)
                return Joined(event if event is not None else write.event, replay=True)
        # Stale at first is safe: see `EventItems.read_event_index`. Read again, it must not be:
        # a join in progress found once is waited for until its signature is seen.
        indexes = store.read_event_index(keys, consistent=attempt > 0)
        candidates = candidates_of(indexes, article, limits)
        signatures = store.story_signatures([e.story_id for e in candidates]) if candidates else {}
        waiting = pending(candidates, signatures, now=now, limits=limits)
        if waiting:
            logger.info("story %s waits for the joins of %s", article.id, ", ".join(waiting))
            continue
        named = {j.event_id for j in signatures.values()} | {e.event_id for e in candidates}
        events = store.get_events(sorted(named), consistent=True) if named else {}
        write = plan_join(article, sig, keys, indexes, signatures, events, now=now, limits=limits)
        # Listed for `listing_days`, never past the event's own expiry (a short retention).
        listing_expires = min(int((now + timedelta(days=limits.listing_days)).timestamp()), write.kept_until)
        try:
            store.apply_join(write, listing_expires_at=listing_expires)
        except ConflictError:
            continue
        return Joined(write.event, tuple(s.event.id for s in write.merged))
    raise ConflictError(f"story {article.id} could not join its event; giving up for a retry")

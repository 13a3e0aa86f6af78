"""Events: independent reports of one real-world event (issue 17), as the processor keeps them
and the API shows them. A story (an article and its copies) belongs to at most one event.

An event's id is the id of the story that started it. When a story ties two events together,
the older event (the earlier `created`, then the smaller id) takes the other's members and the
other keeps only `merged_into`, so a link to it still resolves.

`top_score` is the "top" ranking (README, Events): distinct outlets, discounted by age without
ever changing after the fact, as Reddit's "hot" rank does:

    score = log2(outlets) + created / TOP_HALF_DAY

`created` in epoch seconds, TOP_HALF_DAY = 43,200 s: doubling the outlets that cover an event is
worth twelve hours of recency. The score changes only when an outlet joins, so the "top"
listing is kept as a sort key written when a member joins, and a page of it is one Query.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from newsroom.core.models import iso, parse_iso

TOP_HALF_DAY = 43_200.0
# Members an event item keeps for display and the API (the earliest first); the count and the
# outlets stay exact beyond it. 40 members of about 300 bytes keep the item near 12 KB.
MAX_SHOWN_MEMBERS = 40
# Members a listing entry keeps (`/events` pages are served from the entries alone, one Query):
# the earliest eight, lead first; `member_count` and `outlets` stay whole.
MAX_LISTED_MEMBERS = 8
MAX_OUTLETS = 200
MAX_TIES = 8


@dataclass(frozen=True, slots=True)
class EventMember:
    story_id: str
    source_id: str
    source_name: str
    title: str
    url: str
    published: datetime


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    created: datetime  # the earliest member's publication time
    updated: datetime  # the latest member's publication time
    lead_story_id: str  # the first report (the earliest member)
    members: tuple[EventMember, ...]  # up to MAX_SHOWN_MEMBERS, earliest first
    member_count: int
    outlets: tuple[str, ...]  # the distinct source ids among the members
    ties: tuple[str, ...] = ()  # the terms and entities that tied the members, most shared first
    merged_into: str | None = None

    @property
    def coverage(self) -> int:
        return len(self.outlets)

    def others(self, story_id: str) -> tuple[EventMember, ...]:
        """ "Also reported by": every member shown but the story itself."""
        return tuple(m for m in self.members if m.story_id != story_id)

    @property
    def lead(self) -> EventMember | None:
        return next((m for m in self.members if m.story_id == self.lead_story_id), None)


def top_score(event: Event) -> float:
    return math.log2(max(1, event.coverage)) + event.created.timestamp() / TOP_HALF_DAY


def member_to_doc(member: EventMember) -> dict[str, Any]:
    return {
        "story_id": member.story_id,
        "source_id": member.source_id,
        "source_name": member.source_name,
        "title": member.title,
        "url": member.url,
        "published": iso(member.published),
    }


def member_from_doc(doc: dict[str, Any]) -> EventMember:
    return EventMember(
        story_id=str(doc["story_id"]),
        source_id=str(doc["source_id"]),
        source_name=str(doc["source_name"]),
        title=str(doc["title"]),
        url=str(doc["url"]),
        published=parse_iso(str(doc["published"])),
    )


def event_to_doc(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "created": iso(event.created),
        "updated": iso(event.updated),
        "lead_story_id": event.lead_story_id,
        "members": [member_to_doc(m) for m in event.members],
        "member_count": event.member_count,
        "outlets": list(event.outlets),
        "ties": list(event.ties),
        "merged_into": event.merged_into,
    }


def event_from_doc(doc: dict[str, Any]) -> Event:
    return Event(
        id=str(doc["id"]),
        created=parse_iso(str(doc["created"])),
        updated=parse_iso(str(doc["updated"])),
        lead_story_id=str(doc["lead_story_id"]),
        members=tuple(member_from_doc(m) for m in doc.get("members", [])),
        member_count=int(doc["member_count"]),
        outlets=tuple(str(o) for o in doc.get("outlets", [])),
        ties=tuple(str(t) for t in doc.get("ties", [])),
        merged_into=doc.get("merged_into"),
    )

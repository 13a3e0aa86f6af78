"""What a source's entries looked like when they were last queued: 8-byte digests kept in the
source's state (`SourceState.seen`), so a poll queues only new or changed entries, and a body
digest, so a 200 with the very body parsed last time counts as a 304.

Pure functions over bytes and entries: `poll.decide` uses them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from newsroom.core.codec import entry_to_message
from newsroom.core.models import RawEntry

SEEN_MAX = 300  # digests kept per source at most: 2.4 KB, the state item stays under 4 KB
SEEN_MIN = 50  # ...and at least this many, so an entry that drops out and comes back is known
DIGEST_BYTES = 8  # per entry: blake2b-32 of its name + blake2b-32 of its content
_HALF = DIGEST_BYTES // 2
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def entry_digest(entry: RawEntry) -> bytes:
    """8 bytes for an entry: 4 naming it (GUID, else link) and 4 for its content, i.e. the queue
    message minus the fetch time, so any change the processor could see (title, body, link,
    dates, tags...) is a new content half. Kept per name, the latest version wins, so a
    correction *and* a correction undone are both queued. A new entry is skipped only if both
    halves collide with one remembered entry (~2^-64 per entry and remembered entry)."""
    message = entry_to_message(replace(entry, fetched_at=_EPOCH))
    name = hashlib.blake2b(f"{entry.guid or ''}\n{entry.link}".encode(), digest_size=_HALF).digest()
    return name + hashlib.blake2b(message.encode(), digest_size=_HALF).digest()


def body_digest(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=DIGEST_BYTES).hexdigest()


def records(seen: bytes) -> list[bytes]:
    """The digests `seen` holds, newest first."""
    return [seen[i : i + DIGEST_BYTES] for i in range(0, len(seen), DIGEST_BYTES)]


def fresh_entries(entries: Sequence[RawEntry], seen: bytes) -> tuple[list[RawEntry], bytes]:
    """The entries that are new or changed since they were last queued, and the digests to
    remember once they are: this document's (in order, up to SEEN_MAX), then older ones whose
    name is not in the document, up to max(SEEN_MIN, 2 x the document's entries)."""
    remembered = records(seen)
    latest: dict[bytes, bytes] = {}
    for record in reversed(remembered):  # newest first in `seen`: the first record of a name wins
        latest[record[:_HALF]] = record[_HALF:]
    fresh: list[RawEntry] = []
    current: dict[bytes, bytes] = {}
    for entry in entries:
        digest = entry_digest(entry)
        name, content = digest[:_HALF], digest[_HALF:]
        if latest.get(name) != content and current.get(name) != content:
            fresh.append(entry)
        current.setdefault(name, content)
    keep = min(SEEN_MAX, max(SEEN_MIN, 2 * len(current)))
    merged = [name + content for name, content in current.items()]
    merged.extend(r for r in remembered if r[:_HALF] not in current)
    return fresh, b"".join(merged[:keep])


def owed_digest(entry: RawEntry) -> bytes:
    """What is remembered for an entry queued with its feed excerpt while its full text is owed
    (`fulltext`'s page budget was spent): its name, and its content half inverted. The next poll
    finds the entry changed (so offers it again) and, by this mark, owed."""
    digest = entry_digest(entry)
    return digest[:_HALF] + bytes(b ^ 0xFF for b in digest[_HALF:])


def with_owed(seen: bytes, owed: Sequence[RawEntry]) -> bytes:
    """`seen` with the records of `owed` entries replaced by their owed marks."""
    marks = {d[:_HALF]: d for d in map(owed_digest, owed)}
    return b"".join(marks.get(r[:_HALF], r) for r in records(seen))

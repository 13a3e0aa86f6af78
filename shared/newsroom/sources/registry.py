"""Which sources exist: the registry (the `SOURCES` partition in DynamoDB, seeded from the repo's
sources file) and, for the processor and the API, the file merged with the registry.

`seed_sources` skips the work when the file has not changed since the last seed, so the
dispatcher can call `registry_sources` on every tick.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from newsroom.core.config import load_sources
from newsroom.core.models import Source
from newsroom.store.roles import RegistrySeeding, SourceRegistry

logger = logging.getLogger(__name__)

KNOWN_SOURCES_TTL_SECONDS = 60.0


def registry_sources(store: RegistrySeeding, seed: Sequence[Source] | None = None) -> list[Source]:
    """Every source in the registry, after seeding it from the sources file when that changed."""
    store.seed_sources(tuple(seed) if seed is not None else load_sources())
    return list(store.list_sources())


_lock = threading.Lock()
# (monotonic time, the store it was read from, the file's sources, the merged result)
_cache: tuple[float, object, tuple[Source, ...], tuple[Source, ...]] | None = None


def known_sources(store: SourceRegistry | None, *, max_age: float = KNOWN_SOURCES_TTL_SECONDS) -> tuple[Source, ...]:
    """The sources file merged with the registry (the registry wins), cached for `max_age`
    seconds per process: a source added with the admin command is known to the processor
    within a minute, without a registry read per message. Falls back to the file alone when
    the registry cannot be read. A new store or sources file (tests, `runtime.reset()`)
    invalidates the cache."""
    global _cache
    file_sources = load_sources()
    with _lock:
        cached = _cache
    if (
        cached is not None
        and cached[1] is store
        and cached[2] is file_sources
        and time.monotonic() - cached[0] < max_age
    ):
        return cached[3]
    merged = {s.id: s for s in file_sources}
    if store is not None:
        try:
            merged.update({s.id: s for s in store.list_sources()})
        except Exception:  # the file's sources keep the processor working
            logger.exception("cannot read the source registry; using the sources file")
    result = tuple(merged.values())
    with _lock:
        _cache = (time.monotonic(), store, file_sources, result)
    return result

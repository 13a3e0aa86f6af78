"""What each stage may ask of the store: one interface per role, sized to its callers.

A role sees the item families its function's IAM role reads and writes (`keys.READS`,
`keys.WRITES`; tests/store/test_roles.py holds each protocol to them), so a signature says what
a stage touches and a test double implements only that. `DynamoStore` satisfies every one.
Small read interfaces several roles share (`StoryReader`, `SourceRegistry`, `SourceStates`,
`PriceBoard`, `RegistrySeeding`) are declared once and inherited.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from newsroom.core.events import Event
from newsroom.core.models import (
    Article,
    FingerprintClaims,
    HeldClaim,
    Page,
    Price,
    ProviderHealth,
    Source,
    SourceState,
    StoredArticle,
)
from newsroom.store.cursor import CursorCodec
from newsroom.store.events import JoinWrite, KeyIndex, StoredEvent, StoryEvent
from newsroom.store.rejects import Reject
from newsroom.store.subscriptions import Subscription

# -- shared reads -------------------------------------------------------------------------------


@runtime_checkable
class StoryReader(Protocol):
    def get_article(self, article_id: str) -> StoredArticle | None: ...


@runtime_checkable
class SourceRegistry(Protocol):
    """The registry, read: `known_sources` (the processor, the API) and the dispatcher."""

    def list_sources(self) -> list[Source]: ...


@runtime_checkable
class RegistrySeeding(SourceRegistry, Protocol):
    def seed_sources(self, sources: Sequence[Source]) -> int: ...


@runtime_checkable
class SourceStates(Protocol):
    def get_source_states(self, source_ids: Sequence[str]) -> dict[str, SourceState]: ...


@runtime_checkable
class SubscriptionReader(Protocol):
    """WebSub subscriptions, read: the fetcher (renewal, the safety-net schedule) and `/sources`.
    Never their secrets: those are `SubscriberStore`'s and `CallbackStore`'s alone."""

    def get_subscriptions(self, source_ids: Sequence[str]) -> dict[str, Subscription]: ...


@runtime_checkable
class PriceBoard(Protocol):
    def get_price_board(self) -> tuple[list[Price], dict[str, ProviderHealth]]: ...


# -- the roles ----------------------------------------------------------------------------------


@runtime_checkable
class EventResolver(Protocol):
    """Events by id, merges followed, and which event stories joined (issue 17)."""

    def get_event(self, event_id: str) -> Event | None:
        """The event, or the one it was merged into."""

    def get_events(self, event_ids: Sequence[str], *, consistent: bool = False) -> dict[str, StoredEvent]: ...

    def story_event_ids(self, story_ids: Sequence[str]) -> dict[str, str]: ...


@runtime_checkable
class EventReader(EventResolver, Protocol):
    """Events as readers see them: the "top" and "latest" listings too."""

    def list_events(self, listing: str, *, limit: int, cursor: str | None) -> Page[Event]: ...


@runtime_checkable
class EventWriter(EventResolver, Protocol):
    """The processor's side of events: the lookup index and the join transaction."""

    def read_event_index(self, keys: Sequence[str], *, consistent: bool = True) -> dict[str, KeyIndex]: ...

    def story_signatures(self, story_ids: Sequence[str]) -> dict[str, StoryEvent]: ...

    def apply_join(self, write: JoinWrite, *, listing_expires_at: int) -> None: ...


@runtime_checkable
class ProcessorStore(StoryReader, EventWriter, Protocol):
    """Stories, GUID claims and fingerprints: what `ingest` reads and writes for one entry."""

    def find_fingerprints(self, keys: Sequence[str], *, now: datetime) -> dict[str, HeldClaim]: ...

    def claim_fingerprints(self, story_id: str, claims: FingerprintClaims | None) -> None: ...

    def story_for_guid(self, source_id: str, guid: str) -> str | None: ...

    def claim_guid(self, source_id: str, guid: str, article_id: str) -> None: ...

    def create_article(self, article: Article, *, guid: tuple[str, str] | None) -> None: ...

    def list_story(self, article_id: str) -> bool: ...

    def replace_article(
        self,
        previous: StoredArticle,
        article: Article,
        *,
        guid: tuple[str, str] | None,
    ) -> None: ...


@runtime_checkable
class FetcherStore(SourceStates, Protocol):
    """Each source's fetch state: validators, digests, health, next poll."""

    def put_source_state(self, state: SourceState) -> None: ...


@runtime_checkable
class SubscriberStore(SubscriptionReader, Protocol):
    """The fetcher as a WebSub subscriber: asks hubs, renews leases, ends subscriptions; reads a
    batch's subscriptions with its source states."""

    def get_subscription(self, source_id: str) -> Subscription | None: ...

    def get_source_states_and_subscriptions(
        self, source_ids: Sequence[str]
    ) -> tuple[dict[str, SourceState], dict[str, Subscription]]: ...

    def put_subscription(self, sub: Subscription) -> None: ...

    def get_hub_secret(self, source_id: str) -> str | None: ...

    def put_hub_secret(self, source_id: str, secret: str) -> None: ...


@runtime_checkable
class CallbackStore(SourceRegistry, SourceStates, Protocol):
    """The WebSub callback: the subscription a hub calls about, its secret, the source's settings
    (a delivery for a source disabled or removed is not used), and the seen digests a delivery is
    filtered by (written back alone, never the fetcher's whole state)."""

    def get_subscription(self, source_id: str) -> Subscription | None: ...

    def get_hub_secret(self, source_id: str) -> str | None: ...

    def put_subscription(self, sub: Subscription) -> None: ...

    def put_seen(self, source_id: str, seen: bytes) -> None: ...


@runtime_checkable
class DispatcherStore(RegistrySeeding, Protocol):
    """The registry (seeded from the sources file), the states it reads due times from, and the
    dispatcher's clock."""

    def all_source_states(self, source_ids: Sequence[str]) -> dict[str, SourceState]:
        """`get_source_states` of every source at once (one Query of the states' partition)."""
        ...

    def get_dispatch_clock(self) -> datetime | None: ...

    def put_dispatch_clock(self, moment: datetime) -> None: ...


@runtime_checkable
class ApiStore(StoryReader, SourceRegistry, SourceStates, SubscriptionReader, PriceBoard, EventReader, Protocol):
    """Read only: listings, stories, prices and sources (with their states, subscriptions and
    story counts)."""

    def get_articles(self, article_ids: Sequence[str]) -> list[Article]: ...

    def list_articles(
        self, listing: str, *, limit: int, cursor: str | None, since: datetime | None = None
    ) -> Page[Article]: ...

    def source_story_counts(self, source_ids: Sequence[str]) -> dict[str, int]: ...

    def get_source_states_and_subscriptions(
        self, source_ids: Sequence[str]
    ) -> tuple[dict[str, SourceState], dict[str, Subscription]]:
        """`/sources`: the states and subscriptions (never their secrets) in one BatchGetItem."""
        ...

    def get_prices(self) -> list[Price]: ...

    def cursor_codec(self) -> CursorCodec:
        """The codec the listings' cursors are signed with (`/sources` signs its own with it)."""
        ...

    def stored_cursor_key(self) -> bytes:
        """The table's cursor key, created by the first caller (`cursor.CursorKeyItems`)."""
        ...


@runtime_checkable
class PricesStore(PriceBoard, Protocol):
    """The price board (latest prices and provider health) and the price history."""

    def put_prices(self, prices: Sequence[Price]) -> None: ...

    def put_provider_health(self, health: Sequence[ProviderHealth]) -> None: ...

    def price_near(self, pair: str, moment: datetime, tolerance: timedelta) -> Price | None: ...


@runtime_checkable
class AdminStore(RegistrySeeding, FetcherStore, SubscriberStore, Protocol):
    """The operator's tools: edit, remove and seed the registry, re-enable a source, end the
    WebSub subscription of a source disabled or removed, audit the counts."""

    def get_source(self, source_id: str) -> Source | None: ...

    def put_source(self, source: Source, *, origin: str = "admin") -> None: ...

    def delete_source(self, source_id: str) -> None: ...

    def delete_hub_secret(self, source_id: str) -> None: ...

    def count_source_articles(self, source_id: str) -> int: ...


@runtime_checkable
class RejectLog(Protocol):
    """Why a queue message failed: written by the processor, read and cleared by the replay tool."""

    def put_reject(self, reject: Reject) -> None: ...

    def get_reject(self, message_id: str) -> Reject | None: ...

    def delete_reject(self, message_id: str) -> None: ...


# Bases in an order that has one consistent method resolution order (several roles share bases).
@runtime_checkable
class Store(
    ProcessorStore,
    DispatcherStore,
    ApiStore,
    PricesStore,
    CallbackStore,
    AdminStore,
    FetcherStore,
    SubscriberStore,
    Protocol,
):
    """Every role at once: what `wiring` builds once per process and hands each stage as its role."""
